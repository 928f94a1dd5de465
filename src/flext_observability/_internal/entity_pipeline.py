"""Wires the converters into a `Pipeline`: what each queued payload kind becomes.

Payload kinds: `span` (ReadableSpan), `span_with_baggage` ((ReadableSpan, baggage dict)),
`span_stat` (an unsampled ReadableSpan: derived metric and rule sample only, see `derived`),
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
from opentelemetry.sdk._logs import LoggerProvider, ReadWriteLogRecord

from flext_observability._internal.convert.logs import log_record_to_entry
from flext_observability._internal.convert.metrics import metrics_to_entities
from flext_observability._internal.convert.stdlib import stdlib_record_to_entry
from flext_observability._internal.convert.trace import span_to_trace
from flext_observability._internal.derived import DerivedMetrics, NoisePolicy, span_converters
from flext_observability._internal.emit import log_attributes
from flext_observability._internal.pipeline import Converter, Observer, Pipeline
from flext_observability.models import FlextLogEntry
from flext_observability.rules._samples import SpanSample
from flext_observability.sinks._base import Entity, Sink

__all__ = ["BRIDGE_ACTIVE", "build_pipeline", "severity_of"]


class _BridgeFlag(threading.local):
    active = False


BRIDGE_ACTIVE = _BridgeFlag()
"""True on the worker while it emits a bridged stdlib record into the OTel Logs SDK."""

_SEVERITY_BASE = (
    (logging.CRITICAL, SeverityNumber.FATAL),
    (logging.ERROR, SeverityNumber.ERROR),
    (logging.WARNING, SeverityNumber.WARN),
    (logging.INFO, SeverityNumber.INFO),
    (logging.DEBUG, SeverityNumber.DEBUG),
)
_SEVERITY_TEXT = {"WARNING": "WARN", "CRITICAL": "FATAL"}
_LEVEL_NAMES = {
    "DEBUG": "debug",
    "INFO": "info",
    "WARNING": "warning",
    "WARN": "warning",
    "ERROR": "error",
    "CRITICAL": "critical",
    "FATAL": "critical",
}


def severity_of(levelno: int) -> SeverityNumber:
    """Map a stdlib level number to the OTel severity number (data-model table)."""
    for base, number in _SEVERITY_BASE:
        if levelno >= base:
            return SeverityNumber(min(number.value + min(levelno - base, 3), 24))
    return SeverityNumber.TRACE if levelno > 0 else SeverityNumber.UNSPECIFIED


class _LogBridge:
    """Converts a bridged stdlib record and emits its OTel twin (on the worker)."""

    def __init__(
        self, service_name: str | None, provider: LoggerProvider | None, derived: DerivedMetrics
    ) -> None:
        self.service_name = service_name
        self.provider = provider
        self.derived = derived

    def __call__(self, payload: tuple[logging.LogRecord, Context]) -> list[Entity]:
        record, context = payload
        if not self.derived.log(record.name, _LEVEL_NAMES.get(record.levelname, "info")):
            return []
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
            severity_number=severity_of(record.levelno),
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
    derived: DerivedMetrics | None = None,
) -> Pipeline:
    """Build a pipeline that converts every payload kind our components queue.

    `derived` records the derived metrics and applies the noise policy (default: an unbound
    one with the default exclusions, so rules still see every span).
    """
    pipeline_ref: list[Pipeline] = []
    derived = derived if derived is not None else DerivedMetrics(NoisePolicy())

    def skipped_point(_name: str, _exc: BaseException) -> None:
        pipeline_ref[0].count_drop("metrics", "conversion_error")

    converters: dict[str, Converter] = {
        **span_converters(derived, lambda span, context: [span_to_trace(span, context=context)]),
        "metrics": lambda data: metrics_to_entities(data, on_skip=skipped_point),
        "log": _LogBridge(service_name, log_provider, derived),
        "otel_log": lambda record: _otel_log(record, derived),
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
        observe_only=(SpanSample,),
    )
    pipeline_ref.append(pipeline)
    return pipeline


def _otel_log(record: ReadWriteLogRecord, derived: DerivedMetrics) -> list[Entity]:
    """A record emitted through the Logs API: counted by scope name, then converted."""
    scope = record.instrumentation_scope
    level = _level_of(record.log_record.severity_number)
    if not derived.log(scope.name if scope is not None else "", level):
        return []
    return [log_record_to_entry(record)]


def _level_of(severity: SeverityNumber | None) -> str:
    number = severity.value if severity is not None else 0
    for bound, name in ((21, "critical"), (17, "error"), (13, "warning"), (9, "info")):
        if number >= bound:
            return name
    return "debug"
