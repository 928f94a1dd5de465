"""The simple API: build entities as values, never raising.

Each `flext_create_*` returns a `FlextResult`; a failure's message contains the documented phrase
and the specific cause, e.g. ``"Invalid metric name: name cannot be empty"``. To record an entity
in the live pipeline, pass it to `flext_observability.emit`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flext_observability._internal.text import shown
from flext_observability.models import (
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.models._base import build
from flext_observability.models._metric import check_metric_name, check_metric_value
from flext_observability.models._types import MetricType, normalize_enum
from flext_observability.result import FlextResult

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = [
    "flext_create_alert",
    "flext_create_health_check",
    "flext_create_log_entry",
    "flext_create_metric",
    "flext_create_trace",
    "infer_metric_type",
]

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_PARENT_ID = re.compile(r"^([0-9a-f]{32})-([0-9a-f]{16})$")


def infer_metric_type(name: str, unit: str = "") -> MetricType:
    """Infer a metric's type from its unit and name (first match wins)."""
    unit_l = unit.lower()
    name_l = name.lower()
    if unit_l in {"count", "counts"}:
        return MetricType.COUNTER
    if "histogram" in unit_l:
        return MetricType.HISTOGRAM
    if name_l.endswith(("_total", "_count")):
        return MetricType.COUNTER
    if name_l.endswith(("_duration", "_time", "_seconds")) or "histogram" in name_l:
        return MetricType.HISTOGRAM
    return MetricType.GAUGE


def _mapping(value: object, what: str, phrase: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = f"{phrase}: {what} must be a mapping, got {type(value).__name__}"
        raise ValueError(msg)  # noqa: TRY004 - reported as a failure, never raised out
    return dict(value)  # pyright: ignore[reportUnknownArgumentType]


def _failure(exc: Exception, phrase: str) -> FlextResult[Any]:
    """Return a failure for `exc`; a message without a documented phrase gets `phrase`."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a raising __str__ must not escape
        text = ""
    if not text.startswith("Invalid "):
        text = f"{phrase}: {text or type(exc).__name__}"
    return FlextResult[Any].fail(text)


def flext_create_metric(
    name: str,
    value: float | Decimal,
    unit: str = "",
    tags: Mapping[str, Any] | None = None,
    metric_type: MetricType | str | None = None,
) -> FlextResult[FlextMetric]:
    """Build a `FlextMetric`; the type is inferred from unit and name when not given."""
    phrase = "Invalid metric name"
    try:
        check_metric_name(name)
        phrase = "Invalid metric value"
        checked_value = check_metric_value(value)
        phrase = "Invalid metric"
        if not isinstance(unit, str):
            msg = f"Invalid metric: unit must be a string, got {type(unit).__name__}"
            raise ValueError(msg)  # noqa: TRY004, TRY301 - turned into a failure below
        kind = (
            infer_metric_type(name, unit)
            if metric_type is None
            else normalize_enum(metric_type, MetricType, "Invalid metric type")
        )
        data = {
            "name": name,
            "value": checked_value,
            "unit": unit,
            "tags": _mapping(tags, "tags", "Invalid metric"),
            "metric_type": kind,
        }
    except Exception as exc:  # noqa: BLE001 - the simple API never raises
        return _failure(exc, phrase)
    return build(FlextMetric, data, "Invalid metric")


def _parse_parent(parent: object) -> tuple[str, str]:
    """Return (trace_id, span_id) from a parent id, a `FlextTrace` or a W3C traceparent."""
    if isinstance(parent, FlextTrace):
        return parent.trace_id, parent.span_id
    if isinstance(parent, str):
        text = parent.strip().lower()
        for pattern, first in ((_PARENT_ID, 1), (_TRACEPARENT, 2)):
            match = pattern.match(text)
            if match and match.group(1) != "ff":
                trace_id, span_id = match.group(first), match.group(first + 1)
                if trace_id.strip("0") and span_id.strip("0"):
                    return trace_id, span_id
    msg = (
        "Invalid trace: parent_trace_id must be a parent's id ('<trace_id>-<span_id>'), "
        f"a FlextTrace or a W3C traceparent, got {shown(parent)}"
    )
    raise ValueError(msg)


def flext_create_trace(
    operation_name: str,
    service_name: str,
    context: Mapping[str, Any] | None = None,
    parent_trace_id: str | FlextTrace | None = None,
) -> FlextResult[FlextTrace]:
    """Start a span: a new trace with random W3C ids, or a child of `parent_trace_id`."""
    try:
        data: dict[str, Any] = {
            "operation_name": operation_name,
            "service_name": service_name,
            "context": {
                str(k): str(v) for k, v in _mapping(context, "context", "Invalid trace").items()
            },
        }
        if parent_trace_id is not None:
            data["trace_id"], data["parent_span_id"] = _parse_parent(parent_trace_id)
    except Exception as exc:  # noqa: BLE001 - the simple API never raises
        return _failure(exc, "Invalid trace")
    return build(FlextTrace, data, "Invalid trace")


def flext_create_alert(
    name: str,
    severity: str,
    message: str,
    details: Mapping[str, Any] | None = None,
) -> FlextResult[FlextAlert]:
    """Build an active `FlextAlert` raised by hand (`source="manual"`)."""
    try:
        data: dict[str, Any] = {
            "name": name,
            "severity": severity,
            "message": message,
            "details": {
                str(k): str(v) for k, v in _mapping(details, "details", "Invalid alert").items()
            },
        }
    except Exception as exc:  # noqa: BLE001 - the simple API never raises
        return _failure(exc, "Invalid alert")
    return build(FlextAlert, data, "Invalid alert")


def flext_create_health_check(
    name: str,
    status: str,
    message: str = "",
    details: Mapping[str, Any] | None = None,
) -> FlextResult[FlextHealthCheck]:
    """Build a `FlextHealthCheck` result."""
    try:
        data: dict[str, Any] = {
            "name": name,
            "status": status,
            "message": message,
            "details": _mapping(details, "details", "Invalid health check"),
        }
    except Exception as exc:  # noqa: BLE001 - the simple API never raises
        return _failure(exc, "Invalid health check")
    return build(FlextHealthCheck, data, "Invalid health check")


def flext_create_log_entry(
    level: str,
    message: str,
    context: Mapping[str, Any] | None = None,
    correlation_id: str | None = None,
) -> FlextResult[FlextLogEntry]:
    """Build a `FlextLogEntry`; the message must not be empty."""
    try:
        if not isinstance(message, str):
            msg = f"Invalid log entry: message must be a string, got {type(message).__name__}"
            raise ValueError(msg)  # noqa: TRY004, TRY301 - turned into a failure below
        if not message.strip():
            msg = "Invalid log entry: message cannot be empty"
            raise ValueError(msg)  # noqa: TRY301 - turned into a failure below
        data: dict[str, Any] = {
            "level": level,
            "message": message,
            "context": _mapping(context, "context", "Invalid log entry"),
            "correlation_id": correlation_id,
        }
    except Exception as exc:  # noqa: BLE001 - the simple API never raises
        return _failure(exc, "Invalid log entry")
    return build(FlextLogEntry, data, "Invalid log entry")
