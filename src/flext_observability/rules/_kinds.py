"""The six alert rule kinds: frozen, keyword-only dataclasses validated on creation.

Durations are seconds (`for_s`, `cooldown_s`, `escalate_after_s`, `window_s`, `duration_s`); the
rules file spells them `for`, `cooldown`, `escalate_after`, `window`, `duration` and also accepts
strings like "30s". Name filters (`metric`, `operation`, `service`, `logger`, `check`) accept
`fnmatch` globs, matched case-sensitively. Comparisons, in one place:

- `threshold`: `value <op> threshold` on the latest point of each matching series.
- `error_ratio`: `errors / spans > threshold` once the window holds at least `min_count` spans.
- `latency`: nearest-rank percentile of span durations `> threshold_ms`, at least `min_count`.
- `log_rate`: more than `threshold` logs at or above `level` in the window (`0` = any log).
- `health`: the last `consecutive` runs were all at `status` or worse.
- `absence`: no matching data for at least `duration_s`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NoReturn

from flext_observability._internal.text import shown
from flext_observability.exceptions import RuleFieldError
from flext_observability.models._types import AlertSeverity, LogLevel
from flext_observability.rules._checks import (
    check_choice,
    check_number,
    check_pattern,
    check_str_map,
    check_tag_map,
    fail,
)

__all__ = [
    "COMPARATORS",
    "AbsenceRule",
    "AlertRule",
    "ErrorRatioRule",
    "HealthRule",
    "LatencyRule",
    "LogRateRule",
    "SpanRule",
    "ThresholdRule",
]

COMPARATORS = (">", ">=", "<", "<=", "==")
_SEVERITIES = tuple(s.value for s in AlertSeverity)
_LEVELS = tuple(level.value for level in LogLevel)
_MAX_CONSECUTIVE = 10_000
_LEVEL_ALIASES = {"warn": "warning", "fatal": "critical"}


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    """Fields every rule has.

    Attributes:
        name: Unique rule name; it is the alert's `name` and `source`.
        severity: `info`, `warning`, `error` or `critical` (case-insensitive).
        for_s: How long the condition must hold before the alert becomes active.
        cooldown_s: After a resolution, how long before the same alert may fire again.
        escalate_after_s: Raise the severity one step once the alert has been active (not
            acknowledged) this long; `None` never escalates.
        labels: Extra labels copied onto the alert; they are part of its fingerprint.
    """

    kind: ClassVar[str] = ""

    name: str
    severity: str = "warning"
    for_s: float = 0.0
    cooldown_s: float = 0.0
    escalate_after_s: float | None = None
    labels: dict[str, str] = field(default_factory=dict[str, str], hash=False)

    def __post_init__(self) -> None:
        """Validate and normalise every field; raise `RuleFieldError` naming rule and field."""
        if not isinstance(self.name, str) or not self.name.strip():
            fail(shown(self.name), "name", f"expected a non-empty string, got {self.name!r}")
        self._set("severity", check_choice(self.name, "severity", self.severity, _SEVERITIES))
        self._set("for_s", self._seconds("for_s", self.for_s))
        self._set("cooldown_s", self._seconds("cooldown_s", self.cooldown_s))
        if self.escalate_after_s is not None:
            after = self._seconds("escalate_after_s", self.escalate_after_s, positive=True)
            self._set("escalate_after_s", after)
        self._set("labels", check_str_map(self.name, "labels", self.labels))
        self._validate()

    def _validate(self) -> None:
        """Validate the kind-specific fields (overridden by each kind)."""

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    def _fail(self, name: str, problem: str) -> NoReturn:
        raise RuleFieldError(self.name, name, problem)

    def _seconds(self, name: str, value: object, *, positive: bool = False) -> float:
        return check_number(self.name, name, value, minimum=0, min_exclusive=positive)

    def _count(self, name: str, value: object, minimum: int, maximum: int | None = None) -> int:
        return int(
            check_number(self.name, name, value, minimum=minimum, maximum=maximum, integer=True)
        )


@dataclass(frozen=True, kw_only=True)
class ThresholdRule(AlertRule):
    """Fire when the latest value of a matching metric series compares true to `threshold`.

    Every series (tag set) of the matching metrics is tracked with its latest value; the rule
    holds while any series breaches, and the alert's value is the worst breaching value. A
    series keeps its last value until a new point arrives (pair with an `AbsenceRule` to catch
    a metric that stops reporting). Histogram points compare their sum.

    Attributes:
        metric: Metric name or glob.
        tags: Tags a point must carry (values compared as strings).
        op: One of `>`, `>=`, `<`, `<=`, `==`.
        threshold: The value compared against.
    """

    kind: ClassVar[str] = "threshold"

    metric: str
    tags: dict[str, str | int | float | bool] = field(
        default_factory=dict[str, str | int | float | bool], hash=False
    )
    op: str = ">"
    threshold: float

    def _validate(self) -> None:
        self._set("metric", check_pattern(self.name, "metric", self.metric))
        self._set("tags", check_tag_map(self.name, "tags", self.tags))
        if self.op not in COMPARATORS:
            self._fail("op", f"expected one of {', '.join(COMPARATORS)}, got {shown(self.op)}")
        self._set("threshold", check_number(self.name, "threshold", self.threshold))


@dataclass(frozen=True, kw_only=True)
class SpanRule(AlertRule):
    """Fields shared by the span rules (error ratio and latency)."""

    operation: str = "*"
    service: str = "*"
    window_s: float = 60.0
    min_count: int = 1

    def _validate(self) -> None:
        self._set("operation", check_pattern(self.name, "operation", self.operation))
        self._set("service", check_pattern(self.name, "service", self.service))
        self._set("window_s", self._seconds("window_s", self.window_s, positive=True))
        self._set("min_count", self._count("min_count", self.min_count, 1))


@dataclass(frozen=True, kw_only=True)
class ErrorRatioRule(SpanRule):
    """Fire when the share of error spans in the window exceeds `threshold`.

    Attributes:
        operation: Span name or glob.
        service: Service name or glob (`*` also matches spans without a service).
        window_s: Sliding window length.
        threshold: Ratio from 0 to 1; the rule holds when `errors / spans > threshold`.
        min_count: Spans the window must hold before the ratio counts.
    """

    kind: ClassVar[str] = "error_ratio"

    threshold: float

    def _validate(self) -> None:
        super()._validate()
        ratio = check_number(self.name, "threshold", self.threshold, minimum=0, maximum=1)
        self._set("threshold", ratio)


@dataclass(frozen=True, kw_only=True)
class LatencyRule(SpanRule):
    """Fire when a percentile of span durations in the window exceeds `threshold_ms`.

    The percentile is exact (nearest rank) over the window's samples, which are capped per rule
    (the engine's `max_samples`, newest kept).

    Attributes:
        operation: Span name or glob.
        service: Service name or glob.
        window_s: Sliding window length.
        percentile: Above 0 and up to 100 (95 = p95).
        threshold_ms: The rule holds when the percentile is greater than this.
        min_count: Spans the window must hold before the percentile counts.
    """

    kind: ClassVar[str] = "latency"

    percentile: float = 95.0
    threshold_ms: float

    def _validate(self) -> None:
        super()._validate()
        percentile = check_number(self.name, "percentile", self.percentile, minimum=0, maximum=100)
        if percentile == 0:
            self._fail("percentile", "expected a number from 0 (exclusive) to 100, got 0")
        self._set("percentile", percentile)
        self._set("threshold_ms", self._seconds("threshold_ms", self.threshold_ms))


@dataclass(frozen=True, kw_only=True)
class LogRateRule(AlertRule):
    """Fire when more than `threshold` logs at or above `level` arrive within the window.

    With a glob `logger` each matching logger is its own alert (label `logger`). Records of
    flext-observability itself (loggers `flext_observability*`, or `event.name == "flext.alert"`)
    never count, so alerts cannot trigger alerts.

    Attributes:
        level: Lowest level counted.
        logger: Logger name or glob (`*` includes the root logger, named "").
        window_s: Sliding window length.
        threshold: Count that must be exceeded (0: any matching log fires).
    """

    kind: ClassVar[str] = "log_rate"

    level: str = "error"
    logger: str = "*"
    window_s: float = 60.0
    threshold: int

    def _validate(self) -> None:
        level: object = self.level
        if isinstance(level, str):
            level = _LEVEL_ALIASES.get(level.strip().lower(), level)
        self._set("level", check_choice(self.name, "level", level, _LEVELS))
        self._set("logger", check_pattern(self.name, "logger", self.logger))
        self._set("window_s", self._seconds("window_s", self.window_s, positive=True))
        self._set("threshold", self._count("threshold", self.threshold, 0))


@dataclass(frozen=True, kw_only=True)
class HealthRule(AlertRule):
    """Fire when a health check reports `status` or worse for `consecutive` runs in a row.

    `degraded` also matches `unhealthy`. `unknown` and `healthy` runs reset the count. With a
    glob `check` each matching check is its own alert (label `check`).

    Attributes:
        check: Health check name or glob.
        status: `degraded` or `unhealthy`.
        consecutive: Runs in a row needed.
    """

    kind: ClassVar[str] = "health"

    check: str
    status: str = "unhealthy"
    consecutive: int = 1

    def _validate(self) -> None:
        self._set("check", check_pattern(self.name, "check", self.check))
        self._set(
            "status", check_choice(self.name, "status", self.status, ("degraded", "unhealthy"))
        )
        self._set("consecutive", self._count("consecutive", self.consecutive, 1, _MAX_CONSECUTIVE))


@dataclass(frozen=True, kw_only=True)
class AbsenceRule(AlertRule):
    """Fire when no matching metric point (or span) has arrived for `duration_s`.

    The clock starts when the rule is added to an engine, so a metric that never reports fires
    `duration_s` after start-up. Exactly one of `metric` and `operation` is set.

    Attributes:
        metric: Metric name or glob.
        operation: Span name or glob.
        duration_s: Silence that makes the rule hold (at least this long).
    """

    kind: ClassVar[str] = "absence"

    metric: str | None = None
    operation: str | None = None
    duration_s: float

    def _validate(self) -> None:
        if (self.metric is None) == (self.operation is None):
            self._fail("metric", "expected exactly one of 'metric' and 'operation'")
        if self.metric is not None:
            self._set("metric", check_pattern(self.name, "metric", self.metric))
        if self.operation is not None:
            self._set("operation", check_pattern(self.name, "operation", self.operation))
        self._set("duration_s", self._seconds("duration_s", self.duration_s, positive=True))
