"""Per-alert lifecycle state and how a firing rule becomes a `FlextAlert`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from flext_observability.exceptions import ConfigurationError
from flext_observability.models import AlertSeverity, AlertStatus, FlextAlert, alert_fingerprint
from flext_observability.rules._kinds import (
    AbsenceRule,
    AlertRule,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    ThresholdRule,
)
from flext_observability.rules._windows import Finding, GroupKey, format_seconds

__all__ = ["Track", "check_silence", "new_alert", "rule_threshold"]


@dataclass
class Track:
    """Lifecycle of one fingerprint (a rule, or one group of a grouped rule).

    Attributes:
        fingerprint: `alert_fingerprint(rule name, rule name, labels)`.
        labels: The rule's labels plus the grouping labels (`logger`, `check`).
        pending_since: When the condition started holding (for `for_s`), or None.
        alert: The open alert, or None.
        activated_at: Clock time of the open alert's activation.
        escalated: Whether the open alert has escalated already.
        resolved_at: Clock time of the last resolution (for the cooldown), or None.
        notified: Whether the open alert's activation was emitted (False while silenced).
    """

    fingerprint: str
    labels: dict[str, str]
    pending_since: float | None = None
    alert: FlextAlert | None = None
    activated_at: float = 0.0
    escalated: bool = False
    resolved_at: float | None = None
    notified: bool = False

    @classmethod
    def for_group(cls, rule: AlertRule, key: GroupKey) -> Track:
        """Start tracking one group of `rule`; grouping labels override the rule's labels."""
        labels = rule.labels | dict(key)
        return cls(alert_fingerprint(rule.name, rule.name, labels), labels)

    def activate(self, alert: FlextAlert, now: float, *, notified: bool) -> None:
        """Record a new open alert."""
        self.alert = alert
        self.activated_at = now
        self.escalated = False
        self.pending_since = None
        self.notified = notified


def check_silence(fingerprint: object, duration_s: object) -> None:
    """Raise `ConfigurationError` for an empty fingerprint or a duration that is not > 0 s."""
    if not isinstance(fingerprint, str) or not fingerprint:
        msg = f"silence fingerprint: expected a non-empty string, got {fingerprint!r}"
        raise ConfigurationError(msg)
    if (
        isinstance(duration_s, bool)
        or not isinstance(duration_s, int | float)
        or not (math.isfinite(duration_s) and duration_s > 0)
    ):
        raise ConfigurationError(f"silence duration_s: expected a number > 0, got {duration_s!r}")


def rule_threshold(rule: AlertRule) -> float | None:
    """Return the number a rule compares against, for the alert's `threshold` field."""
    if isinstance(rule, ThresholdRule | ErrorRatioRule):
        return rule.threshold
    if isinstance(rule, LatencyRule):
        return rule.threshold_ms
    if isinstance(rule, LogRateRule):
        return float(rule.threshold)
    if isinstance(rule, HealthRule):
        return float(rule.consecutive)
    if isinstance(rule, AbsenceRule):
        return rule.duration_s
    return None


def new_alert(
    rule: AlertRule,
    track: Track,
    finding: Finding,
    *,
    status: AlertStatus,
    at: datetime,
    service_name: str | None,
) -> FlextAlert:
    """Build the alert for a rule whose condition holds."""
    details = {"kind": rule.kind} | finding.details
    if rule.for_s:
        details["for"] = format_seconds(rule.for_s)
    return FlextAlert(
        name=rule.name,
        message=finding.message or f"alert rule {rule.name} fired",
        severity=AlertSeverity(rule.severity),
        status=status,
        details=details,
        labels=track.labels,
        source=rule.name,
        fingerprint=track.fingerprint,
        trace_id=finding.trace_id,
        span_id=finding.span_id,
        value=finding.value,
        threshold=rule_threshold(rule),
        timestamp=at,
        service_name=service_name,
    )
