"""Never break the host: our hooks swallow and count internal errors; strict mode is loud."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from flext_observability._internal import guard as _guard
from flext_observability._internal.export_health import (
    ExportTracker,
    TrackedLogExporter,
    TrackedMetricExporter,
    TrackedSpanExporter,
)
from flext_observability._internal.pipeline import build_pipeline
from flext_observability.logs import EntityLoggingHandler, EntityLogRecordProcessor
from flext_observability.models import Entity, FlextTrace
from flext_observability.processors import EntitySpanProcessor
from flext_observability.readers import EntityMetricReader
from flext_observability.sinks.memory import MemorySink


class BrokenPipeline:
    """Stands in for a pipeline whose queue raises (a bug of ours)."""

    worker_ident = None

    def submit(self, kind: str, payload: Any) -> bool:
        raise RuntimeError("queue is broken")

    def start(self) -> None:
        return None

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def shutdown(self, timeout: float | None = None) -> bool:
        return True


_READERS: list[EntityMetricReader] = []


@pytest.fixture(autouse=True)
def _stop_readers() -> Iterator[None]:
    """Stop the periodic readers the hooks built (no thread outlives its test)."""
    yield
    while _READERS:
        _READERS.pop().shutdown()


def _hooks() -> list[tuple[str, Any]]:
    broken: Any = BrokenPipeline()
    processor = EntitySpanProcessor(broken)
    handler = EntityLoggingHandler(broken)
    log_processor = EntityLogRecordProcessor(broken)
    reader = EntityMetricReader(broken, interval_s=3600)
    _READERS.append(reader)
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "m", None, None)
    provider = TracerProvider(shutdown_on_exit=False)
    span = provider.get_tracer("t").start_span("s")
    span.end()
    hooks: list[tuple[str, Any]] = [
        ("span processor", lambda: processor.on_end(span)),  # type: ignore[arg-type]
        ("logging handler", lambda: handler.emit(record)),
        ("log processor", lambda: log_processor.on_emit(object())),  # type: ignore[arg-type]
        ("metric reader", lambda: reader._exporter.export(object())),  # type: ignore[arg-type]
    ]
    return hooks


def test_hooks_swallow_and_count_internal_errors(caplog: pytest.LogCaptureFixture) -> None:
    """A broken pipeline never raises into the app; each site logs once and counts."""
    _guard.reset_internal_errors()
    for _name, hook in _hooks():
        hook()
        hook()
    sites = {
        "EntitySpanProcessor.on_end",
        "EntityLoggingHandler.emit",
        "EntityLogRecordProcessor.on_emit",
        "EntityMetricReader.export",
    }
    counts = {k: v for k, v in _guard.internal_error_counts().items() if k in sites}
    assert counts == {
        "EntitySpanProcessor.on_end": 2,
        "EntityLoggingHandler.emit": 2,
        "EntityLogRecordProcessor.on_emit": 2,
        "EntityMetricReader.export": 2,
    }
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and any(site in r.getMessage() for site in sites)
    ]
    assert len(warnings) == 4
    _guard.reset_internal_errors()


@pytest.mark.usefixtures("flext_strict")
def test_strict_mode_re_raises_on_the_application_thread() -> None:
    """With FLEXT_OBSERVABILITY_STRICT the same bugs surface as exceptions."""
    for name, hook in _hooks():
        with pytest.raises(RuntimeError, match="queue is broken"):
            hook()
        assert name


class RaisingSink:
    """A sink with a bug."""

    def write(self, entities: Sequence[Entity]) -> None:
        raise ValueError("sink bug")

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        return None


@pytest.mark.usefixtures("flext_strict")
def test_the_worker_never_dies_even_in_strict_mode(caplog: pytest.LogCaptureFixture) -> None:
    """Worker-side errors are reported loudly (with traceback) but delivery continues."""
    memory = MemorySink()

    def bad_observer(batch: Sequence[Entity]) -> Sequence[Entity]:
        raise KeyError("rule bug")

    def bad_tick() -> Sequence[Entity]:
        raise KeyError("tick bug")

    pipeline = build_pipeline(
        sinks=[RaisingSink(), memory],
        observers=[bad_observer],
        tick=bad_tick,
        redact=lambda entity: entity,
        schedule_delay=0.01,
    )
    pipeline._tick_interval = 0.0
    pipeline.start()
    first, second = FlextTrace(operation_name="a"), FlextTrace(operation_name="b")
    pipeline.submit("entity", first)
    assert pipeline.flush(5)
    pipeline.submit("entity", second)
    assert pipeline.flush(5)
    assert memory.entities == [first, second]
    assert pipeline.dropped == {("entities", "sink_error"): 2}
    errors = [
        r
        for r in caplog.records
        if r.levelno == logging.ERROR and r.getMessage().startswith("flext-observability")
    ]
    assert {r.getMessage() for r in errors} >= {
        "flext-observability internal error in pipeline.observer",
        "flext-observability internal error in sink.RaisingSink",
    }
    assert all(r.exc_info for r in errors)
    pipeline.shutdown(5)


class FailingSpanExporter(SpanExporter):
    """Fails, then raises."""

    def __init__(self) -> None:
        self.calls = 0

    def export(self, spans: Any) -> SpanExportResult:
        self.calls += 1
        if self.calls > 1:
            raise ConnectionError("collector gone")
        return SpanExportResult.FAILURE


def test_export_tracking_counts_consecutive_failures_and_recovers() -> None:
    """Failures and exceptions count; a success resets the consecutive count."""
    tracker = ExportTracker()
    spans = TrackedSpanExporter(FailingSpanExporter(), tracker)
    assert spans.export([]) is SpanExportResult.FAILURE
    with pytest.raises(ConnectionError):
        spans.export([])
    assert (tracker.consecutive_failures(), tracker.total_failures) == (2, 2)

    class OkLogs(LogRecordExporter):
        def export(self, batch: Any) -> LogRecordExportResult:
            return LogRecordExportResult.SUCCESS

        def shutdown(self) -> None:
            return None

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return True

    logs = TrackedLogExporter(OkLogs(), tracker)
    assert logs.export([]) is LogRecordExportResult.SUCCESS
    assert logs.force_flush(10)
    logs.shutdown()
    assert (tracker.consecutive_failures(), tracker.total_failures) == (0, 2)

    class BadMetrics(MetricExporter):
        def export(self, metrics_data: Any, timeout_millis: float = 0, **kw: Any) -> Any:
            raise OSError("no route")

        def force_flush(self, timeout_millis: float = 0) -> bool:
            return True

        def shutdown(self, timeout_millis: float = 0, **kw: Any) -> None:
            return None

    tracked = TrackedMetricExporter(BadMetrics(), tracker)
    with pytest.raises(OSError, match="no route"):
        tracked.export(object())
    assert tracked.force_flush()
    tracked.shutdown()
    spans.shutdown()
    assert spans.force_flush()
    assert tracker.consecutive_failures() == 1
    assert isinstance(MetricExportResult.SUCCESS, MetricExportResult)


def test_hand_built_providers_accept_our_components_and_shut_down_cleanly() -> None:
    """Owned pipelines of standalone components close with their providers."""
    memory = MemorySink()
    tracer_provider = TracerProvider(shutdown_on_exit=False)
    tracer_provider.add_span_processor(EntitySpanProcessor(sinks=[memory]))
    meter_provider = MeterProvider(
        metric_readers=[EntityMetricReader(sinks=[memory], interval_s=3600)],
        shutdown_on_exit=False,
    )
    logger_provider = LoggerProvider(shutdown_on_exit=False)
    logger_provider.add_log_record_processor(EntityLogRecordProcessor(sinks=[memory]))
    with tracer_provider.get_tracer("t").start_as_current_span("closing"):
        pass
    tracer_provider.shutdown()
    meter_provider.shutdown()
    logger_provider.shutdown()
    assert [t.operation_name for t in memory.of_type(FlextTrace)] == ["closing"]
