"""Turn whatever a health check returns (or raises) into a `FlextHealthCheck`, and aggregate.

Pure functions, no threads and no OpenTelemetry: `normalize_outcome` never raises, whatever the
check returned, and `aggregate` is the documented roll-up rule of the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flext_observability._internal.text import safe_str
from flext_observability.models._events import FlextHealthCheck
from flext_observability.models._types import HealthStatus
from flext_observability.result import FlextResult

__all__ = [
    "STATUS_VALUES",
    "aggregate",
    "describe_exception",
    "normalize_outcome",
    "status_value",
    "timed_out_result",
]

#: Value of the `flext.health.status` gauge per status: 1 healthy, 0.5 degraded, 0 unhealthy,
#: -1 unknown (no data). Higher is better, so `min()` over checks is the worst one.
STATUS_VALUES: Mapping[HealthStatus, float] = {
    HealthStatus.HEALTHY: 1.0,
    HealthStatus.DEGRADED: 0.5,
    HealthStatus.UNHEALTHY: 0.0,
    HealthStatus.UNKNOWN: -1.0,
}

_MAX_MESSAGE = 500


def status_value(status: HealthStatus) -> float:
    """Return the gauge value of `status` (see `STATUS_VALUES`)."""
    return STATUS_VALUES[status]


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def describe_exception(exc: BaseException) -> str:
    """Return `"<ExcType>: <message>"` for a check's exception, without traceback or file paths.

    For an `OSError` only its `strerror` is kept: its `str()` names the file involved, and file
    paths are not shown on the probe endpoints.
    """
    name = type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        detail = _truncate(safe_str(exc.strerror, fallback="<unprintable>"))
    else:
        detail = _truncate(safe_str(exc, fallback="<unprintable>"))
    return _truncate(f"{name}: {detail}") if detail else name


def _parse_status(value: object) -> HealthStatus | None:
    if isinstance(value, bool):
        return HealthStatus.HEALTHY if value else HealthStatus.UNHEALTHY
    if isinstance(value, HealthStatus):
        return value
    if isinstance(value, str):
        try:
            return HealthStatus(value.strip().lower())
        except ValueError:
            return None
    return None


def _build(
    name: str,
    status: HealthStatus,
    message: str,
    *,
    duration_ms: float | None,
    service_name: str | None,
    details: Mapping[str, Any] | None = None,
) -> FlextHealthCheck:
    return FlextHealthCheck(
        name=name,
        status=status,
        message=message,
        details=dict(details or {}),
        duration_ms=duration_ms,
        service_name=service_name,
    )


def normalize_outcome(
    name: str,
    outcome: object,
    *,
    duration_ms: float | None,
    service_name: str | None = None,
) -> FlextHealthCheck:
    """Turn a check's return value (or the exception it raised) into a result. Never raises.

    - `HealthStatus` or its string (any case) → that status; `bool` → healthy / unhealthy;
      `None` → healthy.
    - `(status, message)` tuple → that status with the message.
    - `FlextHealthCheck` → taken as is, with `name` forced to the registered name and
      `duration_ms` / `service_name` filled in when the check left them unset.
    - `FlextResult` → success: its value, normalised the same way; failure: unhealthy with
      its error.
    - an exception → unhealthy with `"<ExcType>: <message>"` (no stack trace).
    - anything else (including an unrecognised status string) → unknown.
    """
    try:
        return _normalize(name, outcome, duration_ms=duration_ms, service_name=service_name)
    except Exception as exc:  # noqa: BLE001 - e.g. a FlextHealthCheck subclass that fails to copy
        return _build(
            name,
            HealthStatus.UNKNOWN,
            f"check result could not be read: {describe_exception(exc)}",
            duration_ms=duration_ms,
            service_name=service_name,
        )


def _normalize(
    name: str, outcome: object, *, duration_ms: float | None, service_name: str | None
) -> FlextHealthCheck:
    if isinstance(outcome, FlextHealthCheck):
        update: dict[str, Any] = {"name": name}
        if outcome.duration_ms is None:
            update["duration_ms"] = duration_ms
        if outcome.service_name is None:
            update["service_name"] = service_name
        return outcome.model_copy(update=update)
    if isinstance(outcome, FlextResult):
        if outcome.is_success:
            return _normalize(
                name, outcome.value, duration_ms=duration_ms, service_name=service_name
            )
        return _build(
            name,
            HealthStatus.UNHEALTHY,
            _truncate(safe_str(outcome.error, fallback="<unprintable>")),
            duration_ms=duration_ms,
            service_name=service_name,
        )
    status: HealthStatus | None
    message = ""
    if isinstance(outcome, BaseException):
        status, message = HealthStatus.UNHEALTHY, describe_exception(outcome)
    elif outcome is None:
        status = HealthStatus.HEALTHY
    elif isinstance(outcome, tuple) and len(outcome) == 2:  # noqa: PLR2004 - (status, message)
        status, message = (
            _parse_status(outcome[0]),
            _truncate(safe_str(outcome[1], fallback="<unprintable>")),
        )
    else:
        status = _parse_status(outcome)
    if status is None:
        status = HealthStatus.UNKNOWN
        message = f"check returned an unsupported value of type {type(outcome).__name__}"
    return _build(name, status, message, duration_ms=duration_ms, service_name=service_name)


def timed_out_result(
    name: str,
    timeout: float,
    *,
    duration_ms: float | None,
    service_name: str | None = None,
    still_running: bool = False,
) -> FlextHealthCheck:
    """Return the `unhealthy` result of a check that did not finish within `timeout` seconds."""
    seconds = f"{timeout:.1f}"
    if float(seconds) != timeout:
        seconds = f"{timeout:g}"  # 0.25 → "0.25", not "0.2"
    message = f"timed out after {seconds}s"
    if still_running:
        message += " (previous run still running)"
    return _build(
        name,
        HealthStatus.UNHEALTHY,
        message,
        duration_ms=duration_ms,
        service_name=service_name,
        details={"timeout_s": float(timeout)},
    )


def aggregate(
    results: Iterable[tuple[FlextHealthCheck | None, bool]],
) -> HealthStatus:
    """Roll `(latest result or None if not run yet, critical)` pairs up into one status.

    Rules, first match wins:

    1. no check has a result yet (or there are no checks) → `unknown`;
    2. a critical check is `unhealthy` → `unhealthy`;
    3. a non-critical check is `unhealthy`, or any check is `degraded` → `degraded`;
    4. every check is `healthy` → `healthy`;
    5. otherwise (some `unknown` or not yet run, the rest healthy) → `unknown`.
    """
    pairs = list(results)
    if all(result is None for result, _ in pairs):
        return HealthStatus.UNKNOWN
    statuses = [(r.status if r is not None else HealthStatus.UNKNOWN, c) for r, c in pairs]
    if any(s is HealthStatus.UNHEALTHY and critical for s, critical in statuses):
        return HealthStatus.UNHEALTHY
    if any(s in {HealthStatus.UNHEALTHY, HealthStatus.DEGRADED} for s, _ in statuses):
        return HealthStatus.DEGRADED
    if all(s is HealthStatus.HEALTHY for s, _ in statuses):
        return HealthStatus.HEALTHY
    return HealthStatus.UNKNOWN
