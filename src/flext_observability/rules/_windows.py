"""Sliding-window evaluators: span error ratio, span latency percentile, log rate.

Windows are over the engine clock at the time an entity is observed (its arrival on the
pipeline worker), not the entity's own timestamp: batching delays are small, and producer clocks
can be skewed or wrong. A sample belongs to the window while `now - arrival < window`.

Memory is bounded: every window is a deque capped at the engine's `max_samples` (the newest are
kept, so with more traffic than the cap the statistics cover the most recent samples only), and
a log-rate rule tracks at most `max_groups` loggers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import NamedTuple

from flext_observability.models import Entity, FlextLogEntry, FlextTrace, LogLevel, TraceStatus
from flext_observability.rules._kinds import ErrorRatioRule, LatencyRule, LogRateRule
from flext_observability.rules._samples import Sample, SpanSample

__all__ = [
    "NO_GROUP",
    "ErrorRatioEvaluator",
    "Finding",
    "GroupKey",
    "LatencyEvaluator",
    "LogRateEvaluator",
    "format_seconds",
    "matches",
]

GroupKey = tuple[tuple[str, str], ...]
"""The grouping labels that split one rule into several alerts (empty: one alert per rule)."""

NO_GROUP: GroupKey = ()
_OWN_LOGGER = "flext_observability"
_ALERT_EVENT = "flext.alert"


@dataclass(frozen=True, slots=True)
class Finding:
    """One evaluation of one rule group: whether the condition holds, and what to report."""

    holds: bool
    value: float | None = None
    message: str = ""
    details: dict[str, str] = field(default_factory=dict[str, str])
    trace_id: str | None = None
    span_id: str | None = None


NOT_HOLDING = Finding(holds=False)


def matches(pattern: str, value: str | None) -> bool:
    """Whether `value` (None counts as "") matches the glob `pattern`, case-sensitively."""
    text = value or ""
    return pattern in {"*", text} or fnmatchcase(text, pattern)


def is_glob(pattern: str) -> bool:
    """Whether `pattern` contains glob characters."""
    return any(char in pattern for char in "*?[")


def format_seconds(seconds: float) -> str:
    """Render a duration compactly: 250ms, 45s, 5m, 1h, 90s."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _target(operation: str, service: str) -> str:
    text = "all operations" if operation == "*" else operation
    return text if service == "*" else f"{text} in {service}"


class _Span(NamedTuple):
    at: float
    error: bool
    duration_ms: float
    trace_id: str
    span_id: str


class _SpanWindow:
    """Spans matching a rule's operation/service filter, over its window, capped."""

    def __init__(self, rule: ErrorRatioRule | LatencyRule, max_samples: int) -> None:
        self.rule = rule
        self.samples: deque[_Span] = deque()
        self.errors = 0
        self._cap = max_samples
        self._cached: Finding | None = None

    def ingest(self, entity: Entity | Sample, now: float) -> None:
        """Add a matching span (an entity, or the sample of a span that was not sampled)."""
        if isinstance(entity, SpanSample):
            error = entity.error
        elif isinstance(entity, FlextTrace):
            error = entity.status is TraceStatus.ERROR
        else:
            return
        if not (
            matches(self.rule.operation, entity.operation_name)
            and matches(self.rule.service, entity.service_name)
        ):
            return
        if isinstance(self.rule, LatencyRule) and entity.duration_ms is None:
            return
        if len(self.samples) >= self._cap:
            self._drop_oldest()
        span = _Span(now, error, entity.duration_ms or 0.0, entity.trace_id, entity.span_id)
        self.samples.append(span)
        self.errors += span.error
        self._cached = None

    def _drop_oldest(self) -> None:
        self.errors -= self.samples.popleft().error
        self._cached = None

    def findings(self, now: float) -> dict[GroupKey, Finding]:
        """Expire old samples, then evaluate (cached until the window changes)."""
        cutoff = now - self.rule.window_s
        while self.samples and self.samples[0].at <= cutoff:
            self._drop_oldest()
        if self._cached is None:
            self._cached = self._compute()
        return {NO_GROUP: self._cached}

    def _compute(self) -> Finding:
        raise NotImplementedError

    def _details(self) -> dict[str, str]:
        rule = self.rule
        return {
            "kind": rule.kind,
            "operation": rule.operation,
            "service": rule.service,
            "window": format_seconds(rule.window_s),
            "count": str(len(self.samples)),
            "min_count": str(rule.min_count),
        }


class ErrorRatioEvaluator(_SpanWindow):
    """`errors / spans > threshold` over the window, once `min_count` spans are in it."""

    rule: ErrorRatioRule

    def _compute(self) -> Finding:
        count = len(self.samples)
        if count == 0 or count < self.rule.min_count:
            return NOT_HOLDING
        ratio = self.errors / count
        if not ratio > self.rule.threshold:
            return Finding(holds=False, value=ratio)
        last_error = next(span for span in reversed(self.samples) if span.error)
        message = (
            f"error ratio {ratio:.2f} > {self.rule.threshold:g} for "
            f"{_target(self.rule.operation, self.rule.service)} over "
            f"{format_seconds(self.rule.window_s)} ({self.errors}/{count} spans)"
        )
        details = self._details() | {"errors": str(self.errors)}
        return Finding(
            holds=True,
            value=ratio,
            message=message,
            details=details,
            trace_id=last_error.trace_id,
            span_id=last_error.span_id,
        )


def nearest_rank(sorted_values: list[float], percentile: float) -> float:
    """Return the nearest-rank percentile (0 < percentile <= 100) of non-empty sorted values."""
    rank = math.ceil(percentile * len(sorted_values) / 100)
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


class LatencyEvaluator(_SpanWindow):
    """Nearest-rank percentile of span durations `> threshold_ms`, with `min_count` spans."""

    rule: LatencyRule

    def _compute(self) -> Finding:
        count = len(self.samples)
        if count == 0 or count < self.rule.min_count:
            return NOT_HOLDING
        value = nearest_rank(
            sorted(span.duration_ms for span in self.samples), self.rule.percentile
        )
        if not value > self.rule.threshold_ms:
            return Finding(holds=False, value=value)
        slowest = max(self.samples, key=lambda span: span.duration_ms)
        message = (
            f"p{self.rule.percentile:g} latency {value:.1f}ms > {self.rule.threshold_ms:g}ms for "
            f"{_target(self.rule.operation, self.rule.service)} over "
            f"{format_seconds(self.rule.window_s)} ({count} spans)"
        )
        details = self._details() | {"percentile": f"{self.rule.percentile:g}"}
        return Finding(
            holds=True,
            value=value,
            message=message,
            details=details,
            trace_id=slowest.trace_id,
            span_id=slowest.span_id,
        )


def is_own_record(entry: FlextLogEntry) -> bool:
    """Whether a log entry is flext-observability's own (alert records included)."""
    name = entry.logger_name
    own = name == _OWN_LOGGER or name.startswith(_OWN_LOGGER + ".")
    return own or entry.context.get("event.name") == _ALERT_EVENT


class LogRateEvaluator:
    """Counts logs at or above a level per logger over the window.

    Each logger's deque keeps at most `max(threshold + 1, 1024)` arrival times (never more than
    `max_samples`): enough to decide `count > threshold` exactly; a reported count that hit the
    cap is shown as "N+".
    """

    def __init__(self, rule: LogRateRule, max_samples: int, max_groups: int) -> None:
        self.rule = rule
        self.groups: dict[str, deque[float]] = {}
        self._levels = frozenset(
            level for level in LogLevel if level.rank >= LogLevel(rule.level).rank
        )
        self._cap = min(max_samples, max(rule.threshold + 1, 1024))
        self._max_groups = max_groups
        self._label = is_glob(rule.logger)

    def ingest(self, entity: Entity | Sample, now: float) -> None:
        """Count a matching log entry."""
        if not isinstance(entity, FlextLogEntry) or entity.level not in self._levels:
            return
        if not matches(self.rule.logger, entity.logger_name) or is_own_record(entity):
            return
        times = self.groups.get(entity.logger_name)
        if times is None:
            if len(self.groups) >= self._max_groups:
                return
            times = self.groups[entity.logger_name] = deque(maxlen=self._cap)
        times.append(now)

    def findings(self, now: float) -> dict[GroupKey, Finding]:
        """Expire old entries, drop empty loggers, evaluate each logger."""
        cutoff = now - self.rule.window_s
        result: dict[GroupKey, Finding] = {}
        for logger, times in list(self.groups.items()):
            while times and times[0] <= cutoff:
                times.popleft()
            if not times:
                del self.groups[logger]
                continue
            key: GroupKey = (("logger", logger),) if self._label else NO_GROUP
            result[key] = self._evaluate(logger, times)
        return result

    def _evaluate(self, logger: str, times: deque[float]) -> Finding:
        count = len(times)
        if not count > self.rule.threshold:
            return Finding(holds=False, value=float(count))
        shown = f"{count}+" if count == times.maxlen else str(count)
        window = format_seconds(self.rule.window_s)
        message = (
            f"{shown} logs at {self.rule.level} or above from {logger or '<root>'} over "
            f"{window} (threshold {self.rule.threshold})"
        )
        details = {
            "kind": self.rule.kind,
            "logger": logger,
            "level": self.rule.level,
            "window": window,
            "count": shown,
        }
        return Finding(holds=True, value=float(count), message=message, details=details)
