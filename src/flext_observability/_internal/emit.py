"""Records entities created with the simple API into the live OpenTelemetry pipeline.

- a `FlextMetric` is recorded on an OTel instrument of its type (counter, gauge, histogram;
  a `summary` is recorded on a histogram);
- a `FlextTrace` becomes a real span with its own ids, times, attributes, events and status
  (the tracer provider built by `setup()` uses `EmitIdGenerator`, which hands out the entity's
  ids while the span is being created);
- a `FlextLogEntry` becomes an OTel log record correlated with its trace/span ids;
- alerts and health checks go straight to the entity pipeline (sinks, rules, notifiers).
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.metrics import Meter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    Status,
    TraceFlags,
)

from flext_observability._internal.convert.severity import severity_of_level
from flext_observability._internal.convert.trace import SPAN_KIND_OF, STATUS_CODE_OF
from flext_observability._internal.pipeline import Pipeline
from flext_observability._internal.time import datetime_to_ns
from flext_observability.models import (
    Entity,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    MetricType,
)

__all__ = ["EmitIdGenerator", "Emitter", "log_attributes"]

_FORCED_IDS: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "flext_forced_ids", default=None
)


class EmitIdGenerator(IdGenerator):
    """Random W3C ids, except while `emit()` replays a `FlextTrace` with ids of its own."""

    def __init__(self) -> None:
        """Wrap the SDK's random generator."""
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        """Return the forced span id, if any, else a random one."""
        forced = _FORCED_IDS.get()
        return forced[1] if forced is not None else self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        """Return the forced trace id, if any, else a random one."""
        forced = _FORCED_IDS.get()
        return forced[0] if forced is not None else self._random.generate_trace_id()


def log_attributes(entry: FlextLogEntry) -> dict[str, Any]:
    """The OTel log record attributes of an entry: its context, correlation id, exception."""
    attributes: dict[str, Any] = dict(entry.context)
    if entry.correlation_id is not None:
        attributes["correlation_id"] = entry.correlation_id
    if entry.exception is not None:
        attributes["exception.type"] = entry.exception.type
        attributes["exception.message"] = entry.exception.message
        attributes["exception.stacktrace"] = entry.exception.stacktrace
    return attributes


def _sampled_context(trace_id: str, span_id: str, *, remote: bool) -> Context:
    # An emitted entity was recorded on purpose: its span context counts as sampled.
    span_context = SpanContext(
        int(trace_id, 16),
        int(span_id, 16),
        is_remote=remote,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(span_context))


class Emitter:
    """Turns entities into OTel signals (or pipeline entries) for `FlextObservability.emit`."""

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        tracer_provider: TracerProvider | None,
        meter: Meter | None,
        logger_provider: LoggerProvider | None,
    ) -> None:
        """Bind the providers `setup()` built."""
        self._pipeline = pipeline
        self._tracer = (
            tracer_provider.get_tracer("flext_observability.emit") if tracer_provider else None
        )
        self._meter = meter
        self._logger_provider = logger_provider
        self._instruments: dict[tuple[str, MetricType, str], Any] = {}
        self._lock = threading.Lock()

    def emit(self, entity: Entity) -> None:
        """Record `entity` in the live pipeline (see the module docstring)."""
        if isinstance(entity, FlextMetric):
            self._metric(entity)
        elif isinstance(entity, FlextTrace):
            self._trace(entity)
        elif isinstance(entity, FlextLogEntry):
            self._log(entity)
        elif isinstance(entity, FlextAlert | FlextHealthCheck):
            self._pipeline.submit("entity", entity)
        else:
            msg = f"emit() takes a flext_observability entity, got {type(entity).__name__}"
            raise TypeError(msg)

    def _instrument(self, metric: FlextMetric) -> Any:
        key = (metric.name, metric.metric_type, metric.unit)
        with self._lock:
            instrument = self._instruments.get(key)
            if instrument is None and self._meter is not None:
                create = {
                    MetricType.COUNTER: self._meter.create_counter,
                    MetricType.GAUGE: self._meter.create_gauge,
                    MetricType.HISTOGRAM: self._meter.create_histogram,
                    MetricType.SUMMARY: self._meter.create_histogram,
                }[metric.metric_type]
                instrument = create(metric.name, unit=metric.unit)
                self._instruments[key] = instrument
            return instrument

    def _metric(self, metric: FlextMetric) -> None:
        instrument = self._instrument(metric)
        if instrument is None:
            return
        value = float(metric.value)
        attributes = dict(metric.tags)
        if metric.metric_type is MetricType.COUNTER:
            instrument.add(value, attributes)
        elif metric.metric_type is MetricType.GAUGE:
            instrument.set(value, attributes)
        else:
            instrument.record(value, attributes)

    def _trace(self, entity: FlextTrace) -> None:
        if self._tracer is None:
            self._pipeline.submit("entity", entity)
            return
        parent = (
            None
            if entity.parent_span_id is None
            else _sampled_context(entity.trace_id, entity.parent_span_id, remote=True)
        )
        token = _FORCED_IDS.set((int(entity.trace_id, 16), int(entity.span_id, 16)))
        try:
            span = self._tracer.start_span(
                entity.operation_name,
                context=parent,
                kind=SPAN_KIND_OF[entity.kind],
                attributes=dict(entity.attributes),
                start_time=datetime_to_ns(entity.start_time),
            )
        finally:
            _FORCED_IDS.reset(token)
        for key, value in entity.context.items():
            span.set_attribute(f"flext.context.{key}", value)
        for event in entity.events:
            span.add_event(
                event.name, dict(event.attributes), timestamp=datetime_to_ns(event.timestamp)
            )
        if entity.status.value != "unset":
            span.set_status(Status(STATUS_CODE_OF[entity.status], entity.status_message or None))
        end = entity.end_time or entity.start_time
        span.end(end_time=datetime_to_ns(end))

    def _log(self, entry: FlextLogEntry) -> None:
        if self._logger_provider is None:
            self._pipeline.submit("entity", entry)
            return
        context = (
            _sampled_context(entry.trace_id, entry.span_id, remote=False)
            if entry.trace_id and entry.span_id
            else None
        )
        attributes = log_attributes(entry)
        severity = severity_of_level(entry.level)
        record = LogRecord(
            timestamp=datetime_to_ns(entry.timestamp),
            context=context,
            severity_number=SeverityNumber(severity.number),
            severity_text=severity.text,
            body=entry.message,
            attributes=attributes,
        )
        self._logger_provider.get_logger(entry.logger_name or "flext.emit").emit(record)
