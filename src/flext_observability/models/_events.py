"""`FlextAlert` and `FlextHealthCheck`: the entities the alert and health pipelines produce."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, field_validator, model_validator

from flext_observability.models._base import FlextEntity, rebuild
from flext_observability.models._sources import utc_now
from flext_observability.models._types import (
    AlertSeverity,
    AlertStatus,
    Attributes,
    HealthStatus,
    UtcDatetime,
    check_hex_id,
    normalize_enum,
)
from flext_observability.result import FlextResult

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["FlextAlert", "FlextHealthCheck", "alert_fingerprint"]


def alert_fingerprint(name: str, source: str, labels: dict[str, str] | None = None) -> str:
    """Return a fingerprint stable across processes: SHA-256 of name, source and labels."""
    payload = json.dumps([name, source, sorted((labels or {}).items())], ensure_ascii=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _non_empty(value: str, what: str) -> str:
    if not value.strip():
        msg = f"Invalid alert: {what} cannot be empty"
        raise ValueError(msg)
    return value


class FlextAlert(FlextEntity):
    """An alert raised by a rule (or by hand), with its lifecycle.

    `labels` are the grouping labels that, with `name` and `source`, make the `fingerprint`;
    alerts with one fingerprint are one alert while active.
    """

    name: str
    message: str
    severity: AlertSeverity = AlertSeverity.WARNING
    status: AlertStatus = AlertStatus.ACTIVE
    details: dict[str, str] = Field(default_factory=dict[str, str])
    labels: dict[str, str] = Field(default_factory=dict[str, str])
    source: str = "manual"
    fingerprint: str = ""
    resolved_at: UtcDatetime | None = None
    acknowledged_at: UtcDatetime | None = None
    trace_id: str | None = None
    span_id: str | None = None
    value: float | None = None
    threshold: float | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _non_empty(value, "name")

    @field_validator("message")
    @classmethod
    def _check_message(cls, value: str) -> str:
        return _non_empty(value, "message")

    @field_validator("severity", mode="before")
    @classmethod
    def _check_severity(cls, value: object) -> object:
        return normalize_enum(value, AlertSeverity, "Invalid severity level")

    @field_validator("status", mode="before")
    @classmethod
    def _check_status(cls, value: object) -> object:
        return normalize_enum(value, AlertStatus, "Invalid alert: status")

    @field_validator("trace_id")
    @classmethod
    def _check_trace_id(cls, value: str | None) -> str | None:
        return check_hex_id(value, 32, "trace_id", "Invalid alert")

    @field_validator("span_id")
    @classmethod
    def _check_span_id(cls, value: str | None) -> str | None:
        return check_hex_id(value, 16, "span_id", "Invalid alert")

    @model_validator(mode="after")
    def _fill_fingerprint(self) -> Self:
        if not self.fingerprint:
            fingerprint = alert_fingerprint(self.name, self.source, self.labels)
            object.__setattr__(self, "fingerprint", fingerprint)
        return self

    @property
    def is_active(self) -> bool:
        """Whether the alert is still open (active, acknowledged or suppressed)."""
        return self.status is not AlertStatus.RESOLVED

    def _transition(self, target: str, update: dict[str, Any]) -> FlextResult[FlextAlert]:
        if self.status is AlertStatus.RESOLVED:
            return FlextResult[FlextAlert].fail(
                f"Invalid alert: cannot {target} an alert that is already resolved",
                error_code="INVALID_TRANSITION",
            )
        return rebuild(self, update, "Invalid alert")

    def acknowledge(self, at: datetime | None = None) -> FlextResult[FlextAlert]:
        """Return the alert acknowledged (keeps the first acknowledgement time)."""
        when = self.acknowledged_at or at or utc_now()
        return self._transition(
            "acknowledge", {"status": AlertStatus.ACKNOWLEDGED, "acknowledged_at": when}
        )

    def resolve(self, at: datetime | None = None) -> FlextResult[FlextAlert]:
        """Return the alert resolved, with `resolved_at` set."""
        when = at or utc_now()
        return self._transition("resolve", {"status": AlertStatus.RESOLVED, "resolved_at": when})

    def suppress(self) -> FlextResult[FlextAlert]:
        """Return the alert suppressed (silenced while the condition lasts)."""
        return self._transition("suppress", {"status": AlertStatus.SUPPRESSED})

    def escalate(self) -> FlextResult[FlextAlert]:
        """Return the alert one severity step up; `critical` cannot escalate further."""
        higher = self.severity.escalated()
        if higher is None:
            return FlextResult[FlextAlert].fail(
                "Invalid alert: severity is already critical", error_code="INVALID_TRANSITION"
            )
        return self._transition("escalate", {"severity": higher})


class FlextHealthCheck(FlextEntity):
    """The outcome of one run of a health check."""

    name: str
    status: HealthStatus = HealthStatus.UNKNOWN
    message: str = ""
    details: Attributes = Field(default_factory=dict[str, Any])
    duration_ms: float | None = Field(default=None, ge=0)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not value.strip():
            msg = "Invalid health check: name cannot be empty"
            raise ValueError(msg)
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _check_status(cls, value: object) -> object:
        return normalize_enum(value, HealthStatus, "Invalid health status")

    @property
    def is_healthy(self) -> bool:
        """Whether the status is `healthy`."""
        return self.status is HealthStatus.HEALTHY
