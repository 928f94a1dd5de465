"""The test kit: fake clock, counting ids and the strict switch make whole entities comparable."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider

from flext_observability._internal.guard import is_strict
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
    MetricType,
    TraceStatus,
)
from flext_observability.rules import AlertEngine, ThresholdRule
from flext_observability.testing import (
    FAKE_START,
    Capture,
    DeterministicIds,
    FakeClock,
    deterministic_ids,
    fake_clock,
    release,
    strict_mode,
)

pytestmark = pytest.mark.usefixtures("flext_clock", "flext_ids")


def test_an_entity_built_without_id_or_time_equals_one_written_out(
    flext_clock: FakeClock,
) -> None:
    """Every default a metric draws (id, timestamp) is known, so the whole entity compares."""
    assert FlextMetric(name="orders_total", value=2.0) == FlextMetric(
        id="entity-0001",
        timestamp=FAKE_START,
        name="orders_total",
        value=2.0,
        metric_type=MetricType.GAUGE,
    )
    flext_clock.advance(1.5)
    assert FlextMetric(name="m", value=1.0).model_dump() == {
        **FlextMetric(name="m", value=1.0, id="x").model_dump(),
        "id": "entity-0002",
        "timestamp": FAKE_START + timedelta(seconds=1.5),
    }


def test_a_trace_draws_trace_and_span_ids_and_start_time(flext_clock: FakeClock) -> None:
    """A span's trace id, span id, derived entity id and start time come from the kit."""
    root = FlextTrace(operation_name="checkout", service_name="shop")
    flext_clock.advance(0.25)
    child = root.child("charge").unwrap().finish().unwrap()
    assert root == FlextTrace(
        id=f"{DeterministicIds.trace_id(1)}-{DeterministicIds.span_id(1)}",
        trace_id=DeterministicIds.trace_id(1),
        span_id=DeterministicIds.span_id(1),
        operation_name="checkout",
        service_name="shop",
        start_time=FAKE_START,
        timestamp=FAKE_START,
    )
    assert (child.trace_id, child.span_id, child.parent_span_id) == (
        DeterministicIds.trace_id(1),
        DeterministicIds.span_id(2),
        DeterministicIds.span_id(1),
    )
    assert (child.start_time, child.end_time, child.status) == (
        FAKE_START + timedelta(seconds=0.25),
        FAKE_START + timedelta(seconds=0.25),
        TraceStatus.OK,
    )


def test_alert_transitions_take_the_fake_time(flext_clock: FakeClock) -> None:
    """Acknowledging and resolving without `at` stamps the fake clock's time."""
    alert = FlextAlert(name="disk", severity=AlertSeverity.CRITICAL, message="disk full")
    acked = alert.acknowledge().unwrap()
    flext_clock.advance(60)
    resolved = acked.resolve().unwrap()
    assert resolved == alert.model_copy(
        update={
            "status": AlertStatus.RESOLVED,
            "acknowledged_at": FAKE_START,
            "resolved_at": FAKE_START + timedelta(seconds=60),
        }
    )
    assert alert.id == "entity-0001"


def test_every_entity_kind_uses_the_kit() -> None:
    """Logs and health checks draw the same counters and clock as metrics and alerts."""
    log = FlextLogEntry(message="low stock", level=LogLevel.WARNING)
    check = FlextHealthCheck(name="db", status=HealthStatus.HEALTHY)
    assert [(log.id, log.timestamp), (check.id, check.timestamp)] == [
        ("entity-0001", FAKE_START),
        ("entity-0002", FAKE_START),
    ]


def test_sources_are_restored_after_the_blocks() -> None:
    """Leaving a block puts back what was installed before; release() puts back the real ones."""
    outer = FlextMetric(name="m", value=1.0)
    with fake_clock(FakeClock(datetime(2030, 6, 1, tzinfo=UTC))) as clock:
        inner = FlextMetric(name="m", value=1.0)
        with deterministic_ids() as ids:
            innermost = FlextMetric(name="m", value=1.0)
        assert ids.next_entity_id() == "entity-0002"  # the block's own counter went on
    after = FlextMetric(name="m", value=1.0)
    assert [(e.id, e.timestamp) for e in (outer, inner, innermost, after)] == [
        ("entity-0001", FAKE_START),
        ("entity-0002", clock.wall()),
        ("entity-0001", clock.wall()),
        ("entity-0003", FAKE_START),
    ]
    release()
    real = FlextMetric(name="m", value=1.0)
    assert re.fullmatch("[0-9a-f]{32}", real.id)
    assert abs(real.timestamp - datetime.now(UTC)) < timedelta(hours=1)


def test_the_fake_clock_counts_seconds_from_its_origin() -> None:
    """`now` starts at the epoch seconds of `start` (or at `seconds=`); `wall()` follows it."""
    epoch_clock = FakeClock(datetime(2024, 5, 1, 12, 0))  # noqa: DTZ001 - naive is taken as UTC
    assert epoch_clock() == datetime(2024, 5, 1, 12, 0, tzinfo=UTC).timestamp()
    assert epoch_clock.advance(3600) == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
    assert epoch_clock.wall() == datetime.fromtimestamp(epoch_clock(), UTC)
    monotonic = FakeClock(seconds=0.0)
    monotonic.now = 70.0
    assert (monotonic(), monotonic.wall()) == (70.0, FAKE_START + timedelta(seconds=70))
    assert repr(monotonic) == "FakeClock(2025-01-01T00:01:10+00:00, now=70.0)"


def test_the_fake_clock_drives_a_rule_engine_and_its_alert_times(flext_clock: FakeClock) -> None:
    """One clock serves as the engine's `clock=` and as the time of the alerts it raises."""
    engine = AlertEngine(
        [ThresholdRule(name="slow", metric="latency", threshold=1.0, severity="warning")],
        clock=flext_clock,
    )
    flext_clock.advance(5)
    assert engine.observe([FlextMetric(name="latency", value=2.0)]) == [
        FlextAlert(
            id="entity-0002",  # the metric drew entity-0001
            timestamp=FAKE_START + timedelta(seconds=5),
            name="slow",
            message="latency 2 > 1",
            severity=AlertSeverity.WARNING,
            details={"kind": "threshold", "metric": "latency", "op": ">", "series": "1"},
            source="slow",
            fingerprint="38e617bec7a030db66330c5f8351ed2f",
            value=2.0,
            threshold=1.0,
        )
    ]


def test_deterministic_ids_is_an_otel_id_generator() -> None:
    """An SDK TracerProvider given the kit's generator numbers its traces and spans 1, 2, ..."""
    tracer = TracerProvider(id_generator=DeterministicIds()).get_tracer("t")
    with tracer.start_as_current_span("a") as a, tracer.start_as_current_span("b") as b:
        pass
    assert [(s.get_span_context().trace_id, s.get_span_context().span_id) for s in (a, b)] == [
        (1, 1),
        (1, 2),
    ]


@pytest.mark.usefixtures("flext_strict")
def test_the_strict_fixture_turns_strict_mode_on_and_the_block_restores() -> None:
    """Inside the fixture strict mode is on; a nested `strict_mode(False)` restores it after."""
    assert is_strict()
    with strict_mode(False):
        assert not is_strict()
    assert is_strict()


def test_strict_mode_is_off_by_default_and_after_the_block() -> None:
    """Without the fixture strict mode is off, on inside `strict_mode()`, off again after."""
    assert not is_strict()
    with strict_mode():
        assert is_strict()
    assert not is_strict()


def test_entities_through_a_live_setup_compare_whole(flext_capture: Capture) -> None:
    """Emitted through setup(), a span and an alert arrive as entities known in advance."""
    span = FlextTrace(operation_name="checkout", service_name="shop").finish().unwrap()
    alert = FlextAlert(name="disk", severity=AlertSeverity.CRITICAL, message="disk full")
    assert flext_capture.obs.emit(span)
    assert flext_capture.obs.emit(alert)
    assert flext_capture.flush()
    service = flext_capture.obs.settings.service_name
    # The span becomes a real OTel span and back: the resource's service and our emit scope.
    exported = span.model_copy(
        update={"service_name": service, "scope": "flext_observability.emit"}
    )
    assert (flext_capture.traces, flext_capture.alerts) == ([exported], [alert])
