"""Test helpers, registered as a pytest plugin through the `pytest11` entry point.

The `flext_capture` fixture runs `setup()` with an in-memory entity sink and in-memory
OpenTelemetry exporters (no store, no network), and afterwards shuts it down and resets the
OpenTelemetry globals, so each test starts clean::

    def test_checkout(flext_capture):
        checkout()
        flext_capture.flush()
        assert [t.operation_name for t in flext_capture.traces] == ["checkout"]
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from flext_observability._internal import monitor as _monitor
from flext_observability._internal import setup as _setup
from flext_observability._internal.guard import reset_internal_errors, set_strict
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
from flext_observability.sinks.memory import MemorySink

__all__ = ["Capture", "capture", "flext_capture", "reset_opentelemetry_globals"]

E = TypeVar("E", bound=Entity)


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


@pytest.fixture
def flext_capture() -> Iterator[Capture]:
    """A live `setup()` with in-memory capture; shut down and reset after the test."""
    cap = capture()
    try:
        yield cap
    finally:
        release(cap)
