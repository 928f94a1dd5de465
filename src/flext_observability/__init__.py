"""flext-observability: an OpenTelemetry distro with typed telemetry entities.

The top level is the application path and the value API:

- `setup()`, `shutdown()`, `force_flush()`, `emit()`, `flext_monitor_function` and the handle
  type `FlextObservability` (loaded on first use, with OpenTelemetry);
- the entities and their enums, `flext_create_*`, `FlextResult` and the exceptions.

Components are imported from their subpackages: `flext_observability.settings`, `.sinks`,
`.rules`, `.health`, `.redaction`, `.processors`, `.readers`, `.logs`, `.testing`.
`import flext_observability` loads no OpenTelemetry module; `__all__` is sorted and pinned by a
test.
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
    RuleFieldError,
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
    from flext_observability._internal.setup import (
        FlextObservability,
        emit,
        force_flush,
        setup,
        shutdown,
    )
    from flext_observability.monitor import flext_monitor_function

    __version__: str

_LAZY = {
    "FlextObservability": "flext_observability._internal.setup",
    "emit": "flext_observability._internal.setup",
    "flext_monitor_function": "flext_observability.monitor",
    "force_flush": "flext_observability._internal.setup",
    "setup": "flext_observability._internal.setup",
    "shutdown": "flext_observability._internal.setup",
}


if not TYPE_CHECKING:  # a module __getattr__ would make type checkers accept any name

    def __getattr__(name: str) -> Any:
        """Load the OpenTelemetry-backed names, and `__version__`, on first use."""
        if name == "__version__":
            value: Any = importlib.import_module("importlib.metadata").version(
                "flext-observability"
            )
        else:
            module = _LAZY.get(name)
            if module is None:
                msg = f"module 'flext_observability' has no attribute {name!r}"
                raise AttributeError(msg)
            value = getattr(importlib.import_module(module), name)
            if name == "FlextObservability":
                value.__module__ = __name__
        globals()[name] = value
        return value


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
    "FlextObservability",
    "FlextObservabilityError",
    "FlextResult",
    "FlextTrace",
    "HealthStatus",
    "HistogramData",
    "InvalidTransitionError",
    "LogLevel",
    "MetricType",
    "RuleFieldError",
    "SpanEvent",
    "StoreError",
    "TraceKind",
    "TraceStatus",
    "UnwrapFailedError",
    "ValidationError",
    "__version__",
    "emit",
    "flext_create_alert",
    "flext_create_health_check",
    "flext_create_log_entry",
    "flext_create_metric",
    "flext_create_trace",
    "flext_monitor_function",
    "force_flush",
    "setup",
    "shutdown",
]
