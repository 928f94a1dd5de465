"""setup(): idempotence, attaching to existing providers, emit(), flush and shutdown."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import flext_observability as fo
from flext_observability import testing
from flext_observability._internal import setup as _setup
from flext_observability.logs import EntityLoggingHandler
from flext_observability.models import (
    Entity,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    MetricType,
)
from flext_observability.sinks import MemorySink
from flext_observability.testing import Capture


@pytest.fixture
def released() -> Iterator[None]:
    """Reset global state after a test that calls setup() itself."""
    yield
    testing.release()


def test_emit_records_every_entity_kind(flext_capture: Capture) -> None:
    """Metrics go through an instrument, traces become real spans with their ids, etc."""
    obs = flext_capture.obs
    parent = fo.flext_create_trace("checkout", "shop").unwrap()
    child = parent.child("charge").unwrap().finish(error=ValueError("declined")).unwrap()
    assert obs.emit(parent.finish().unwrap())
    assert obs.emit(child)
    assert obs.emit(fo.flext_create_metric("orders_total", 2, tags={"region": "eu"}))
    assert obs.emit(fo.flext_create_log_entry("warning", "low stock", correlation_id="c-1"))
    assert obs.emit(fo.flext_create_alert("disk", "critical", "disk full"))
    assert obs.emit(fo.flext_create_health_check("db", "degraded", "slow"))
    assert not obs.emit(fo.flext_create_metric("", 1))  # a failed result records nothing
    assert flext_capture.flush()
    spans = {s.operation_name: s for s in flext_capture.traces}
    assert (spans["checkout"].trace_id, spans["checkout"].span_id) == (
        parent.trace_id,
        parent.span_id,
    )
    assert (spans["charge"].span_id, spans["charge"].parent_span_id) == (
        child.span_id,
        parent.span_id,
    )
    assert (spans["charge"].status.value, spans["charge"].status_message) == (
        "error",
        "ValueError: declined",
    )
    orders = [m for m in flext_capture.metrics if m.name == "orders_total"]
    assert [(m.value, m.tags, m.metric_type.value) for m in orders] == [
        (2, {"region": "eu"}, "counter")
    ]
    logs = [e for e in flext_capture.log_entries if e.message == "low stock"]
    assert [(e.level.value, e.correlation_id) for e in logs] == [("warning", "c-1")]
    assert [(a.name, a.severity.value) for a in flext_capture.alerts] == [("disk", "critical")]
    assert [(h.name, h.status.value) for h in flext_capture.health_checks] == [("db", "degraded")]


def test_setup_twice_returns_the_same_handle_and_never_duplicates_handlers(
    flext_capture: Capture, caplog: pytest.LogCaptureFixture
) -> None:
    """A second setup() returns the active handle; one logging bridge stays installed."""
    again = _setup.setup(service_name="other")
    assert again is flext_capture.obs
    bridges = [h for h in logging.getLogger().handlers if isinstance(h, EntityLoggingHandler)]
    assert len(bridges) == 1
    assert "already ran" in caplog.text
    logging.getLogger("app").warning("once")
    flext_capture.flush()
    assert [e.message for e in flext_capture.log_entries if e.logger_name == "app"] == ["once"]


def test_setup_attaches_to_a_provider_set_by_someone_else(released: None) -> None:
    """An existing TracerProvider keeps its processors and gains ours."""
    mine = TracerProvider(shutdown_on_exit=False)
    exported = InMemorySpanExporter()
    mine.add_span_processor(SimpleSpanProcessor(exported))
    trace.set_tracer_provider(mine)
    sink = MemorySink()
    obs = _setup.setup(store_enabled=False, health_enabled=False, sinks=[sink])
    assert obs.tracer_provider is mine
    with trace.get_tracer("t").start_as_current_span("shared"):
        pass
    assert obs.force_flush(5)
    assert [s.name for s in exported.get_finished_spans()] == ["shared"]
    assert [t.operation_name for t in sink.of_type(FlextTrace)] == ["shared"]
    mine.shutdown()


def test_invalid_setup_arguments_raise_configuration_error(released: None) -> None:
    """Programmatic setup() fails fast on a bad argument, naming the setting."""
    with pytest.raises(fo.ConfigurationError, match="sampling_ratio"):
        _setup.setup(sampling_ratio=3)
    with pytest.raises(fo.ConfigurationError, match="no_such_setting"):
        _setup.setup(no_such_setting=True)


class SlowSink:
    """A sink that blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def write(self, entities: Sequence[Entity]) -> None:
        self.release.wait(10)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        self.release.set()


def test_force_flush_returns_false_when_the_timeout_expires(released: None) -> None:
    """force_flush(0.2) with a stuck sink returns False instead of blocking."""
    slow = SlowSink()
    obs = _setup.setup(store_enabled=False, health_enabled=False, sinks=[slow])
    obs.emit(fo.flext_create_alert("a", "info", "m"))
    obs.emit(fo.flext_create_alert("b", "info", "m"))
    started = time.monotonic()
    assert obs.force_flush(0.2) is False
    assert time.monotonic() - started < 5
    slow.release.set()


def test_shutdown_is_idempotent_and_later_calls_are_no_ops(released: None) -> None:
    """After shutdown, emit/flush/shutdown are cheap no-ops and setup() builds anew."""
    obs = _setup.setup(store_enabled=False, health_enabled=False)
    assert _setup.shutdown(5)
    assert obs.is_shutdown
    assert obs.shutdown(5)
    assert obs.emit(fo.flext_create_alert("a", "info", "m")) is False
    assert obs.force_flush(1)
    assert fo.emit(fo.flext_create_alert("a", "info", "m")) is False  # no active setup
    assert _setup.active() is None


def test_module_level_emit_uses_the_active_setup(flext_capture: Capture) -> None:
    """flext_observability.emit() records through the active handle."""
    assert fo.emit(FlextHealthCheck(name="cache", status=HealthStatus.HEALTHY))
    flext_capture.flush()
    assert [h.name for h in flext_capture.health_checks] == ["cache"]


def test_log_entries_and_metrics_carry_the_service_name(flext_capture: Capture) -> None:
    """Entities from every signal carry the configured service name."""
    logging.getLogger("svc").warning("hello")
    fo.emit(FlextMetric(name="x_total", value=1, metric_type=MetricType.COUNTER))
    flext_capture.flush()
    names = {
        type(e).__name__: e.service_name
        for e in flext_capture.sink.entities
        if isinstance(e, FlextLogEntry | FlextMetric)
    }
    assert names == {"FlextLogEntry": "unknown_service", "FlextMetric": "unknown_service"}
    assert not [e for e in flext_capture.sink.entities if isinstance(e, FlextAlert)]


def test_a_broken_rules_file_from_the_environment_only_loses_its_rules(
    released: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Env-named rules that cannot load: one warning, telemetry on; an argument fails fast."""
    broken = tmp_path / "rules.toml"
    broken.write_text('[[rules]]\nname = "x"\nkind = "threshold"\nthreshold = "high"\n')
    monkeypatch.setenv("FLEXT_OBSERVABILITY_ALERT_RULES", str(broken))
    obs = _setup.setup(store_enabled=False, health_enabled=False)
    assert obs.alerts.rules == ()
    assert "alert rules not loaded: " in caplog.text
    assert "rule 'x'" in caplog.text
    _setup.shutdown(5)
    with pytest.raises(fo.ConfigurationError, match="rule 'x'"):
        _setup.setup(store_enabled=False, health_enabled=False, alert_rules=broken)
    monkeypatch.setenv("FLEXT_OBSERVABILITY_STRICT", "true")
    with pytest.raises(fo.ConfigurationError, match="rule 'x'"):
        _setup.setup(store_enabled=False, health_enabled=False)
