"""Wires the converters into a `Pipeline`: what each queued payload kind becomes.

Payload kinds: `span` (ReadableSpan), `span_with_baggage` ((ReadableSpan, baggage dict)),
`metrics` (MetricsData), `log` ((stdlib LogRecord, OTel Context) from the logging bridge),
`otel_log` (ReadWriteLogRecord from the Logs API), `entity` (an entity emitted by the user).

For `log`, the worker also emits the OTel log record through the bridge's `LoggerProvider`, so the
standard exporters ship it; `BRIDGE_ACTIVE` marks that emission so that our own
`EntityLogRecordProcessor` does not convert it a second time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider

from flext_observability._internal.convert.logs import log_record_to_entry
from flext_observability._internal.convert.metrics import metrics_to_entities
from flext_observability._internal.convert.severity import severity_of_levelno
from flext_observability._internal.convert.stdlib import stdlib_record_to_entry
from flext_observability._internal.convert.trace import span_to_trace
from flext_observability._internal.emit import log_attributes
from flext_observability._internal.pipeline import Converter, Observer, Pipeline
from flext_observability.models import Entity, FlextLogEntry
from flext_observability.sinks._base import Sink

__all__ = ["BRIDGE_ACTIVE", "build_pipeline"]


class _BridgeFlag(threading.local):
    active = False


BRIDGE_ACTIVE = _BridgeFlag()
"""True on the worker while it emits a bridged stdlib record into the OTel Logs SDK."""

_SEVERITY_TEXT = {"WARNING": "WARN", "CRITICAL": "FATAL"}


class _LogBridge:
    """Converts a bridged stdlib record and emits its OTel twin (on the worker)."""

    def __init__(self, service_name: str | None, provider: LoggerProvider | None) -> None:
        self.service_name = service_name
        self.provider = provider

    def __call__(self, payload: tuple[logging.LogRecord, Context]) -> list[Entity]:
        record, context = payload
        span_context = trace.get_current_span(context).get_span_context()
        entry = stdlib_record_to_entry(
            record,
            trace_id=span_context.trace_id,
            span_id=span_context.span_id,
            service_name=self.service_name,
        )
        if self.provider is not None:
            self._emit_otel(record, context, entry)
        return [entry]

    def _emit_otel(self, record: logging.LogRecord, context: Context, entry: FlextLogEntry) -> None:
        attributes = log_attributes(entry)
        otel_record = LogRecord(
            timestamp=int(record.created * 1e9),
            observed_timestamp=time.time_ns(),
            context=context,
            severity_text=_SEVERITY_TEXT.get(record.levelname, record.levelname),
            severity_number=SeverityNumber(severity_of_levelno(record.levelno)),
            body=entry.message,
            attributes=attributes,
        )
        assert self.provider is not None
        BRIDGE_ACTIVE.active = True
        try:
            self.provider.get_logger(record.name).emit(otel_record)
        finally:
            BRIDGE_ACTIVE.active = False


def build_pipeline(
    *,
    sinks: Sequence[Sink] = (),
    redact: Callable[[Entity], Entity] | None = None,
    observers: Sequence[Observer] = (),
    service_name: str | None = None,
    log_provider: LoggerProvider | None = None,
    capacity: int = 8192,
    batch_size: int = 512,
    schedule_delay: float = 0.5,
    tick: Callable[[], Iterable[Entity]] | None = None,
) -> Pipeline:
    """Build a pipeline that converts every payload kind our components queue."""
    pipeline_ref: list[Pipeline] = []

    def skipped_point(_name: str, _exc: BaseException) -> None:
        pipeline_ref[0].count_drop("metrics", "conversion_error")

    converters: dict[str, Converter] = {
        "span": lambda span: [span_to_trace(span)],
        "span_with_baggage": lambda item: [span_to_trace(item[0], context=item[1])],
        "metrics": lambda data: metrics_to_entities(data, on_skip=skipped_point),
        "log": _LogBridge(service_name, log_provider),
        "otel_log": lambda record: [log_record_to_entry(record)],
        "entity": lambda entity: [entity],
    }
    pipeline = Pipeline(
        converters=converters,
        sinks=sinks,
        redact=redact,
        observers=observers,
        capacity=capacity,
        batch_size=batch_size,
        schedule_delay=schedule_delay,
        tick=tick,
    )
    pipeline_ref.append(pipeline)
    return pipeline
