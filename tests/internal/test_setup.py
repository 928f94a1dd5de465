"""setup(): idempotence, attaching to existing providers, emit(), flush and shutdown."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
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


def test_a_stale_bridge_back_on_the_root_logger_makes_way(released: None) -> None:
    """A shut-down setup's logging bridge put back on the root logger does not eat records.

    (Seen in our own suite: a test swapped the root's handler list and restored it after the
    shutdown, and every later setup found that dead bridge and kept it instead of its own.)
    """
    first = _setup.setup(store_enabled=False, health_enabled=False)
    root = logging.getLogger()
    saved = list(root.handlers)
    first.shutdown()
    for handler in saved:
        if handler not in root.handlers:
            root.addHandler(handler)  # the restored list
    sink = MemorySink()
    _setup.setup(store_enabled=False, health_enabled=False, sinks=[sink])
    logging.getLogger("app.after").warning("seen")
    assert fo.force_flush(5)
    assert [e.message for e in sink.of_type(FlextLogEntry)] == ["seen"]
    bridges = [h for h in root.handlers if isinstance(h, EntityLoggingHandler)]
    assert len(bridges) == 1
    assert not bridges[0].pipeline.stopped


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


ATTACHED = textwrap.dedent(
    """
    import logging, pathlib, sys, tempfile, threading
    from opentelemetry import metrics, trace
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    apps = sys.argv[1].split(",")
    exported = InMemorySpanExporter()
    if "traces" in apps:
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exported))
        trace.set_tracer_provider(tracer_provider)
    app_reader = InMemoryMetricReader()
    if "metrics" in apps:
        metrics.set_meter_provider(MeterProvider(metric_readers=[app_reader]))
    if "logs" in apps:
        set_logger_provider(LoggerProvider())

    import flext_observability as fo
    from flext_observability.sinks.store import SQLiteStore

    store = pathlib.Path(tempfile.mkdtemp()) / "t.db"
    obs = fo.setup(service_name="s", store_path=store, health_enabled=False)
    metrics.get_meter("app").create_counter("orders").add(3)
    assert obs.shutdown(10)
    left = sorted(
        t.name for t in threading.enumerate()
        if t is not threading.main_thread() and t.name != "flext-observability-signal-watch"
    )
    for _ in range(5):  # after our shutdown: the application's providers carry on alone
        with trace.get_tracer("app").start_as_current_span("after"):
            logging.getLogger("app").error("after")
    data = app_reader.get_metrics_data()
    observed = sorted(
        metric.name
        for resource in (data.resource_metrics if data else ())
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name.startswith(("flext.observability.", "flext.health."))
    )
    print("LEFT", left)
    print("OBSERVED", observed)
    print("EXPORTED", len(exported.get_finished_spans()))
    print("STORED", [m.value for m in SQLiteStore(store).query("metrics") if m.name == "orders"])
    """
)


@pytest.mark.parametrize("apps", ["traces,metrics,logs", "traces", "metrics", "logs"])
def test_shutdown_leaves_nothing_running_in_providers_set_by_someone_else(apps: str) -> None:
    """Attached to the app's providers: our shutdown detaches what we added, shuts ours down.

    No thread of ours is left (our metric reader in the app's MeterProvider, or the reader of
    a MeterProvider we built beside the app's TracerProvider); spans and records after it are
    neither queued nor reported as dropped; the last collection still reached the store, and
    our observable gauges report nothing more through the application's readers.
    """
    done = subprocess.run(
        [sys.executable, "-c", ATTACHED, apps],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines["LEFT"] == "[]"
    assert lines["EXPORTED"] == ("5" if "traces" in apps else "0")
    assert lines["STORED"] == "[3]"
    assert lines["OBSERVED"] == "[]"  # our observable gauges went quiet in the app's provider
    assert "dropped" not in done.stderr, done.stderr
