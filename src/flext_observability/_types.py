"""Enums and annotated field types shared by the entity models (pure; no OpenTelemetry).

Validators raise `ValueError` whose message starts with the documented SPEC phrase
("Invalid metric name: ...") so the simple API can surface it unchanged.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

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
    "utc_now",
]


class MetricType(StrEnum):
    """How a metric data point aggregates (OTel Sum/Gauge/Histogram mapping in SPEC §3)."""

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
    shown = _safe_repr(value)
    msg = f"{phrase}: expected one of {allowed}, got {shown}"
    raise ValueError(msg)


def _safe_repr(value: object, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - user objects may have a raising __repr__
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def level_before(value: object) -> object:
    """Normalise a log level input (case-insensitive, `warn`/`fatal` aliases)."""
    return normalize_enum(value, LogLevel, "Invalid log level", _LEVEL_ALIASES)


def utc(value: datetime) -> datetime:
    """Return `value` as an aware UTC datetime; naive input is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_now() -> datetime:
    """Return the current time, aware UTC."""
    return datetime.now(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(utc)]
"""A datetime normalised to aware UTC (naive input is taken as UTC)."""


def _finite_attribute(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        msg = "attribute values must be finite numbers"
        raise ValueError(msg)
    if isinstance(value, list):
        for item in value:  # pyright: ignore[reportUnknownVariableType]
            _finite_attribute(item)
    return value


def _sequence_to_list(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)  # pyright: ignore[reportUnknownArgumentType]
    return value


AttributeValue = Annotated[
    str | bool | int | float | list[str] | list[bool] | list[int] | list[float],
    BeforeValidator(_sequence_to_list),
    AfterValidator(_finite_attribute),
]
"""An OpenTelemetry attribute value: a primitive or a homogeneous sequence of primitives."""

Attributes = dict[str, AttributeValue]

_HEX = re.compile(r"^[0-9a-f]+$")


def check_hex_id(value: str | None, length: int, what: str, phrase: str) -> str | None:
    """Validate a W3C trace/span id: `length` lowercase hex digits, not all zero."""
    if value is None:
        return None
    if len(value) != length or not _HEX.match(value):
        msg = f"{phrase}: {what} must be {length} lowercase hex digits, got {_safe_repr(value)}"
        raise ValueError(msg)
    if value.strip("0") == "":
        msg = f"{phrase}: {what} must not be all zeros"
        raise ValueError(msg)
    return value
