"""Enums and annotated field types shared by the entity models (pure; no OpenTelemetry).

Validators raise `ValueError` whose message starts with the documented error phrase
("Invalid metric name: ...") so the simple API can surface it unchanged.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from flext_observability._internal.text import shown

__all__ = [
    "AlertSeverity",
    "AlertStatus",
    "AttributeValue",
    "Attributes",
    "HealthStatus",
    "LogLevel",
    "MetricType",
    "TraceKind",
    "TraceStatus",
    "UtcDatetime",
    "check_hex_id",
    "normalize_enum",
    "utc",
]


class MetricType(StrEnum):
    """How a metric data point aggregates (an OTel Sum, Gauge or Histogram)."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"


class TraceKind(StrEnum):
    """The OpenTelemetry span kind, lowercase."""

    INTERNAL = "internal"
    SERVER = "server"
    CLIENT = "client"
    PRODUCER = "producer"
    CONSUMER = "consumer"


class TraceStatus(StrEnum):
    """The OpenTelemetry span status code, lowercase."""

    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


class AlertSeverity(StrEnum):
    """Alert severity, from least to most severe."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    def escalated(self) -> AlertSeverity | None:
        """Return the next severity up, or None at `critical`."""
        order = list(AlertSeverity)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


class AlertStatus(StrEnum):
    """Alert lifecycle state."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"


class HealthStatus(StrEnum):
    """Health check outcome, from best to worst (`unknown` last: no data yet)."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"
    UNKNOWN = "unknown"


class LogLevel(StrEnum):
    """Log severity, lowercase; `warn` and `fatal` are accepted as aliases on input."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the severity order (debug = 0)."""
        return list(LogLevel).index(self)


_LEVEL_ALIASES = {"warn": "warning", "fatal": "critical"}


def normalize_enum(
    value: object, enum: type[StrEnum], phrase: str, aliases: dict[str, str] | None = None
) -> object:
    """Lowercase and alias a string enum input, or raise with the documented phrase."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        key = value.strip().lower()
        key = (aliases or {}).get(key, key)
        if key in enum._value2member_map_:
            return enum(key)
    allowed = ", ".join(m.value for m in enum)
    text = shown(value)
    msg = f"{phrase}: expected one of {allowed}, got {text}"
    raise ValueError(msg)


def level_before(value: object) -> object:
    """Normalise a log level input (case-insensitive, `warn`/`fatal` aliases)."""
    return normalize_enum(value, LogLevel, "Invalid log level", _LEVEL_ALIASES)


def utc(value: datetime) -> datetime:
    """Return `value` as an aware UTC datetime; naive input is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _utc_field(value: datetime) -> datetime:
    try:
        return utc(value)
    except OverflowError:
        msg = f"datetime {value.isoformat()} is out of range once converted to UTC"
        raise ValueError(msg) from None


UtcDatetime = Annotated[datetime, AfterValidator(_utc_field)]
"""A datetime normalised to aware UTC (naive input is taken as UTC)."""


def _primitive_kind(value: object) -> type[object] | None:
    """Return the attribute kind of a primitive (`bool` is not an `int` here), else None."""
    if isinstance(value, float) and not math.isfinite(value):
        msg = "attribute values must be finite numbers"
        raise ValueError(msg)
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind
    return None


def _check_attribute(value: Any) -> Any:
    """Accept a primitive or a homogeneous list/tuple of one primitive kind (OTel rules).

    Mixed sequences (`[1, "a"]`, `[True, 1]`, `[1, 2.5]`), nested containers, sets, bytes and
    None are rejected instead of being coerced, exactly as the OpenTelemetry SDK drops them.
    """
    if _primitive_kind(value) is not None:
        return value
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        kinds = {_primitive_kind(item) for item in items}
        if None in kinds:
            msg = "attribute sequences may hold only str, bool, int or float values"
            raise ValueError(msg)
        if len(kinds) > 1:
            names = ", ".join(sorted(kind.__name__ for kind in kinds if kind is not None))
            msg = f"attribute sequences must be homogeneous, got a mix of {names}"
            raise ValueError(msg)
        return items
    msg = (
        "attribute values must be str, bool, int, float or a homogeneous list of them, "
        f"got {type(value).__name__}"
    )
    raise ValueError(msg)


AttributeValue = Annotated[
    str | bool | int | float | list[str] | list[bool] | list[int] | list[float],
    BeforeValidator(_check_attribute),
]
"""An OpenTelemetry attribute value: a primitive or a homogeneous sequence of primitives."""

Attributes = dict[str, AttributeValue]

_HEX = re.compile(r"[0-9a-f]+")


def check_hex_id(value: str | None, length: int, what: str, phrase: str) -> str | None:
    """Validate a W3C trace/span id: `length` lowercase hex digits, not all zero."""
    if value is None:
        return None
    if len(value) != length or not _HEX.fullmatch(value):
        msg = f"{phrase}: {what} must be {length} lowercase hex digits, got {shown(value)}"
        raise ValueError(msg)
    if value.strip("0") == "":
        msg = f"{phrase}: {what} must not be all zeros"
        raise ValueError(msg)
    return value
