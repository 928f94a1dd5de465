"""Health checks: a registry with time-boxed runs and a scheduler, and the probe server.

The registry is a core component (no OpenTelemetry); the `flext.health.status` gauge is built at
the edge from `HealthRegistry.gauge_points()`. `ProbeServer` answers `/livez`, `/readyz` and
`/healthz` from cached results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flext_observability._internal.exports import lazy_exports
from flext_observability.health._registry import (
    STATUS_VALUES,
    HealthRegistry,
    aggregate,
    export_health_check,
    normalize_outcome,
    pipeline_saturation_check,
    status_value,
    store_writable_check,
)

if TYPE_CHECKING:
    from flext_observability.health._server import ProbeServer

__all__ = [
    "STATUS_VALUES",
    "HealthRegistry",
    "ProbeServer",
    "aggregate",
    "export_health_check",
    "normalize_outcome",
    "pipeline_saturation_check",
    "status_value",
    "store_writable_check",
]

# The probe server (http.server) loads on first use.
_LAZY = {"ProbeServer": "flext_observability.health._server"}
__getattr__, __dir__ = lazy_exports(globals(), __all__, _LAZY)
