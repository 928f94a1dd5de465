"""Our OTel components used on their own, and the alerts handle of a running setup."""

from __future__ import annotations

import logging

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource

import flext_observability as fo
from flext_observability.logs import EntityLogRecordProcessor
from flext_observability.models import AlertStatus, FlextLogEntry, FlextMetric, FlextTrace
from flext_observability.readers import EntityMetricReader
from flext_observability.rules import ErrorRatioRule, LogRateRule
from flext_observability.sinks.memory import MemorySink
from flext_observability.testing import Capture, capture, release


def test_entity_metric_reader_on_a_hand_built_meter_provider() -> None:
    """Each data point becomes a FlextMetric with the resource's service name."""
    sink = MemorySink()
    reader = EntityMetricReader(sinks=[sink], interval_s=3600)
    provider = MeterProvider(
        metric_readers=[reader],
        resource=Resource.create({"service.name": "meters"}),
        shutdown_on_exit=False,
    )
    provider.get_meter("m").create_counter("jobs_total").add(4, {"queue": "a"})
    provider.get_meter("m").create_histogram("job.seconds", unit="s").record(0.5)
    assert reader.force_flush(5000)
    assert reader.pipeline.flush(5)
    points = {m.name: m for m in sink.of_type(FlextMetric)}
    assert (points["jobs_total"].value, points["jobs_total"].tags) == (4, {"queue": "a"})
    assert points["job.seconds"].histogram is not None
    assert {m.service_name for m in points.values()} == {"meters"}
    provider.shutdown()


def test_entity_log_record_processor_on_a_hand_built_logger_provider() -> None:
    """Records emitted through the OTel Logs API become FlextLogEntry entities."""
    sink = MemorySink()
    processor = EntityLogRecordProcessor(sinks=[sink])
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(processor)
    provider.get_logger("billing").emit(
        LogRecord(severity_number=SeverityNumber.ERROR, body="invoice failed")
    )
    assert processor.force_flush(5000)
    assert [(e.logger_name, e.level.value, e.message) for e in sink.of_type(FlextLogEntry)] == [
        ("billing", "error", "invoice failed")
    ]
    provider.shutdown()


def test_the_alerts_handle_lists_acknowledges_silences_and_manages_rules() -> None:
    """obs.alerts drives the engine and writes hand-made changes to the sinks."""
    cap: Capture = capture(
        rules=[LogRateRule(name="errors", logger="app", level="error", window_s=60, threshold=1)]
    )
    try:
        obs = cap.obs
        for _ in range(3):
            logging.getLogger("app").error("boom")
        assert cap.flush()
        [alert] = obs.alerts.active()
        assert (alert.name, alert.status) == ("errors", AlertStatus.ACTIVE)
        acknowledged = obs.alerts.acknowledge(alert.id).unwrap()
        assert acknowledged.status is AlertStatus.ACKNOWLEDGED
        assert obs.alerts.acknowledge("no-such-id").is_failure
        silenced = obs.alerts.silence(alert.fingerprint, 60)
        assert silenced is not None
        assert silenced.status is AlertStatus.SUPPRESSED
        assert obs.alerts.silence("unknown-fingerprint", 60) is None
        assert cap.flush()
        assert [a.status for a in cap.alerts] == [
            AlertStatus.ACTIVE,
            AlertStatus.ACKNOWLEDGED,
            AlertStatus.SUPPRESSED,
        ]
        obs.alerts.add_rule(ErrorRatioRule(name="ratio", operation="x", threshold=0.5))
        assert [r.name for r in obs.alerts.rules] == ["errors", "ratio"]
        assert obs.alerts.remove_rule("ratio")
        assert not obs.alerts.remove_rule("ratio")
    finally:
        release(cap)


def test_emit_without_an_active_setup_and_after_a_failed_result(flext_capture: Capture) -> None:
    """emit() of a failure or a non-entity is refused without raising."""
    assert flext_capture.obs.emit(fo.flext_create_trace("", "svc")) is False
    assert flext_capture.obs.emit("not an entity") is False  # type: ignore[arg-type]
    trace = fo.flext_create_trace("unfinished", "svc").unwrap()
    assert flext_capture.obs.emit(trace)
    assert flext_capture.flush()
    assert [t.operation_name for t in flext_capture.of_type(FlextTrace)] == ["unfinished"]
