"""Built-in health checks: export health, pipeline saturation and a writable store.

Factories that take plain callables or paths, so this module imports neither the pipeline nor
the store. Messages never contain file paths. Register them non-critical: a telemetry problem
should degrade the aggregate, not make the host application unready.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from flext_observability.health._results import describe_exception
from flext_observability.models._events import FlextHealthCheck
from flext_observability.models._types import Attributes, HealthStatus

__all__ = ["export_health_check", "pipeline_saturation_check", "store_writable_check"]

_SATURATED_RATIO = 0.8


def export_health_check(
    failures: Callable[[], int], *, degraded_after: int = 3
) -> Callable[[], FlextHealthCheck]:
    """Return a check that is `degraded` after `degraded_after` consecutive export failures.

    `failures()` returns the current number of consecutive failed exports (reset to 0 by the
    exporter on a success), so the check recovers by itself once exports succeed again.
    """
    if isinstance(degraded_after, bool) or not isinstance(degraded_after, int):
        msg = f"degraded_after must be a positive integer, got {type(degraded_after).__name__}"
        raise TypeError(msg)
    if degraded_after < 1:
        msg = f"degraded_after must be a positive integer, got {degraded_after}"
        raise ValueError(msg)

    def check() -> FlextHealthCheck:
        count = int(failures())
        plural = "" if count == 1 else "s"
        if count >= degraded_after:
            status, message = HealthStatus.DEGRADED, f"{count} consecutive export failure{plural}"
        elif count > 0:
            status, message = HealthStatus.HEALTHY, f"{count} consecutive export failure{plural}"
        else:
            status, message = HealthStatus.HEALTHY, "exports succeeding"
        return FlextHealthCheck(
            name="export",
            status=status,
            message=message,
            details={"consecutive_failures": count, "degraded_after": degraded_after},
        )

    return check


def pipeline_saturation_check(
    stats: Callable[[], Mapping[str, int]],
) -> Callable[[], FlextHealthCheck]:
    """Return a check on the entity pipeline's queue, from `stats()`.

    `stats()` returns `queue_size`, `queue_capacity` and `dropped` (total so far). The check is
    `unhealthy` when the queue is full, `degraded` when it is at least 80% full or items were
    dropped since the previous run (the first run compares with zero), else `healthy`.
    """
    lock = threading.Lock()
    last_dropped = [0]

    def check() -> FlextHealthCheck:
        current = stats()
        size = int(current["queue_size"])
        capacity = int(current["queue_capacity"])
        dropped = int(current["dropped"])
        with lock:
            new_drops = max(dropped - last_dropped[0], 0)
            last_dropped[0] = dropped
        details: Attributes = {
            "queue_size": size,
            "queue_capacity": capacity,
            "dropped": dropped,
            "dropped_since_last_check": new_drops,
        }
        if capacity <= 0:
            return FlextHealthCheck(
                name="pipeline",
                status=HealthStatus.UNKNOWN,
                message="queue capacity unknown",
                details=details,
            )
        percent = 100 * size // capacity
        if size >= capacity:
            status = HealthStatus.UNHEALTHY
        elif size >= _SATURATED_RATIO * capacity or new_drops:
            status = HealthStatus.DEGRADED
        else:
            status = HealthStatus.HEALTHY
        message = "queue full" if size >= capacity else f"queue {percent}% full"
        if new_drops:
            message += f", {new_drops} dropped since last check"
        return FlextHealthCheck(name="pipeline", status=status, message=message, details=details)

    return check


def _nearest_existing(directory: Path) -> Path:
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return candidate
    return directory


def store_writable_check(path: str | os.PathLike[str]) -> Callable[[], FlextHealthCheck]:
    """Return a check that the store at `path` (an SQLite file) can be written.

    If the file exists it is opened for appending (nothing is written to it); otherwise a
    temporary file is created and removed in its directory. If the directory does not exist
    yet, the nearest existing ancestor must be a writable directory (the store creates the
    rest). Failures are `unhealthy`; messages name the error, never the path.
    """
    db = Path(path)

    def check() -> FlextHealthCheck:
        try:
            if db.is_file():
                with db.open("ab"):
                    pass
                message = "store is writable"
            elif db.exists():
                return FlextHealthCheck(
                    name="store", status=HealthStatus.UNHEALTHY, message="store path is not a file"
                )
            elif db.parent.is_dir():
                with tempfile.NamedTemporaryFile(dir=db.parent, prefix=".flext-health-") as probe:
                    probe.write(b"ok")
                    probe.flush()
                message = "store directory is writable"
            else:
                ancestor = _nearest_existing(db.parent)
                if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
                    return FlextHealthCheck(
                        name="store",
                        status=HealthStatus.UNHEALTHY,
                        message="store directory cannot be created",
                    )
                message = "store directory will be created"
        except Exception as exc:  # noqa: BLE001 - any failure to write is the finding
            return FlextHealthCheck(
                name="store",
                status=HealthStatus.UNHEALTHY,
                message=f"store is not writable: {describe_exception(exc)}",
            )
        return FlextHealthCheck(name="store", status=HealthStatus.HEALTHY, message=message)

    return check
