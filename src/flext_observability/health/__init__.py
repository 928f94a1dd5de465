"""Health checks: a registry with time-boxed runs and a scheduler, and the probe server.

The registry is a core component (no OpenTelemetry); the `flext.health.status` gauge is built at
the edge from `HealthRegistry.gauge_points()`. `ProbeServer` answers `/livez`, `/readyz` and
`/healthz` from cached results.
"""

from __future__ import annotations

from flext_observability._internal.exports import publish
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

publish(globals(), __all__)
