"""`AlertmanagerSink`: post in-process alerts to Alertmanager's v2 API (`/api/v2/alerts`).

Each alert becomes an Alertmanager alert whose labels are `alertname` (the rule name),
`severity`, `service` (when known) and the rule's labels; two processes firing the same rule
therefore post the same label set, and Alertmanager keeps one alert (deduplication, grouping,
silences and routing are its job). Annotations carry the message (`summary`), the value and
threshold, and the trace id. `startsAt` is the activation time; a resolution posts the same
labels with `endsAt`. An escalation resolves the old severity's alert and fires the new one.

Alertmanager forgets an alert that is not re-posted within its `resolve_timeout` (5 minutes by
default), so every open alert is posted again every `resend_interval` seconds (60) while it
stays open, as Prometheus does.

Delivery is the webhook sink's (`WebhookSink`): a bounded queue, a daemon sender, retries on 429,
5xx and connection errors with full-jitter backoff and `Retry-After`, drops counted per reason,
and the URL (credentials, path, query) masked in every message and `repr`. Core module: no
OpenTelemetry import.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flext_observability._internal.guard import guard
from flext_observability.models import AlertStatus, Entity, FlextAlert
from flext_observability.sinks._webhook_http import check_number
from flext_observability.sinks.webhook import WebhookSink

__all__ = ["ALERTS_PATH", "AlertmanagerSink", "alertmanager_alerts"]

ALERTS_PATH = "/api/v2/alerts"
_OPEN = (AlertStatus.ACTIVE, AlertStatus.ACKNOWLEDGED)


def _alerts_url(url: str) -> str:
    """The base URL with `/api/v2/alerts` appended to its path (a bad one: as given)."""
    try:
        parts = urlsplit(url)
    except (ValueError, TypeError, AttributeError):
        return url  # `Target.parse` reports it, masked
    path = parts.path.rstrip("/") + ALERTS_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _labels(alert: FlextAlert, severity: str) -> dict[str, str]:
    labels = dict(alert.labels)
    labels.update({"alertname": alert.name, "severity": severity})
    if alert.service_name:
        labels["service"] = alert.service_name
    return labels


def alertmanager_alerts(alert: FlextAlert) -> list[dict[str, Any]]:
    """The Alertmanager v2 alerts one alert transition posts (two for an escalation)."""
    annotations = {"summary": alert.message, "fingerprint": alert.fingerprint}
    if alert.value is not None:
        annotations["value"] = f"{alert.value:g}"
    if alert.threshold is not None:
        annotations["threshold"] = f"{alert.threshold:g}"
    if alert.trace_id:
        annotations["trace_id"] = alert.trace_id
    item: dict[str, Any] = {
        "labels": _labels(alert, alert.severity.value),
        "annotations": annotations,
        "startsAt": _iso(alert.timestamp),
    }
    if alert.status is AlertStatus.RESOLVED:
        item["endsAt"] = _iso(alert.resolved_at or datetime.now(UTC))
    items = [item]
    previous = alert.details.get("escalated_from")
    if previous and alert.status in _OPEN:
        items.insert(
            0,
            {
                "labels": _labels(alert, previous),
                "annotations": annotations,
                "startsAt": _iso(alert.timestamp),
                "endsAt": _iso(datetime.now(UTC)),
            },
        )
    return items


class AlertmanagerSink(WebhookSink):
    """Post alerts to Alertmanager (see the module doc); other entities are ignored.

    Args:
        url: Alertmanager's base URL (`http://host:9093`); `/api/v2/alerts` is appended.
        resend_interval: Seconds between two posts of an open alert.
        **options: The `WebhookSink` options (timeout, retries, backoff, queue size, ...).
    """

    _WHAT = "Alertmanager"

    def __init__(
        self,
        url: str,
        *,
        resend_interval: float = 60.0,
        headers: Mapping[str, str] | None = None,
        suppress: Callable[[], AbstractContextManager[object]] | None = None,
        **options: Any,
    ) -> None:
        """Validate the settings (the URL is shown masked in errors)."""
        self._resend_interval = check_number(
            "resend_interval", resend_interval, minimum=0, inclusive=False
        )
        self._open: dict[str, FlextAlert] = {}
        self._last_resend = time.monotonic()
        super().__init__(_alerts_url(url), headers=headers, suppress=suppress, **options)

    def _reset_runtime(self) -> None:
        super()._reset_runtime()
        self._open = {}
        self._last_resend = time.monotonic()

    def write(self, entities: Sequence[Entity]) -> None:
        """Note which alerts are open (to re-post them), then queue the transitions."""
        with guard("sinks.alertmanager"):
            self._check_fork()
            with self._cond:
                for alert in entities:
                    if not isinstance(alert, FlextAlert):
                        continue
                    if alert.status in _OPEN:
                        self._open[alert.fingerprint] = alert
                    else:
                        self._open.pop(alert.fingerprint, None)
        super().write(entities)

    def _payload(self, alert: FlextAlert) -> bytes:
        return json.dumps(alertmanager_alerts(alert)).encode("utf-8")

    def _idle_wait(self) -> float | None:
        return self._resend_interval if self._open else None

    def _on_idle(self) -> None:
        now = time.monotonic()
        if not self._open or now - self._last_resend < self._resend_interval:
            return
        self._last_resend = now
        for alert in list(self._open.values()):
            self._enqueue_locked(alert)
