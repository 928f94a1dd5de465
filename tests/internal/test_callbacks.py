"""Time-boxed observable callbacks: one runner thread, a stuck one retired, ours inline."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

import pytest
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, MetricsData

from flext_observability._internal import callbacks
from flext_observability._internal.runtime_metrics import register_runtime_metrics


class _Reader(MetricReader):
    """Keeps the last collection (the SDK's pull reader, minus its own collect call)."""

    def __init__(self) -> None:
        super().__init__(preferred_temporality={}, preferred_aggregation={})
        self.data: MetricsData | None = None

    def _receive_metrics(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> None:
        self.data = metrics_data

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Nothing to release."""

    def values(self, timeout_millis: float = 10_000) -> dict[str, float]:
        """Collect now; the value of each metric's first point, by name."""
        self.collect(timeout_millis=timeout_millis)
        out: dict[str, float] = {}
        for resource in self.data.resource_metrics if self.data is not None else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    out[metric.name] = metric.data.data_points[0].value  # type: ignore[union-attr]
        return out


def _alive(ident: int) -> bool:
    return any(thread.ident == ident and thread.is_alive() for thread in threading.enumerate())


def _boxed_provider() -> tuple[MeterProvider, _Reader]:
    reader = _Reader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    assert callbacks.time_box(provider)
    return provider, reader


def test_every_application_callback_runs_on_one_runner_thread() -> None:
    """Ten callbacks over five collections run on one runner thread, not a thread per call."""
    provider, reader = _boxed_provider()
    threads: set[int] = set()

    def observe(_options: CallbackOptions) -> Iterable[Observation]:
        threads.add(threading.get_ident())
        return [Observation(1.0)]

    try:
        meter = provider.get_meter("app")
        for index in range(10):
            meter.create_observable_gauge(f"app.gauge.{index}", callbacks=[observe])
        for _ in range(5):
            assert len(reader.values()) == 10
        assert len(threads) == 1
        assert threading.get_ident() not in threads
        assert callbacks.runner_threads() >= 1
    finally:
        provider.shutdown()


def test_an_overrunning_callback_is_left_on_its_runner_and_joined_later(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hanging callback reports nothing; the others go on; later collections wait for it.

    The hanging call keeps the runner it is on (a new runner takes the next callbacks), a later
    collection joins that same call instead of starting another, its result counts once it
    returns, and the retired runner then ends. One warning names the instrument.
    """
    monkeypatch.setattr(callbacks, "BUDGET_S", 0.2)
    provider, reader = _boxed_provider()
    release = threading.Event()
    calls = [0]
    hanging_on: list[int] = []
    fast_on: list[int] = []

    def hanging(_options: CallbackOptions) -> Iterable[Observation]:
        calls[0] += 1
        hanging_on.append(threading.get_ident())
        release.wait(20)
        return [Observation(7.0)]

    def fast(_options: CallbackOptions) -> Iterable[Observation]:
        fast_on.append(threading.get_ident())
        return [Observation(1.0)]

    try:
        meter = provider.get_meter("app")
        meter.create_observable_gauge("app.hanging", callbacks=[hanging])
        meter.create_observable_gauge("app.fast", callbacks=[fast])
        with caplog.at_level(logging.WARNING, logger="flext_observability"):
            started = time.monotonic()
            assert reader.values() == {"app.fast": 1.0}
            assert reader.values() == {"app.fast": 1.0}
            elapsed = time.monotonic() - started
        assert elapsed < 5.0, elapsed
        assert calls[0] == 1  # joined, not started again
        (stuck,) = hanging_on
        assert set(fast_on) == {fast_on[0]} != {stuck}  # the next calls went to a new runner
        assert _alive(stuck)
        warnings = [r for r in caplog.records if "app.hanging" in r.getMessage()]
        assert len(warnings) == 1
        release.set()
        deadline = time.monotonic() + 10
        while _alive(stuck) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _alive(stuck)  # the retired runner ended once its call returned
        assert reader.values() == {"app.hanging": 7.0, "app.fast": 1.0}
        assert calls[0] == 2
        assert hanging_on[1] == fast_on[-1]  # both on the current runner again
    finally:
        release.set()
        provider.shutdown()


def test_a_raising_callback_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    """An exception in a boxed callback reaches the SDK (which logs it); the rest report."""
    provider, reader = _boxed_provider()

    def broken(_options: CallbackOptions) -> Iterable[Observation]:
        msg = "probe failed"
        raise RuntimeError(msg)

    def fast(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(2.0)]

    try:
        meter = provider.get_meter("app")
        meter.create_observable_gauge("app.broken", callbacks=[broken])
        meter.create_observable_gauge("app.fast", callbacks=[fast])
        with caplog.at_level(logging.WARNING):
            assert reader.values() == {"app.fast": 2.0}
        assert any("probe failed" in (r.exc_text or r.getMessage()) for r in caplog.records)
    finally:
        provider.shutdown()


def test_our_own_callbacks_run_inline() -> None:
    """The runtime metrics' callbacks are not boxed; an application's callback is."""
    provider, reader = _boxed_provider()

    def app(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(1.0)]

    try:
        remove = register_runtime_metrics(provider)
        provider.get_meter("app").create_observable_gauge("app.gauge", callbacks=[app])
        consumer: Any = provider._measurement_consumer  # the registered instruments
        boxed = {
            instrument.name: [isinstance(cb, callbacks._TimeBoxed) for cb in instrument._callbacks]
            for instrument in consumer._async_instruments
        }
        assert boxed.pop("app.gauge") == [True]
        assert boxed
        assert all(flags == [False] for flags in boxed.values()), boxed
        assert "process.memory.usage" in reader.values()
        remove()
    finally:
        provider.shutdown()


def test_a_forked_child_collects_through_a_new_runner() -> None:
    """After fork the parent's runner thread is gone; the child's collection starts its own."""
    provider, reader = _boxed_provider()

    def app(_options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(3.0)]

    try:
        provider.get_meter("app").create_observable_gauge("app.gauge", callbacks=[app])
        assert reader.values() == {"app.gauge": 3.0}
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit status
            ok = reader.values(timeout_millis=5000) == {"app.gauge": 3.0}
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        provider.shutdown()


def test_time_box_needs_the_sdk_hook() -> None:
    """A provider without the SDK's measurement consumer is left alone."""
    assert callbacks.time_box(object()) is False
