"""flext-observability: an OpenTelemetry distro with typed telemetry entities.

The public surface is re-exported here; `__all__` is sorted and pinned by a test.
"""

from __future__ import annotations

from flext_observability.api import (
    flext_create_alert,
    flext_create_health_check,
    flext_create_log_entry,
    flext_create_metric,
    flext_create_trace,
)
from flext_observability.exceptions import (
    ConfigurationError,
    FlextObservabilityError,
    InvalidTransitionError,
    StoreError,
    UnwrapFailedError,
    ValidationError,
)
from flext_observability.models import (
    AlertSeverity,
    AlertStatus,
    ExceptionInfo,
    FlextAlert,
    FlextEntity,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    HistogramData,
    LogLevel,
    MetricType,
    SpanEvent,
    TraceKind,
    TraceStatus,
)
from flext_observability.result import FlextResult

__version__ = "0.1.0"

__all__ = [
    "AlertSeverity",
    "AlertStatus",
    "ConfigurationError",
    "ExceptionInfo",
    "FlextAlert",
    "FlextEntity",
    "FlextHealthCheck",
    "FlextLogEntry",
    "FlextMetric",
    "FlextObservabilityError",
    "FlextResult",
    "FlextTrace",
    "HealthStatus",
    "HistogramData",
    "InvalidTransitionError",
    "LogLevel",
    "MetricType",
    "SpanEvent",
    "StoreError",
    "TraceKind",
    "TraceStatus",
    "UnwrapFailedError",
    "ValidationError",
    "__version__",
    "flext_create_alert",
    "flext_create_health_check",
    "flext_create_log_entry",
    "flext_create_metric",
    "flext_create_trace",
]
