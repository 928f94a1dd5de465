"""flext-observability: an OpenTelemetry distro with typed telemetry entities.

The public surface is re-exported here; `__all__` is sorted and pinned by a test. Only the entity
model, `FlextResult` and the simple API load eagerly; everything else (settings, rules, health,
sinks, and the OpenTelemetry-backed setup, processors, reader, logging bridge and decorator) loads
on first use, so `import flext_observability` stays fast and OTel-free.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flext_observability._internal.early_env import scrub_import_time_variables
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

scrub_import_time_variables()  # before anything imports the SDK, which reads one at import

if TYPE_CHECKING:
    from flext_observability._internal.handle import FlextObservability
    from flext_observability._internal.setup import emit, force_flush, setup, shutdown
    from flext_observability.health import HealthRegistry, ProbeServer
    from flext_observability.logs import EntityLoggingHandler, EntityLogRecordProcessor
    from flext_observability.monitor import flext_monitor_function
    from flext_observability.processors import EntitySpanProcessor
    from flext_observability.readers import EntityMetricReader
    from flext_observability.redaction import Redactor
    from flext_observability.rules import (
        AbsenceRule,
        AlertEngine,
        ErrorRatioRule,
        HealthRule,
        LatencyRule,
        LogRateRule,
        ThresholdRule,
        load_rules_file,
    )
    from flext_observability.settings import FlextObservabilitySettings
    from flext_observability.sinks import CallbackSink, MemorySink, Sink, SQLiteStore, WebhookSink

__version__ = "0.1.0"

_LAZY = {
    "AbsenceRule": "flext_observability.rules",
    "AlertEngine": "flext_observability.rules",
    "CallbackSink": "flext_observability.sinks",
    "ErrorRatioRule": "flext_observability.rules",
    "FlextObservabilitySettings": "flext_observability.settings",
    "HealthRegistry": "flext_observability.health",
    "HealthRule": "flext_observability.rules",
    "LatencyRule": "flext_observability.rules",
    "LogRateRule": "flext_observability.rules",
    "MemorySink": "flext_observability.sinks",
    "Redactor": "flext_observability.redaction",
    "SQLiteStore": "flext_observability.sinks",
    "Sink": "flext_observability.sinks",
    "ThresholdRule": "flext_observability.rules",
    "WebhookSink": "flext_observability.sinks",
    "load_rules_file": "flext_observability.rules",
    "EntityLogRecordProcessor": "flext_observability.logs",
    "EntityLoggingHandler": "flext_observability.logs",
    "EntityMetricReader": "flext_observability.readers",
    "EntitySpanProcessor": "flext_observability.processors",
    "FlextObservability": "flext_observability._internal.handle",
    "ProbeServer": "flext_observability.health",
    "emit": "flext_observability._internal.setup",
    "flext_monitor_function": "flext_observability.monitor",
    "force_flush": "flext_observability._internal.setup",
    "setup": "flext_observability._internal.setup",
    "shutdown": "flext_observability._internal.setup",
}


def __getattr__(name: str) -> Any:
    """Load the heavier public names (OpenTelemetry-backed ones included) on first use."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'flext_observability' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AbsenceRule",
    "AlertEngine",
    "AlertSeverity",
    "AlertStatus",
    "CallbackSink",
    "ConfigurationError",
    "EntityLogRecordProcessor",
    "EntityLoggingHandler",
    "EntityMetricReader",
    "EntitySpanProcessor",
    "ErrorRatioRule",
    "ExceptionInfo",
    "FlextAlert",
    "FlextEntity",
    "FlextHealthCheck",
    "FlextLogEntry",
    "FlextMetric",
    "FlextObservability",
    "FlextObservabilityError",
    "FlextObservabilitySettings",
    "FlextResult",
    "FlextTrace",
    "HealthRegistry",
    "HealthRule",
    "HealthStatus",
    "HistogramData",
    "InvalidTransitionError",
    "LatencyRule",
    "LogLevel",
    "LogRateRule",
    "MemorySink",
    "MetricType",
    "ProbeServer",
    "Redactor",
    "SQLiteStore",
    "Sink",
    "SpanEvent",
    "StoreError",
    "ThresholdRule",
    "TraceKind",
    "TraceStatus",
    "UnwrapFailedError",
    "ValidationError",
    "WebhookSink",
    "__version__",
    "emit",
    "flext_create_alert",
    "flext_create_health_check",
    "flext_create_log_entry",
    "flext_create_metric",
    "flext_create_trace",
    "flext_monitor_function",
    "force_flush",
    "load_rules_file",
    "setup",
    "shutdown",
]
