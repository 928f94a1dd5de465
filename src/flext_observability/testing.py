"""Test helpers, registered as a pytest plugin through the `pytest11` entry point.

The `flext_capture` fixture runs `setup()` with an in-memory entity sink and in-memory
OpenTelemetry exporters (no store, no network), and afterwards shuts it down and resets the
OpenTelemetry globals, so each test starts clean::

    def test_checkout(flext_capture):
        checkout()
        flext_capture.flush()
        assert [t.operation_name for t in flext_capture.traces] == ["checkout"]

`flext_clock` and `flext_ids` make the defaults entities draw deterministic (a `FakeClock` for
every default timestamp, counting ids for `id`, `trace_id` and `span_id`), so a test compares
whole entities instead of leaving `id` and `timestamp` out::

    def test_metric(flext_clock, flext_ids):
        assert FlextMetric(name="m", value=1.0) == FlextMetric(
            id=flext_ids.entity_id(1), timestamp=flext_clock.wall(), name="m", value=1.0
        )

The same `FakeClock` is what the `clock=` parameters of the rules engine, the health registry,
the store and the webhook sink take. `strict` turns strict mode on for one test.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.util._once import Once

from flext_observability._internal import monitor as _monitor
from flext_observability._internal import setup as _setup
from flext_observability._internal.guard import is_strict, reset_internal_errors, set_strict
from flext_observability._internal.setup import FlextObservability
from flext_observability.logs import EntityLoggingHandler
from flext_observability.models import (
    Entity,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.models._sources import REAL_SOURCES, current_sources, install_sources
from flext_observability.sinks.memory import MemorySink

__all__ = [
    "FAKE_START",
    "Capture",
    "DeterministicIds",
    "FakeClock",
    "capture",
    "deterministic_ids",
    "fake_clock",
    "flext_capture",
    "flext_clock",
    "flext_ids",
    "flext_strict",
    "reset_opentelemetry_globals",
    "strict_mode",
]

E = TypeVar("E", bound=Entity)

FAKE_START = datetime(2025, 1, 1, tzinfo=UTC)
"""Where a `FakeClock` stands unless told otherwise."""


class FakeClock:
    """A clock that moves only when the test moves it.

    `clock()` returns `clock.now`, in seconds: pass the clock wherever a `clock=` is taken (rules
    engine, health registry, store, webhook sink). `clock.wall()` is the matching aware-UTC
    datetime: `start` plus the seconds moved since. By default `now` starts at the epoch seconds
    of `start`, so `wall()` is `datetime.fromtimestamp(now, UTC)`; give `seconds=` to count from
    another origin (0.0 for a monotonic-style clock). Installed with `fake_clock()` or the
    `flext_clock` fixture, it is also the time entities get when built without one.
    """

    def __init__(self, start: datetime = FAKE_START, *, seconds: float | None = None) -> None:
        """Stand at `start` (aware; naive is taken as UTC), reading `seconds` (default: epoch)."""
        self.start = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
        self.origin = self.start.timestamp() if seconds is None else float(seconds)
        self.now = self.origin

    def __call__(self) -> float:
        """Return the current fake time in seconds."""
        return self.now

    def wall(self) -> datetime:
        """Return the current fake time as an aware UTC datetime."""
        return self.start + timedelta(seconds=self.now - self.origin)

    def advance(self, seconds: float) -> datetime:
        """Move forward (or back, if negative) by `seconds`; return the new wall time."""
        self.now += seconds
        return self.wall()

    def __repr__(self) -> str:
        """Show where the clock stands."""
        return f"FakeClock({self.wall().isoformat()}, now={self.now!r})"


class DeterministicIds(IdGenerator):
    """Counting ids: the n-th entity id, trace id and span id drawn are known in advance.

    Each kind counts from 1 on its own: entity ids read `entity-0001`, trace ids and span ids are
    `n` in 32 and 16 hex digits (valid W3C ids). As an OpenTelemetry `IdGenerator` it gives
    an SDK `TracerProvider(id_generator=...)` the same trace and span ids.
    """

    def __init__(self) -> None:
        """Start every counter at 1."""
        self._entities = itertools.count(1)
        self._traces = itertools.count(1)
        self._spans = itertools.count(1)

    @staticmethod
    def entity_id(n: int) -> str:
        """The `n`-th entity id drawn (1-based)."""
        return f"entity-{n:04d}"

    @staticmethod
    def trace_id(n: int) -> str:
        """The `n`-th trace id drawn (1-based), as 32 hex digits."""
        return f"{n:032x}"

    @staticmethod
    def span_id(n: int) -> str:
        """The `n`-th span id drawn (1-based), as 16 hex digits."""
        return f"{n:016x}"

    def next_entity_id(self) -> str:
        """Draw the next entity id."""
        return self.entity_id(next(self._entities))

    def next_trace_id(self) -> str:
        """Draw the next trace id."""
        return self.trace_id(next(self._traces))

    def next_span_id(self) -> str:
        """Draw the next span id."""
        return self.span_id(next(self._spans))

    def generate_trace_id(self) -> int:
        """Draw the next trace id as the SDK wants it (an int)."""
        return next(self._traces)

    def generate_span_id(self) -> int:
        """Draw the next span id as the SDK wants it (an int)."""
        return next(self._spans)


@contextmanager
def fake_clock(clock: FakeClock | None = None) -> Iterator[FakeClock]:
    """Within the block, entities built without a time get `clock.wall()`; restored after."""
    clock = FakeClock() if clock is None else clock
    previous = install_sources(replace(current_sources(), now=clock.wall))
    try:
        yield clock
    finally:
        install_sources(previous)


@contextmanager
def deterministic_ids(ids: DeterministicIds | None = None) -> Iterator[DeterministicIds]:
    """Within the block, default entity, trace and span ids come from `ids`; restored after."""
    ids = DeterministicIds() if ids is None else ids
    previous = install_sources(
        replace(
            current_sources(),
            entity_id=ids.next_entity_id,
            trace_id=ids.next_trace_id,
            span_id=ids.next_span_id,
        )
    )
    try:
        yield ids
    finally:
        install_sources(previous)


@contextmanager
def strict_mode(on: bool = True) -> Iterator[None]:  # noqa: FBT001, FBT002 - a plain switch
    """Within the block, internal errors are re-raised (or not, with `False`); restored after."""
    previous = is_strict()
    set_strict(on)
    try:
        yield
    finally:
        set_strict(previous)


def reset_opentelemetry_globals() -> None:
    """Forget the global tracer, meter and logger providers (OpenTelemetry sets them once)."""
    trace._TRACER_PROVIDER_SET_ONCE = Once()  # noqa: SLF001 - the only way to reset OTel
    trace._TRACER_PROVIDER = None  # noqa: SLF001
    # The API's proxies keep forwarding to the provider they first saw: replace them too.
    trace._PROXY_TRACER_PROVIDER = trace.ProxyTracerProvider()  # noqa: SLF001
    metrics_internal: Any = metrics._internal  # noqa: SLF001
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()  # noqa: SLF001
    metrics_internal._METER_PROVIDER = None  # noqa: SLF001
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()  # noqa: SLF001
    logs_internal: Any = _logs._internal  # noqa: SLF001
    logs_internal._LOGGER_PROVIDER_SET_ONCE = Once()  # noqa: SLF001
    logs_internal._LOGGER_PROVIDER = None  # noqa: SLF001
    _monitor.reset_instruments()


@dataclass
class Capture:
    """What a test recorded: entities (from a memory sink) and raw OTel spans and logs."""

    obs: FlextObservability
    sink: MemorySink
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter

    def flush(self, timeout: float = 10.0) -> bool:
        """Deliver everything recorded so far (collecting metrics too)."""
        return self.obs.force_flush(timeout)

    def of_type(self, kind: type[E]) -> list[E]:
        """Entities of one kind, in arrival order."""
        return self.sink.of_type(kind)

    @property
    def traces(self) -> list[FlextTrace]:
        """Captured `FlextTrace` entities."""
        return self.of_type(FlextTrace)

    @property
    def metrics(self) -> list[FlextMetric]:
        """Captured `FlextMetric` entities."""
        return self.of_type(FlextMetric)

    @property
    def log_entries(self) -> list[FlextLogEntry]:
        """Captured `FlextLogEntry` entities."""
        return self.of_type(FlextLogEntry)

    @property
    def alerts(self) -> list[FlextAlert]:
        """Captured `FlextAlert` entities."""
        return self.of_type(FlextAlert)

    @property
    def health_checks(self) -> list[FlextHealthCheck]:
        """Captured `FlextHealthCheck` entities."""
        return self.of_type(FlextHealthCheck)


def capture(**overrides: Any) -> Capture:
    """Run `setup()` for a test: memory sink, in-memory exporters, no store, no network.

    Keyword arguments override settings (e.g. `service_name="shop"`, `rules=[...]`).
    """
    sink = MemorySink()
    defaults: dict[str, Any] = {
        "store_enabled": False,
        "traces_exporter": (),
        "metrics_exporter": (),
        "logs_exporter": (),
        "health_enabled": False,
        "metric_export_interval_ms": 3_600_000,
    }
    defaults.update(overrides)
    rules = defaults.pop("rules", ())
    extra_sinks = defaults.pop("sinks", ())
    obs = _setup.setup(sinks=[sink, *extra_sinks], rules=rules, **defaults)
    spans = InMemorySpanExporter()
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # untyped in the SDK
    if obs.tracer_provider is not None:
        obs.tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    if obs.logger_provider is not None:
        obs.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    return Capture(obs=obs, sink=sink, spans=spans, logs=logs)


def release(cap: Capture | None = None) -> None:
    """Shut the active setup down and reset every global it touched."""
    _setup.shutdown(5.0)
    if cap is not None:
        cap.obs.shutdown(5.0)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, EntityLoggingHandler):
            root.removeHandler(handler)
    _setup._reset_for_tests()  # noqa: SLF001 - our own private reset
    reset_opentelemetry_globals()
    set_strict(False)
    reset_internal_errors()
    install_sources(REAL_SOURCES)


@pytest.fixture
def flext_capture() -> Iterator[Capture]:
    """A live `setup()` with in-memory capture; shut down and reset after the test."""
    cap = capture()
    try:
        yield cap
    finally:
        release(cap)


@pytest.fixture
def flext_clock() -> Iterator[FakeClock]:
    """A `FakeClock` at `FAKE_START`, installed as the time of entities built in the test."""
    with fake_clock() as clock:
        yield clock


@pytest.fixture
def flext_ids() -> Iterator[DeterministicIds]:
    """Counting ids (`DeterministicIds`) for entities built in the test."""
    with deterministic_ids() as ids:
        yield ids


@pytest.fixture
def flext_strict() -> Iterator[None]:
    """Strict mode on for the test (internal errors re-raised); the previous mode after."""
    with strict_mode():
        yield
