"""The five telemetry entities and their enums.

Frozen pydantic v2 models that forbid unknown fields; no OpenTelemetry imports. Every entity
round-trips exactly through JSON: `type(e).model_validate_json(e.model_dump_json()) == e`.
Methods that change state return a new instance wrapped in a `FlextResult`.
"""

from __future__ import annotations

from flext_observability._internal.exports import publish
from flext_observability.models._base import FlextEntity
from flext_observability.models._events import FlextAlert, FlextHealthCheck, alert_fingerprint
from flext_observability.models._log import ExceptionInfo, FlextLogEntry
from flext_observability.models._metric import FlextMetric, HistogramData
from flext_observability.models._trace import FlextTrace, SpanEvent, new_span_id, new_trace_id
from flext_observability.models._types import (
    AlertSeverity,
    AlertStatus,
    AttributeValue,
    HealthStatus,
    LogLevel,
    MetricType,
    TraceKind,
    TraceStatus,
)

__all__ = [
    "AlertSeverity",
    "AlertStatus",
    "AttributeValue",
    "ExceptionInfo",
    "FlextAlert",
    "FlextEntity",
    "FlextHealthCheck",
    "FlextLogEntry",
    "FlextMetric",
    "FlextTrace",
    "HealthStatus",
    "HistogramData",
    "LogLevel",
    "MetricType",
    "SpanEvent",
    "TraceKind",
    "TraceStatus",
    "alert_fingerprint",
    "new_span_id",
    "new_trace_id",
]

Entity = FlextMetric | FlextTrace | FlextAlert | FlextHealthCheck | FlextLogEntry
"""Any of the five entities."""

publish(globals(), __all__)
