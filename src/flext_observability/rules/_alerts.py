"""`Alerts`: the alert engine as the setup handle exposes it (`obs.alerts`).

State changes made by hand (acknowledge, silence) are written to the sinks like the engine's
own transitions, so the store and notifiers see them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flext_observability.models import FlextAlert
from flext_observability.result import FlextResult
from flext_observability.rules._engine import AlertEngine
from flext_observability.rules._kinds import AlertRule

if TYPE_CHECKING:  # the pipeline is OpenTelemetry's edge; this core module only calls it
    from flext_observability.pipeline import Pipeline

__all__ = ["Alerts"]


class Alerts:
    """Active alerts, acknowledgement, silences and rules of a running setup."""

    def __init__(self, engine: AlertEngine, pipeline: Pipeline) -> None:
        """Wrap the engine the pipeline's worker feeds."""
        self.engine = engine
        self._pipeline = pipeline

    def active(self) -> list[FlextAlert]:
        """The open alerts (active, acknowledged or suppressed)."""
        return self.engine.active()

    def acknowledge(self, alert_id: str) -> FlextResult[FlextAlert]:
        """Acknowledge an open alert by id (it stops escalating)."""
        result = self.engine.acknowledge(alert_id)
        if result.is_success:
            self._pipeline.submit("entity", result.value)
        return result

    def silence(self, fingerprint: str, duration_s: float) -> FlextAlert | None:
        """Silence a fingerprint for `duration_s` seconds; return its open alert, if any."""
        alert = self.engine.silence(fingerprint, duration_s)
        if alert is not None:
            self._pipeline.submit("entity", alert)
        return alert

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        """The rules being evaluated."""
        return self.engine.rules

    def add_rule(self, rule: AlertRule) -> None:
        """Start evaluating `rule`."""
        self.engine.add_rule(rule)

    def remove_rule(self, name: str) -> bool:
        """Stop evaluating a rule; its open alerts resolve."""
        return self.engine.remove_rule(name)
