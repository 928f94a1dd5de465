"""Point-state evaluators (metric threshold, health streak, absence) and the evaluator factory."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from flext_observability.exceptions import ConfigurationError
from flext_observability.models import (
    Entity,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
)
from flext_observability.rules._kinds import (
    AbsenceRule,
    AlertRule,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    SpanRule,
    ThresholdRule,
)
from flext_observability.rules._samples import MetricSample, Sample, SpanSample
from flext_observability.rules._windows import (
    NO_GROUP,
    NOT_HOLDING,
    ErrorRatioEvaluator,
    Finding,
    GroupKey,
    LatencyEvaluator,
    LogRateEvaluator,
    format_seconds,
    is_glob,
    matches,
)

__all__ = ["KNOWN_RULES", "Evaluator", "accepted_types", "check_capacity", "make_evaluator"]

KNOWN_RULES = (ThresholdRule, ErrorRatioRule, LatencyRule, LogRateRule, HealthRule, AbsenceRule)
"""The rule kinds an engine can evaluate."""

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}
_HEALTH_RANK = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.UNKNOWN: 0,
    HealthStatus.DEGRADED: 1,
    HealthStatus.UNHEALTHY: 2,
}


class Evaluator(Protocol):
    """Per-rule state: takes entities, reports the condition of each group."""

    @property
    def rule(self) -> AlertRule:
        """The rule this state belongs to."""

    def ingest(self, entity: Entity | Sample, now: float) -> None:
        """Take one entity into the rule's state (ignored when it does not match)."""

    def findings(self, now: float) -> dict[GroupKey, Finding]:
        """Return the current condition of every group that has data."""


class ThresholdEvaluator:
    """Latest value per matching series (tag set); at most `max_groups` series, LRU."""

    def __init__(self, rule: ThresholdRule, max_groups: int) -> None:
        self.rule = rule
        self.series: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], float] = OrderedDict()
        self._max = max_groups
        self._compare = _OPS[rule.op]
        self._tags = {key: str(value) for key, value in rule.tags.items()}

    def ingest(self, entity: Entity | Sample, now: float) -> None:  # noqa: ARG002 - protocol signature
        """Record the latest value of a matching series."""
        if not isinstance(entity, FlextMetric) or not matches(self.rule.metric, entity.name):
            return
        tags = entity.tags
        if any(key not in tags or str(tags[key]) != want for key, want in self._tags.items()):
            return
        key = (entity.name, tuple(sorted((k, str(v)) for k, v in tags.items())))
        self.series[key] = float(entity.value)
        self.series.move_to_end(key)
        while len(self.series) > self._max:
            self.series.popitem(last=False)

    def findings(self, now: float) -> dict[GroupKey, Finding]:  # noqa: ARG002 - protocol
        """Hold while any series breaches; report the worst breaching value."""
        breaching = [
            (key, value)
            for key, value in self.series.items()
            if self._compare(value, self.rule.threshold)
        ]
        if not breaching:
            return {NO_GROUP: NOT_HOLDING} if self.series else {}
        reverse = self.rule.op in {">", ">=", "=="}
        (name, tags), value = sorted(breaching, key=lambda item: item[1], reverse=reverse)[0]
        shown = "".join(f" {k}={v}" for k, v in tags)
        message = f"{name} {value:g} {self.rule.op} {self.rule.threshold:g}" + (
            f" ({shown.strip()})" if shown else ""
        )
        details = {
            "kind": self.rule.kind,
            "metric": name,
            "op": self.rule.op,
            "series": str(len(breaching)),
        }
        return {NO_GROUP: Finding(holds=True, value=value, message=message, details=details)}


class HealthEvaluator:
    """Consecutive runs at the rule's status or worse, per matching check."""

    def __init__(self, rule: HealthRule, max_groups: int) -> None:
        self.rule = rule
        self.streaks: dict[str, tuple[int, FlextHealthCheck]] = {}
        self._rank = _HEALTH_RANK[HealthStatus(rule.status)]
        self._max = max_groups
        self._label = is_glob(rule.check)

    def ingest(self, entity: Entity | Sample, now: float) -> None:  # noqa: ARG002 - protocol signature
        """Extend or reset the check's streak."""
        if not isinstance(entity, FlextHealthCheck) or not matches(self.rule.check, entity.name):
            return
        if entity.name not in self.streaks and len(self.streaks) >= self._max:
            return
        previous = self.streaks.get(entity.name, (0, entity))[0]
        failing = _HEALTH_RANK[entity.status] >= self._rank
        self.streaks[entity.name] = (previous + 1 if failing else 0, entity)

    def findings(self, now: float) -> dict[GroupKey, Finding]:  # noqa: ARG002 - protocol
        """Hold for each check whose streak reached `consecutive`."""
        result: dict[GroupKey, Finding] = {}
        for name, (streak, last) in self.streaks.items():
            key: GroupKey = (("check", name),) if self._label else NO_GROUP
            if streak < self.rule.consecutive:
                result[key] = Finding(holds=False, value=float(streak))
                continue
            runs = "run" if streak == 1 else "consecutive runs"
            message = f"health check {name} {last.status.value} for {streak} {runs}"
            if last.message:
                message += f": {last.message}"
            details = {"kind": self.rule.kind, "check": name, "status": last.status.value}
            result[key] = Finding(holds=True, value=float(streak), message=message, details=details)
        return result


class AbsenceEvaluator:
    """Time since the last matching metric point or span."""

    def __init__(self, rule: AbsenceRule, now: float) -> None:
        self.rule = rule
        self.last_seen = now
        self.seen = False

    def ingest(self, entity: Entity | Sample, now: float) -> None:
        """Note the arrival of matching data."""
        rule = self.rule
        hit = (
            isinstance(entity, FlextMetric | MetricSample)
            and rule.metric is not None
            and matches(rule.metric, entity.name)
        ) or (
            isinstance(entity, FlextTrace | SpanSample)
            and rule.operation is not None
            and matches(rule.operation, entity.operation_name)
        )
        if hit:
            self.last_seen = max(self.last_seen, now)
            self.seen = True

    def findings(self, now: float) -> dict[GroupKey, Finding]:
        """Hold once nothing matching arrived for `duration_s`."""
        gap = now - self.last_seen
        if gap < self.rule.duration_s:
            return {NO_GROUP: Finding(holds=False, value=gap)}
        what = (
            f"metric {self.rule.metric}" if self.rule.metric else f"operation {self.rule.operation}"
        )
        since = f"last seen {format_seconds(gap)} ago" if self.seen else "none seen since start"
        message = f"no data for {what} for {format_seconds(self.rule.duration_s)} ({since})"
        details = {"kind": self.rule.kind, "duration": format_seconds(self.rule.duration_s)}
        return {NO_GROUP: Finding(holds=True, value=gap, message=message, details=details)}


def check_capacity(rule: object, max_samples: int) -> None:
    """Raise `ConfigurationError` for a non-rule, or a count a capped window can never reach."""
    if not isinstance(rule, KNOWN_RULES):
        raise ConfigurationError(f"add_rule: expected an alert rule, got {type(rule).__name__}")
    if isinstance(rule, SpanRule) and rule.min_count > max_samples:
        raise ConfigurationError(
            f"rule {rule.name!r}: field 'min_count': expected at most the engine's "
            f"max_samples ({max_samples}), got {rule.min_count}"
        )
    if isinstance(rule, LogRateRule) and rule.threshold >= max_samples:
        raise ConfigurationError(
            f"rule {rule.name!r}: field 'threshold': expected less than the engine's "
            f"max_samples ({max_samples}), got {rule.threshold}"
        )


def accepted_types(rule: AlertRule) -> tuple[type[Entity | Sample], ...]:
    """Return the types a rule reads (everything else is skipped without a call)."""
    if isinstance(rule, ThresholdRule):
        return (FlextMetric,)
    if isinstance(rule, AbsenceRule) and rule.metric:
        return (FlextMetric, MetricSample)
    if isinstance(rule, LogRateRule):
        return (FlextLogEntry,)
    if isinstance(rule, HealthRule):
        return (FlextHealthCheck,)
    return (FlextTrace, SpanSample)


def make_evaluator(rule: AlertRule, now: float, max_samples: int, max_groups: int) -> Evaluator:
    """Build the evaluator for a rule."""
    if isinstance(rule, ThresholdRule):
        return ThresholdEvaluator(rule, max_groups)
    if isinstance(rule, ErrorRatioRule):
        return ErrorRatioEvaluator(rule, max_samples)
    if isinstance(rule, LatencyRule):
        return LatencyEvaluator(rule, max_samples)
    if isinstance(rule, LogRateRule):
        return LogRateEvaluator(rule, max_samples, max_groups)
    if isinstance(rule, HealthRule):
        return HealthEvaluator(rule, max_groups)
    if isinstance(rule, AbsenceRule):
        return AbsenceEvaluator(rule, now)
    msg = f"unsupported rule type {type(rule).__name__}"
    raise TypeError(msg)
