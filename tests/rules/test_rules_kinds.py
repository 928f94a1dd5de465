"""Property tests: every rule kind fires exactly at its threshold edges, with a fake clock."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from flext_observability.models import (
    AlertSeverity,
    AlertStatus,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    LogLevel,
)
from flext_observability.rules import (
    AbsenceRule,
    AlertEngine,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    ThresholdRule,
)
from flext_observability.testing import FakeClock

T0 = 0.0


def span(
    operation: str = "checkout", *, error: bool = False, duration_ms: float = 5.0
) -> FlextTrace:
    """A finished span of `operation` in service `shop`."""
    return FlextTrace.model_validate(
        {
            "operation_name": operation,
            "service_name": "shop",
            "status": "error" if error else "ok",
            "duration_ms": duration_ms,
        }
    )


def log(level: str = "error", logger: str = "app.db") -> FlextLogEntry:
    """A log entry at `level` from `logger`."""
    return FlextLogEntry(level=LogLevel(level), message="boom", logger_name=logger)


def statuses(alerts: list[FlextAlert]) -> list[tuple[str, AlertStatus]]:
    """The (name, status) of each alert, in order."""
    return [(alert.name, alert.status) for alert in alerts]


# An edge: a value just below, exactly at, or just above a reference number.
Edge = Callable[[float], float]
EDGES: list[Edge] = [
    lambda x: math.nextafter(x, -math.inf),
    lambda x: x,
    lambda x: math.nextafter(x, math.inf),
]
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


@given(
    threshold=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    edge=st.sampled_from(EDGES),
    op=st.sampled_from(sorted(OPS)),
)
def test_threshold_fires_exactly_when_the_comparison_holds(
    threshold: float, edge: Edge, op: str
) -> None:
    """A threshold rule fires iff `value <op> threshold`, at and around the threshold."""
    value = edge(threshold)
    engine = AlertEngine(
        [
            ThresholdRule(
                name="t", metric="queue.*", tags={"q": "orders"}, op=op, threshold=threshold
            )
        ],
        clock=FakeClock(seconds=T0),
    )
    other = FlextMetric(name="queue.depth", value=value, tags={"q": "other"})
    assert engine.observe([other]) == []
    fired = engine.observe([FlextMetric(name="queue.depth", value=value, tags={"q": "orders"})])
    expected = OPS[op](value, threshold)
    assert statuses(fired) == ([("t", AlertStatus.ACTIVE)] if expected else [])
    if expected:
        assert (fired[0].value, fired[0].threshold) == (value, threshold)


@given(
    total=st.integers(min_value=1, max_value=40),
    data=st.data(),
    edge=st.sampled_from(EDGES),
)
def test_error_ratio_edges(total: int, data: st.DataObject, edge: Edge) -> None:
    """Error ratio fires iff spans >= min_count and errors/spans > threshold."""
    errors = data.draw(st.integers(min_value=0, max_value=total), label="errors")
    min_count = data.draw(st.integers(min_value=1, max_value=41), label="min_count")
    ratio = errors / total
    threshold = min(max(edge(ratio), 0.0), 1.0)
    clock = FakeClock(seconds=T0)
    engine = AlertEngine(
        [
            ErrorRatioRule(
                name="e", operation="check*", window_s=60, threshold=threshold, min_count=min_count
            )
        ],
        clock=clock,
    )
    batch = [span(error=i < errors) for i in range(total)] + [span("other", error=True)]
    fired = engine.observe(batch)
    expected = total >= min_count and ratio > threshold
    assert statuses(fired) == ([("e", AlertStatus.ACTIVE)] if expected else [])
    if expected:
        assert fired[0].message == (
            f"error ratio {ratio:.2f} > {threshold:g} for check* over 1m ({errors}/{total} spans)"
        )
        last_error = batch[errors - 1]
        assert (fired[0].trace_id, fired[0].span_id) == (last_error.trace_id, last_error.span_id)
    # The window still holds every span just before it ends, and none at its end.
    clock.now = T0 + math.nextafter(60, 0)
    assert engine.evaluate() == []
    clock.now = T0 + 60
    assert statuses(engine.evaluate()) == ([("e", AlertStatus.RESOLVED)] if expected else [])


def _nearest_rank(values: list[float], percentile: float) -> float:
    """The smallest value with at least `percentile` % of the values at or below it."""
    return min(v for v in values if sum(x <= v for x in values) * 100 >= percentile * len(values))


@given(
    durations=st.lists(
        st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=1, max_size=40
    ),
    percentile=st.one_of(
        st.sampled_from([50.0, 90.0, 95.0, 99.0, 100.0]),
        st.floats(min_value=0.5, max_value=100),
    ),
    edge=st.sampled_from(EDGES),
    min_count=st.integers(min_value=1, max_value=41),
)
def test_latency_percentile_edges(
    durations: list[float], percentile: float, edge: Edge, min_count: int
) -> None:
    """Latency fires iff spans >= min_count and the nearest-rank percentile > threshold_ms."""
    spans = [span(duration_ms=d) for d in durations]
    durations = [s.duration_ms or 0.0 for s in spans]  # as stored (microsecond resolution)
    value = _nearest_rank(durations, percentile)
    threshold = max(edge(value), 0.0)
    engine = AlertEngine(
        [LatencyRule(name="l", percentile=percentile, threshold_ms=threshold, min_count=min_count)],
        clock=FakeClock(seconds=T0),
    )
    fired = engine.observe(spans)
    expected = len(durations) >= min_count and value > threshold
    assert statuses(fired) == ([("l", AlertStatus.ACTIVE)] if expected else [])
    if expected:
        assert fired[0].value == value
        assert fired[0].details["percentile"] == f"{percentile:g}"


@given(
    count=st.integers(min_value=0, max_value=30),
    threshold=st.integers(min_value=0, max_value=30),
    level=st.sampled_from(["debug", "info", "warning", "error", "critical"]),
)
def test_log_rate_counts_at_or_above_level(count: int, threshold: int, level: str) -> None:
    """Log rate fires iff more than `threshold` logs at or above the level are in the window."""
    clock = FakeClock(seconds=T0)
    engine = AlertEngine(
        [LogRateRule(name="r", level="warning", logger="app.db", window_s=10, threshold=threshold)],
        clock=clock,
    )
    counted = level in {"warning", "error", "critical"}
    noise = [log("info"), log("error", "app.web"), log("debug")]
    fired = engine.observe([log(level) for _ in range(count)] + noise)
    expected = counted and count > threshold
    assert statuses(fired) == ([("r", AlertStatus.ACTIVE)] if expected else [])
    if expected:
        assert fired[0].message == (
            f"{count} logs at warning or above from app.db over 10s (threshold {threshold})"
        )
        assert fired[0].labels == {}
    clock.now = T0 + 10
    assert statuses(engine.evaluate()) == ([("r", AlertStatus.RESOLVED)] if expected else [])


@given(
    runs=st.lists(st.sampled_from(list(HealthStatus)), max_size=12),
    consecutive=st.integers(min_value=1, max_value=5),
    status=st.sampled_from(["degraded", "unhealthy"]),
)
def test_health_consecutive_runs(runs: list[HealthStatus], consecutive: int, status: str) -> None:
    """Health fires iff the last `consecutive` runs are all at `status` or worse."""
    worse = {HealthStatus.UNHEALTHY} | ({HealthStatus.DEGRADED} if status == "degraded" else set())
    engine = AlertEngine(
        [HealthRule(name="h", check="db", status=status, consecutive=consecutive)],
        clock=FakeClock(seconds=T0),
    )
    seen: list[AlertStatus] = []
    for run in runs:
        other = FlextHealthCheck(name="cache", status=HealthStatus.UNHEALTHY)
        seen += [
            alert.status
            for alert in engine.observe([FlextHealthCheck(name="db", status=run), other])
        ]
    streak = 0
    for run in runs:
        streak = streak + 1 if run in worse else 0
    assert [alert.status for alert in engine.active()] == (
        [AlertStatus.ACTIVE] if streak >= consecutive else []
    )
    # Transitions alternate: every activation is followed by its resolution.
    assert seen == [AlertStatus.ACTIVE, AlertStatus.RESOLVED] * (len(seen) // 2) + (
        [AlertStatus.ACTIVE] if streak >= consecutive else []
    )


@given(
    duration=st.floats(min_value=0.001, max_value=1e6),
    edge=st.sampled_from(EDGES),
    use_metric=st.booleans(),
)
def test_absence_fires_after_duration_without_data(
    duration: float, edge: Edge, use_metric: bool
) -> None:
    """Absence fires iff nothing matching arrived for at least `duration_s`; data resolves it."""
    clock = FakeClock(seconds=T0)
    rule = (
        AbsenceRule(name="a", metric="heartbeat", duration_s=duration)
        if use_metric
        else AbsenceRule(name="a", operation="tick", duration_s=duration)
    )
    engine = AlertEngine([rule], clock=clock)
    clock.now = T0 + edge(duration)
    expected = clock.now - T0 >= duration
    fired = engine.evaluate()
    assert statuses(fired) == ([("a", AlertStatus.ACTIVE)] if expected else [])
    data = FlextMetric(name="heartbeat", value=1) if use_metric else span("tick")
    resolved = engine.observe([data, FlextMetric(name="other", value=1), span("other")])
    assert statuses(resolved) == ([("a", AlertStatus.RESOLVED)] if expected else [])
    clock.now += 2 * duration
    assert statuses(engine.evaluate()) == [("a", AlertStatus.ACTIVE)]


@settings(max_examples=50)
@given(for_s=st.floats(min_value=0.001, max_value=1e5), edge=st.sampled_from(EDGES))
def test_for_duration_delays_activation(for_s: float, edge: Edge) -> None:
    """A rule with `for_s` activates only once its condition has held for `for_s`."""
    clock = FakeClock(seconds=T0)
    engine = AlertEngine(
        [ThresholdRule(name="t", metric="cpu", threshold=0.9, for_s=for_s, severity="ERROR")],
        clock=clock,
    )
    assert engine.observe([FlextMetric(name="cpu", value=0.95)]) == []
    clock.now = T0 + edge(for_s)
    fired = engine.evaluate()
    expected = clock.now - T0 >= for_s
    assert statuses(fired) == ([("t", AlertStatus.ACTIVE)] if expected else [])
    if expected:
        assert fired[0].severity is AlertSeverity.ERROR
    # Dropping below the threshold resolves it (or resets the pending time); breaching again
    # starts `for` afresh.
    dropped = engine.observe([FlextMetric(name="cpu", value=0.5)])
    assert statuses(dropped) == ([("t", AlertStatus.RESOLVED)] if expected else [])
    restart = clock.now
    assert engine.observe([FlextMetric(name="cpu", value=0.95)]) == []
    clock.now = restart + for_s / 2
    assert engine.evaluate() == []
    clock.now = restart + 2 * for_s
    assert statuses(engine.evaluate()) == [("t", AlertStatus.ACTIVE)]
