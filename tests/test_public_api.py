"""The public surface: a sorted, pinned `__all__`, star import, and an OTel-free core."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json

import flext_observability
from _helpers import run_python

# Pinned on purpose: a new public name must show up in review as a change to this list.
_PUBLIC_NAMES = [
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

# Core modules that must never load OpenTelemetry (ARCHITECTURE "The one rule").
_CORE_MODULES = [
    "flext_observability.models",
    "flext_observability.result",
    "flext_observability.api",
    "flext_observability.exceptions",
    "flext_observability.settings",
    "flext_observability.rules",
    "flext_observability.health",
    "flext_observability.redaction",
    "flext_observability.sinks",
]


def test_all_is_sorted_and_pinned() -> None:
    """`__all__` is sorted and equals the pinned list of public names."""
    assert flext_observability.__all__ == sorted(flext_observability.__all__)
    assert flext_observability.__all__ == _PUBLIC_NAMES


def test_every_public_name_exists() -> None:
    """Every name in `__all__` is an attribute of the package."""
    missing = [name for name in _PUBLIC_NAMES if not hasattr(flext_observability, name)]
    assert missing == []


def test_star_import_exports_exactly_all() -> None:
    """`from flext_observability import *` binds exactly the names in `__all__`."""
    namespace: dict[str, object] = {}
    exec("from flext_observability import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == _PUBLIC_NAMES
    assert namespace["FlextResult"] is flext_observability.FlextResult


def test_core_modules_do_not_import_opentelemetry() -> None:
    """Importing the core modules in a fresh interpreter loads no opentelemetry* module."""
    present = [name for name in _CORE_MODULES if importlib.util.find_spec(name) is not None]
    assert present[:4] == _CORE_MODULES[:4]
    code = (
        "import importlib, json, sys\n"
        f"for name in {present!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('opentelemetry'))))\n"
    )
    assert json.loads(run_python(code)) == []


def test_version_matches_the_distribution() -> None:
    """`__version__` is the installed distribution's version."""
    assert flext_observability.__version__ == importlib.metadata.version("flext-observability")
