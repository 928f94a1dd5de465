"""`AlertEngine`: evaluates alert rules over the entity stream and manages alert lifecycles.

One engine is fed by the pipeline worker (`observe`, `evaluate`) and read by application
threads (`active`, `acknowledge`, `silence`); a single lock guards it. Both feeding calls return
the *transitions* to deliver, and nothing else:

- activation: a new `FlextAlert` with status `active` (its condition held for the rule's `for_s`
  and any cooldown after the previous resolution has passed);
- escalation: the same alert (same `id` and `fingerprint`) one severity step up, once, when it
  stayed active (not acknowledged) for `escalate_after_s`;
- resolution: the same alert with status `resolved` and `resolved_at`, when the condition clears.

While an alert stays open and unchanged nothing is re-emitted (deduplication by fingerprint).
A silenced fingerprint emits nothing until the silence expires; its open alert shows status
`suppressed`. At expiry the alert is emitted again with its status restored (if still open), and
a resolution that happened during the silence is emitted then (if the activation had been).
Rule errors (bugs, odd data) are reported through `_internal.guard` and never raise into the caller,
except in strict mode.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from flext_observability._internal import fork
from flext_observability._internal.guard import Guard, guard
from flext_observability.exceptions import ConfigurationError
from flext_observability.models import AlertStatus, Entity, FlextAlert
from flext_observability.models._base import rebuild
from flext_observability.result import FlextResult
from flext_observability.rules._kinds import AlertRule
from flext_observability.rules._lifecycle import Track, check_silence, new_alert
from flext_observability.rules._samples import Sample
from flext_observability.rules._state import (
    Evaluator,
    accepted_types,
    check_capacity,
    make_evaluator,
)
from flext_observability.rules._windows import NOT_HOLDING, Finding, GroupKey

__all__ = ["DEFAULT_MAX_GROUPS", "DEFAULT_MAX_SAMPLES", "AlertEngine"]

DEFAULT_MAX_SAMPLES = 10_000
"""Samples one window keeps at most (the newest win)."""
DEFAULT_MAX_GROUPS = 100
"""Series, loggers or checks one rule tracks at most; new ones beyond are ignored."""

_ENGINE_GUARD = guard("alert engine")


def _rule_guard(rule: AlertRule) -> Guard[None]:
    """The guard of one rule: its failures are counted under its name."""
    return guard(f"alert rule {rule.name!r}")


class AlertEngine:
    """Evaluate alert rules over batches of entities with an injectable clock.

    Args:
        rules: Initial rules (names must be unique).
        clock: Seconds, used for windows, `for`, cooldown, escalation and silences.
        wall: Wall-clock time for alert timestamps; by default derived from `clock()`.
        service_name: Copied onto every alert.
        max_samples: Cap on samples per window.
        max_groups: Cap on series/loggers/checks per rule.
    """

    def __init__(
        self,
        rules: Iterable[AlertRule] = (),
        *,
        clock: Callable[[], float] = time.time,
        wall: Callable[[], datetime] | None = None,
        service_name: str | None = None,
        max_samples: int = DEFAULT_MAX_SAMPLES,
        max_groups: int = DEFAULT_MAX_GROUPS,
    ) -> None:
        """Build an engine; raise `ConfigurationError` for an invalid rule or cap."""
        for name, cap in (("max_samples", max_samples), ("max_groups", max_groups)):
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise ConfigurationError(
                    f"AlertEngine {name}: expected an integer >= 1, got {cap!r}"
                )
        self._clock = clock
        self._wall_clock = wall
        self._service_name = service_name
        self._max_samples = max_samples
        self._max_groups = max_groups
        self._lock = threading.RLock()
        self._evaluators: dict[str, Evaluator] = {}
        self._tracks: dict[str, dict[GroupKey, Track]] = {}
        self._silences: dict[str, float] = {}
        self._deferred: dict[str, list[FlextAlert]] = {}
        self._outbox: list[FlextAlert] = []
        for rule in rules:
            self.add_rule(rule)
        fork.register(self, after_in_child=self._after_fork)

    # -- rules ---------------------------------------------------------------------------------

    @property
    def rules(self) -> tuple[AlertRule, ...]:
        """The rules, in the order they were added."""
        with self._lock:
            return tuple(evaluator.rule for evaluator in self._evaluators.values())

    def add_rule(self, rule: AlertRule) -> None:
        """Add a rule; raise `ConfigurationError` on a duplicate name or an impossible count."""
        check_capacity(rule, self._max_samples)
        with self._lock:
            if rule.name in self._evaluators:
                raise ConfigurationError(f"rule {rule.name!r}: field 'name': duplicate rule name")
            evaluator = make_evaluator(rule, self._clock(), self._max_samples, self._max_groups)
            self._evaluators[rule.name] = evaluator
            self._tracks[rule.name] = {}

    def remove_rule(self, name: str) -> bool:
        """Remove a rule; its open alerts resolve with the next `observe`/`evaluate`."""
        with self._lock:
            if self._evaluators.pop(name, None) is None:
                return False
            now = self._clock()
            for track in self._tracks.pop(name).values():
                if track.alert is not None:
                    self._resolve(track, now, self._outbox)
            return True

    # -- feeding -------------------------------------------------------------------------------

    def observe(self, entities: Iterable[Entity | Sample]) -> list[FlextAlert]:
        """Take a batch of entities, evaluate every rule, and return the transitions.

        `SpanSample`s (spans that were not sampled) feed the span rules like `FlextTrace`s;
        `MetricSample`s (metrics collected with no changed series) feed metric `absence` rules.
        """
        with self._lock:
            now = self._clock()
            by_type: dict[type[Entity | Sample], list[Entity | Sample]] = {}
            for entity in entities:
                by_type.setdefault(type(entity), []).append(entity)
            for evaluator in self._evaluators.values():
                rule_guard = _rule_guard(evaluator.rule)  # a rule never breaks the worker
                for kind in accepted_types(evaluator.rule):
                    for entity in by_type.get(kind, ()):
                        with rule_guard:
                            evaluator.ingest(entity, now)
            return self._evaluate(now)

    def evaluate(self, now: float | None = None) -> list[FlextAlert]:
        """Evaluate time-driven changes (`for`, absence, window expiry, escalation, silences)."""
        with self._lock:
            return self._evaluate(self._clock() if now is None else now)

    def _evaluate(self, now: float) -> list[FlextAlert]:
        out, self._outbox = self._outbox, []
        with _ENGINE_GUARD:
            self._expire_silences(now, out)
        for name, evaluator in self._evaluators.items():
            with _rule_guard(evaluator.rule):  # one rule's failure never stops the others
                findings = evaluator.findings(now)
                tracks = self._tracks[name]
                for key in [*findings, *(key for key in tracks if key not in findings)]:
                    self._step(evaluator.rule, key, findings.get(key, NOT_HOLDING), now, out)
        return out

    # -- lifecycle -----------------------------------------------------------------------------

    def _step(
        self, rule: AlertRule, key: GroupKey, finding: Finding, now: float, out: list[FlextAlert]
    ) -> None:
        tracks = self._tracks[rule.name]
        track = tracks.get(key)
        if track is None:
            if not finding.holds:
                return
            track = tracks[key] = Track.for_group(rule, key)
        if not finding.holds:
            track.pending_since = None
            if track.alert is not None:
                self._resolve(track, now, out)
            if track.resolved_at is None or now - track.resolved_at >= rule.cooldown_s:
                del tracks[key]
            return
        if track.alert is not None:
            self._maybe_escalate(rule, track, now, out)
        else:
            self._maybe_activate(rule, track, finding, now, out)

    def _maybe_activate(
        self, rule: AlertRule, track: Track, finding: Finding, now: float, out: list[FlextAlert]
    ) -> None:
        if track.pending_since is None:
            track.pending_since = now
        if now - track.pending_since < rule.for_s:
            return
        if track.resolved_at is not None and now - track.resolved_at < rule.cooldown_s:
            return
        silenced = self._is_silenced(track.fingerprint, now)
        status = AlertStatus.SUPPRESSED if silenced else AlertStatus.ACTIVE
        alert = new_alert(
            rule, track, finding, status=status, at=self._wall(now), service_name=self._service_name
        )
        track.activate(alert, now, notified=not silenced)
        if not silenced:
            out.append(alert)

    def _maybe_escalate(
        self, rule: AlertRule, track: Track, now: float, out: list[FlextAlert]
    ) -> None:
        alert = track.alert
        after = rule.escalate_after_s
        if alert is None or after is None or track.escalated or now - track.activated_at < after:
            return
        if alert.acknowledged_at is not None:  # acknowledged (also while silenced)
            return
        track.escalated = True
        higher = alert.severity.escalated()
        if higher is None:
            return
        details = alert.details | {"escalated_from": alert.severity.value}
        track.alert = rebuild(
            alert, {"severity": higher, "details": details}, "Invalid alert"
        ).value
        if alert.status is not AlertStatus.SUPPRESSED:
            out.append(track.alert)

    def _resolve(self, track: Track, now: float, out: list[FlextAlert]) -> None:
        alert = track.alert
        assert alert is not None
        resolved = alert.resolve(at=self._wall(now)).value
        track.alert = None
        track.resolved_at = now
        if not track.notified:
            return
        if self._is_silenced(track.fingerprint, now):
            self._deferred.setdefault(track.fingerprint, []).append(resolved)
        else:
            out.append(resolved)

    # -- silences and acknowledgements ---------------------------------------------------------

    def _is_silenced(self, fingerprint: str, now: float) -> bool:
        return now < self._silences.get(fingerprint, -math.inf)

    def _expire_silences(self, now: float, out: list[FlextAlert]) -> None:
        expired = [fp for fp, until in self._silences.items() if now >= until]
        for fingerprint in expired:
            del self._silences[fingerprint]
            out.extend(self._deferred.pop(fingerprint, []))
            for track in self._open_tracks():
                alert = track.alert
                if track.fingerprint != fingerprint or alert is None:
                    continue
                status = AlertStatus.ACKNOWLEDGED if alert.acknowledged_at else AlertStatus.ACTIVE
                track.alert = rebuild(alert, {"status": status}, "Invalid alert").value
                track.notified = True
                out.append(track.alert)

    def _open_tracks(self) -> list[Track]:
        return [
            t for tracks in self._tracks.values() for t in tracks.values() if t.alert is not None
        ]

    def active(self) -> list[FlextAlert]:
        """Return the open alerts (active, acknowledged or suppressed)."""
        with self._lock:
            return [track.alert for track in self._open_tracks() if track.alert is not None]

    def acknowledge(self, alert_id: str) -> FlextResult[FlextAlert]:
        """Acknowledge an open alert by id: it is no longer escalated."""
        with self._lock:
            for track in self._open_tracks():
                alert = track.alert
                if alert is None or alert.id != alert_id:
                    continue
                when = self._wall(self._clock())
                if alert.status is AlertStatus.SUPPRESSED:
                    update = {"acknowledged_at": alert.acknowledged_at or when}
                    result = rebuild(alert, update, "Invalid alert")
                else:
                    result = alert.acknowledge(at=when)
                if result.is_success:
                    track.alert = result.value
                return result
            return FlextResult[FlextAlert].fail(
                f"Invalid alert: no open alert with id {alert_id!r}", error_code="NOT_FOUND"
            )

    def silence(self, fingerprint: str, duration_s: float) -> FlextAlert | None:
        """Silence a fingerprint for `duration_s` seconds; return its open alert, now suppressed.

        A fingerprint may be silenced before it ever fires; silencing again replaces the expiry.
        """
        check_silence(fingerprint, duration_s)
        with self._lock:
            self._silences[fingerprint] = self._clock() + duration_s
            for track in self._open_tracks():
                if track.fingerprint == fingerprint and track.alert is not None:
                    if track.alert.status is not AlertStatus.SUPPRESSED:
                        track.alert = track.alert.suppress().value
                    return track.alert
            return None

    def _wall(self, now: float) -> datetime:
        return self._wall_clock() if self._wall_clock else datetime.fromtimestamp(now, UTC)

    def _after_fork(self) -> None:
        """Start the child with a fresh lock and empty state (the rules are kept)."""
        self._lock = threading.RLock()
        rules = [evaluator.rule for evaluator in self._evaluators.values()]
        self._evaluators.clear()
        self._tracks.clear()
        self._silences.clear()
        self._deferred.clear()
        self._outbox.clear()
        for rule in rules:
            self.add_rule(rule)
