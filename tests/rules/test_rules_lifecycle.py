"""Alert lifecycle in the engine: dedup, escalation, resolution, cooldown, silence, ack, bounds."""

from __future__ import annotations

import os
import threading
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flext_observability._internal.guard import (
    internal_error_counts,
    reset_internal_errors,
)
from flext_observability.exceptions import ConfigurationError
from flext_observability.models import (
    AlertStatus,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    LogLevel,
    alert_fingerprint,
)
from flext_observability.rules import (
    AlertEngine,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    ThresholdRule,
    rules_from_mapping,
    rules_from_pyproject,
)
from flext_observability.rules._windows import ErrorRatioEvaluator, LogRateEvaluator
from flext_observability.testing import FakeClock, strict_mode

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def span(*, error: bool, n: int = 1, operation: str = "checkout") -> FlextTrace:
    """A finished span of trace TRACE with span id `n`."""
    return FlextTrace.model_validate(
        {
            "trace_id": TRACE,
            "span_id": f"{n:016x}",
            "operation_name": operation,
            "service_name": "shop",
            "status": "error" if error else "ok",
            "duration_ms": 12.0,
        }
    )


def cpu(value: float) -> FlextMetric:
    """A `cpu` gauge point for host a."""
    return FlextMetric(name="cpu", value=value, tags={"host": "a"})


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at 0 s (2025-01-01T00:00:00Z)."""
    return FakeClock(EPOCH, seconds=0.0)


@pytest.mark.usefixtures("flext_ids")
def test_full_lifecycle_activation_dedup_escalation_resolution_cooldown(clock: FakeClock) -> None:
    """Active → deduplicated → escalated once → resolved with resolved_at → cooldown → again."""
    rule = ErrorRatioRule(
        name="checkout-errors",
        operation="checkout",
        window_s=60,
        threshold=0.1,
        min_count=2,
        escalate_after_s=30,
        cooldown_s=50,
        labels={"team": "payments"},
    )
    engine = AlertEngine([rule], clock=clock, wall=clock.wall, service_name="shop")
    [fired] = engine.observe([span(error=True, n=1), span(error=False, n=2)])
    fingerprint = alert_fingerprint("checkout-errors", "checkout-errors", {"team": "payments"})
    expected: dict[str, Any] = {
        "id": "entity-0001",
        "timestamp": EPOCH,
        "service_name": "shop",
        "name": "checkout-errors",
        "message": "error ratio 0.50 > 0.1 for checkout over 1m (1/2 spans)",
        "severity": "warning",
        "status": "active",
        "details": {
            "kind": "error_ratio",
            "operation": "checkout",
            "service": "*",
            "window": "1m",
            "count": "2",
            "min_count": "2",
            "errors": "1",
        },
        "labels": {"team": "payments"},
        "source": "checkout-errors",
        "fingerprint": fingerprint,
        "resolved_at": None,
        "acknowledged_at": None,
        "trace_id": TRACE,
        "span_id": f"{1:016x}",
        "value": 0.5,
        "threshold": 0.1,
    }
    assert fired.model_dump() == expected
    assert engine.active() == [fired]

    clock.now = 10
    assert engine.observe([span(error=True, n=3)]) == []  # deduplicated while active
    clock.now = 29.5
    assert engine.evaluate() == []
    clock.now = 30
    [escalated] = engine.evaluate()
    assert escalated.model_dump() == expected | {
        "severity": "error",
        "details": expected["details"] | {"escalated_from": "warning"},
    }
    clock.now = 45
    assert engine.evaluate() == []  # one escalation only

    clock.now = 70  # every span arrived before t=10 (<= 70 - 60): the window is empty
    [resolved] = engine.evaluate()
    assert resolved == escalated.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "resolved_at": EPOCH + timedelta(seconds=70),
        }
    )
    assert engine.active() == []

    clock.now = 80  # breaching again inside the cooldown: nothing
    assert engine.observe([span(error=True, n=4), span(error=True, n=5)]) == []
    clock.now = 119.5
    assert engine.evaluate() == []
    clock.now = 120  # cooldown over, the t=80 spans are still in the window
    [again] = engine.evaluate()
    assert again.model_dump() == expected | {
        "id": "entity-0002",  # a new alert, not the resolved one
        "timestamp": EPOCH + timedelta(seconds=120),
        "message": "error ratio 1.00 > 0.1 for checkout over 1m (2/2 spans)",
        "details": expected["details"] | {"errors": "2"},
        "span_id": f"{5:016x}",  # the latest failing span
        "value": 1.0,
    }


def test_acknowledge_stops_escalation(clock: FakeClock) -> None:
    """An acknowledged alert records when, is not escalated, and still resolves."""
    engine = AlertEngine(
        [ThresholdRule(name="hot", metric="cpu", threshold=0.9, escalate_after_s=5)],
        clock=clock,
        wall=clock.wall,
    )
    [fired] = engine.observe([cpu(0.95)])
    clock.now = 2
    acked = engine.acknowledge(fired.id)
    assert acked.is_success
    assert (acked.value.status, acked.value.acknowledged_at) == (
        AlertStatus.ACKNOWLEDGED,
        EPOCH + timedelta(seconds=2),
    )
    clock.now = 10
    assert engine.evaluate() == []
    assert engine.active() == [acked.value]
    [resolved] = engine.observe([cpu(0.5)])
    assert (resolved.status, resolved.acknowledged_at, resolved.severity) == (
        AlertStatus.RESOLVED,
        EPOCH + timedelta(seconds=2),
        "warning",
    )
    missing = engine.acknowledge(fired.id)
    assert (missing.is_failure, missing.error, missing.error_code) == (
        True,
        f"Invalid alert: no open alert with id {fired.id!r}",
        "NOT_FOUND",
    )


def test_silence_suppresses_notifications_until_it_expires(clock: FakeClock) -> None:
    """While silenced nothing is emitted; at expiry the current state is emitted once."""
    engine = AlertEngine(
        [ThresholdRule(name="hot", metric="cpu", threshold=0.9, escalate_after_s=5)],
        clock=clock,
        wall=clock.wall,
    )
    [fired] = engine.observe([cpu(0.95)])
    silenced = engine.silence(fired.fingerprint, 20)
    assert silenced is not None
    assert (silenced.id, silenced.status) == (fired.id, AlertStatus.SUPPRESSED)
    assert engine.active() == [silenced]
    clock.now = 6
    assert engine.evaluate() == []  # escalated quietly
    assert engine.acknowledge(fired.id).value.status is AlertStatus.SUPPRESSED
    clock.now = 8
    assert engine.observe([cpu(0.1)]) == []  # resolved quietly
    assert engine.active() == []
    clock.now = 20
    [late] = engine.evaluate()  # the resolution of a notified alert is delivered at expiry
    assert (late.id, late.status, late.severity, late.resolved_at) == (
        fired.id,
        AlertStatus.RESOLVED,
        "error",
        EPOCH + timedelta(seconds=8),
    )


def test_silence_before_firing_then_alert_surfaces_at_expiry(clock: FakeClock) -> None:
    """A pre-emptive silence hides the activation; at expiry the still-open alert is emitted."""
    engine = AlertEngine([HealthRule(name="db-down", check="db")], clock=clock)
    fingerprint = alert_fingerprint("db-down", "db-down", {})
    assert engine.silence(fingerprint, 10) is None
    assert engine.observe([FlextHealthCheck(name="db", status=HealthStatus.UNHEALTHY)]) == []
    [quiet] = engine.active()
    assert quiet.status is AlertStatus.SUPPRESSED
    assert engine.acknowledge(quiet.id).value.acknowledged_at is not None
    clock.now = 10
    [surfaced] = engine.evaluate()
    assert (surfaced.id, surfaced.status) == (quiet.id, AlertStatus.ACKNOWLEDGED)
    [resolved] = engine.observe([FlextHealthCheck(name="db", status=HealthStatus.HEALTHY)])
    assert resolved.status is AlertStatus.RESOLVED
    # An alert that fired and cleared inside a silence is never emitted at all.
    engine.silence(fingerprint, 10)
    assert engine.observe([FlextHealthCheck(name="db", status=HealthStatus.UNHEALTHY)]) == []
    assert engine.observe([FlextHealthCheck(name="db", status=HealthStatus.HEALTHY)]) == []
    clock.now = 30
    assert engine.evaluate() == []


@pytest.mark.parametrize(
    ("fingerprint", "duration", "message"),
    [
        ("", 5, "silence fingerprint: expected a non-empty string, got ''"),
        ("abc", 0, "silence duration_s: expected a number > 0, got 0"),
        ("abc", float("nan"), "silence duration_s: expected a number > 0, got nan"),
        ("abc", True, "silence duration_s: expected a number > 0, got True"),
    ],
)
def test_silence_rejects_bad_arguments(fingerprint: str, duration: float, message: str) -> None:
    """silence() validates its arguments with a ConfigurationError."""
    with pytest.raises(ConfigurationError) as info:
        AlertEngine().silence(fingerprint, duration)
    assert str(info.value) == message


def test_log_rate_ignores_alert_records_and_groups_glob_loggers(clock: FakeClock) -> None:
    """Our own and alert log records never count; a glob logger gives one alert per logger."""
    engine = AlertEngine([LogRateRule(name="burst", logger="*", threshold=1)], clock=clock)
    own = [
        FlextLogEntry(
            level=LogLevel.CRITICAL, message="a", logger_name="flext_observability.alerts"
        ),
        FlextLogEntry(level=LogLevel.CRITICAL, message="a", logger_name="flext_observability"),
        FlextLogEntry(
            level=LogLevel.ERROR,
            message="a",
            logger_name="app.x",
            context={"event.name": "flext.alert"},
        ),
    ]
    assert engine.observe(own * 5) == []
    records = [
        FlextLogEntry(level=LogLevel.ERROR, message="e", logger_name=name) for name in ("a", "b")
    ]
    fired = engine.observe(records * 2)
    assert [(alert.labels, alert.message) for alert in fired] == [
        ({"logger": "a"}, "2 logs at error or above from a over 1m (threshold 1)"),
        ({"logger": "b"}, "2 logs at error or above from b over 1m (threshold 1)"),
    ]
    assert fired[0].fingerprint == alert_fingerprint("burst", "burst", {"logger": "a"})
    assert fired[0].fingerprint != fired[1].fingerprint


def test_health_glob_groups_per_check(clock: FakeClock) -> None:
    """A glob health rule alerts per check, with the check name as a label."""
    engine = AlertEngine(
        [HealthRule(name="any-degraded", check="*", status=HealthStatus.DEGRADED, consecutive=2)],
        clock=clock,
    )
    checks = [FlextHealthCheck(name="db", status=HealthStatus.DEGRADED, message="slow")]
    checks.append(FlextHealthCheck(name="cache", status=HealthStatus.HEALTHY))
    assert engine.observe(checks) == []
    [fired] = engine.observe(checks)
    assert (fired.labels, fired.message, fired.value, fired.threshold) == (
        {"check": "db"},
        "health check db degraded for 2 consecutive runs: slow",
        2.0,
        2.0,
    )


def test_remove_rule_resolves_its_open_alerts(clock: FakeClock) -> None:
    """Removing a rule resolves its open alerts with the next evaluation."""
    engine = AlertEngine([ThresholdRule(name="hot", metric="cpu", threshold=0.9)], clock=clock)
    [fired] = engine.observe([cpu(0.95)])
    assert engine.remove_rule("hot") is True
    assert engine.remove_rule("hot") is False
    assert engine.rules == ()
    [resolved] = engine.evaluate()
    assert (resolved.id, resolved.status) == (fired.id, AlertStatus.RESOLVED)


def test_windows_and_groups_stay_bounded(clock: FakeClock) -> None:
    """Windows keep at most max_samples and rules at most max_groups, however much arrives."""
    engine = AlertEngine(
        [
            ErrorRatioRule(name="errors", threshold=0.5, min_count=10),
            LatencyRule(name="slow", threshold_ms=1000),
            LogRateRule(name="logs", logger="*", threshold=5),
            ThresholdRule(name="series", metric="m", threshold=1e9),
        ],
        clock=clock,
        max_samples=1_000,
        max_groups=50,
    )
    ok, failed = span(error=False), span(error=True, n=2)
    for _ in range(100):
        engine.observe([ok] * 999 + [failed])
        clock.now += 0.001
    errors = engine._evaluators["errors"]
    assert isinstance(errors, ErrorRatioEvaluator)
    assert (len(errors.samples), errors.errors) == (1_000, 1)
    engine.observe(
        [FlextLogEntry(level=LogLevel.ERROR, message="x", logger_name=f"l{i}") for i in range(500)]
        + [FlextMetric(name="m", value=1, tags={"i": i}) for i in range(500)]
    )
    logs = engine._evaluators["logs"]
    assert isinstance(logs, LogRateEvaluator)
    assert len(logs.groups) == 50
    assert len(engine._evaluators["series"].series) == 50  # type: ignore[attr-defined]


def test_a_failing_rule_is_reported_and_others_keep_working(clock: FakeClock) -> None:
    """A rule that raises is reported once via the guard; other rules still fire."""

    class Broken:
        rule = ThresholdRule(name="broken", metric="cpu", threshold=0)

        def ingest(self, entity: object, now: float) -> None:
            raise RuntimeError("bug")

        def findings(self, now: float) -> dict[Any, Any]:
            raise RuntimeError("bug")

    engine = AlertEngine(
        [ThresholdRule(name="broken", metric="cpu", threshold=0), HealthRule(name="h", check="db")],
        clock=clock,
    )
    engine._evaluators["broken"] = Broken()
    reset_internal_errors()
    try:
        fired = engine.observe(
            [cpu(1.0), FlextHealthCheck(name="db", status=HealthStatus.UNHEALTHY)]
        )
        assert [alert.name for alert in fired] == ["h"]
        assert internal_error_counts() == {"alert rule 'broken'": 2}  # 1 metric + 1 evaluation
        with strict_mode(), pytest.raises(RuntimeError, match="bug"):
            engine.evaluate()
    finally:
        reset_internal_errors()


def test_concurrent_readers_while_the_worker_observes(clock: FakeClock) -> None:
    """active(), acknowledge() and silence() from many threads never break observe()."""
    engine = AlertEngine(
        [LogRateRule(name=f"r{i}", logger=f"app{i}", threshold=0) for i in range(4)], clock=clock
    )
    stop = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            alerts = engine.active()
            seen.append(len(alerts))
            for alert in alerts:
                engine.acknowledge(alert.id)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for step in range(200):
            clock.now = step * 30.0  # every other step the 60 s windows still hold the last one
            engine.observe(
                [FlextLogEntry(level=LogLevel.ERROR, message="x", logger_name=f"app{step % 4}")]
            )
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert {alert.name for alert in engine.active()} <= {"r0", "r1", "r2", "r3"}
    assert seen


def test_alerts_are_never_observed_as_input(clock: FakeClock) -> None:
    """FlextAlert entities in a batch are ignored, so alerts never feed rules."""
    engine = AlertEngine([LogRateRule(name="any", threshold=0)], clock=clock)
    alert = FlextAlert(name="x", message="y")
    assert engine.observe([alert]) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_a_fresh_lock_and_empty_state(clock: FakeClock) -> None:
    """A child forked while another thread holds the engine lock can use the engine at once."""
    engine = AlertEngine([ThresholdRule(name="hot", metric="cpu", threshold=0.9)], clock=clock)
    engine.observe([cpu(0.95)])
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine._lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with a thread, on purpose
            pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            ok = engine._lock.acquire(blocking=False) and engine.active() == []
            fired = engine.observe([cpu(0.95)])
            os._exit(0 if ok and [a.name for a in fired] == ["hot"] else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        release.set()
        holder.join()
    assert os.waitstatus_to_exitcode(status) == 0
    assert [alert.name for alert in engine.active()] == ["hot"]  # the parent keeps its state


def test_filters_and_edge_inputs(clock: FakeClock) -> None:
    """Unfinished spans, wrong types, other services and capped checks are skipped quietly."""
    engine = AlertEngine(
        [
            LatencyRule(name="slow", service="shop", threshold_ms=1),
            ErrorRatioRule(name="err", service="other", threshold=0),
            HealthRule(name="checks", check="c*"),
            ThresholdRule(
                name="crit", metric="cpu", threshold=0, severity="critical", escalate_after_s=1
            ),
        ],
        clock=clock,
        max_groups=1,
    )
    open_span = FlextTrace.model_validate({"operation_name": "x", "service_name": "shop"})
    fired = engine.observe(
        [
            open_span,
            span(error=True),
            FlextHealthCheck(name="c1", status=HealthStatus.HEALTHY),
            FlextHealthCheck(name="c2", status=HealthStatus.UNHEALTHY),  # beyond max_groups
            cpu(1.0),
        ]
    )
    assert [(alert.name, alert.value) for alert in fired] == [("slow", 12.0), ("crit", 1.0)]
    clock.now = 5
    assert engine.evaluate() == []  # critical cannot escalate further
    wrong: list[tuple[str, FlextMetric | FlextTrace]] = [
        ("slow", cpu(1.0)),
        ("crit", span(error=False)),
        ("checks", cpu(1.0)),
    ]
    for name, entity in wrong:  # called directly: wrong entity types are ignored
        engine._evaluators[name].ingest(entity, 5)
    assert [alert.name for alert in engine.active()] == ["slow", "crit"]


def test_pyproject_and_mapping_type_errors(tmp_path: Path) -> None:
    """A broken pyproject and a non-table alerts section are ConfigurationErrors."""
    broken = tmp_path / "pyproject.toml"
    broken.write_text("[tool\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"pyproject\.toml: cannot read pyproject: "):
        rules_from_pyproject(broken)
    with pytest.raises(ConfigurationError) as info:
        rules_from_mapping([], "pyproject.toml")  # type: ignore[arg-type]
    assert str(info.value) == "pyproject.toml: expected a table with a 'rules' array, got []"
