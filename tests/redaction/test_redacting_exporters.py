"""The redacting exporter wrappers, with the real OpenTelemetry SDK and a real OTLP receiver."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, StatusCode

from _helpers import RecordingMetricExporter
from flext_observability._internal.guard import internal_error_counts, reset_internal_errors
from flext_observability.redaction import MARKER, Redactor
from flext_observability.redaction._exporters import (
    RedactingLogRecordExporter,
    RedactingMetricExporter,
    RedactingSpanExporter,
)

CANARY = "Zq9-CANARY-7xK2pLm"
RESOURCE = Resource.create({"service.name": "shop", "deployment.environment": "test"})


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A tracer provider exporting through the wrapper into memory, synchronously."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory)))
    yield provider, memory
    provider.shutdown()


def _secret_span(provider: TracerProvider) -> ReadableSpan:
    tracer = provider.get_tracer("test")
    linked = tracer.start_span("linked")
    linked.end()
    span = tracer.start_span(
        "checkout",
        attributes={"password": CANARY, "http.route": "/pay", "retries": 2},
        links=[Link(linked.get_span_context(), {"api_key": CANARY, "kind": "follows"})],
    )
    span.add_event("retry", {"note": f"password={CANARY}", "n": 1})
    span.set_attribute("url.full", f"https://bob:{CANARY}@api.example.com/x?token={CANARY}&q=1")
    span.set_attribute("args", ["ok", f"Bearer {CANARY}"])
    span.set_status(StatusCode.ERROR, f"login failed: Authorization: Bearer {CANARY}")
    span.end()
    return span  # type: ignore[return-value]


def test_spans_are_redacted(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    """Attributes, event and link attributes and the status description are scrubbed."""
    provider, memory = spans
    original = _secret_span(provider)
    exported = memory.get_finished_spans()[-1]
    assert exported is not original
    assert dict(exported.attributes or {}) == {
        "password": MARKER,
        "http.route": "/pay",
        "retries": 2,
        "url.full": "https://REDACTED:REDACTED@api.example.com/x?token=REDACTED&q=1",
        "args": ("ok", f"Bearer {MARKER}"),
    }
    assert [(e.name, dict(e.attributes or {})) for e in exported.events] == [
        ("retry", {"note": f"password={MARKER}", "n": 1})
    ]
    assert [dict(link.attributes or {}) for link in exported.links] == [
        {"api_key": MARKER, "kind": "follows"}
    ]
    assert (exported.status.status_code, exported.status.description) == (
        StatusCode.ERROR,
        f"login failed: Authorization: {MARKER}",
    )
    assert exported.resource is original.resource
    assert (exported.name, exported.context, exported.parent, exported.kind) == (
        original.name,
        original.context,
        original.parent,
        original.kind,
    )
    assert (exported.start_time, exported.end_time) == (original.start_time, original.end_time)
    assert exported.instrumentation_scope == original.instrumentation_scope
    assert CANARY not in exported.to_json()
    assert CANARY in original.to_json()


def test_clean_span_is_passed_through() -> None:
    """A span with nothing to scrub reaches the exporter as the very same object."""
    provider = TracerProvider()
    span = provider.get_tracer("test").start_span("clean", attributes={"http.route": "/x"})
    span.add_event("e", {"n": 1, "who": "author"})
    span.end()
    readable = span._readable_span()  # type: ignore[attr-defined] # what processors export
    memory = InMemorySpanExporter()
    RedactingSpanExporter(memory).export([readable])
    assert memory.get_finished_spans() == (readable,)
    assert memory.get_finished_spans()[0] is readable
    provider.shutdown()


def test_dropped_counts_are_kept() -> None:
    """The dropped attribute/event/link counts survive the redacted copy."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        span_limits=SpanLimits(max_span_attributes=2, max_events=1, max_links=1)
    )
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory)))
    tracer = provider.get_tracer("test")
    other = tracer.start_span("other")
    other.end()
    links = [Link(other.get_span_context()), Link(other.get_span_context())]
    span = tracer.start_span("s", links=links)
    for key in ("a", "b", "c", "token"):
        span.set_attribute(key, "v")
    span.add_event("e1")
    span.add_event("e2")
    span.end()
    exported = memory.get_finished_spans()[-1]
    assert dict(exported.attributes or {}) == {"c": "v", "token": MARKER}
    assert (exported.dropped_attributes, exported.dropped_events, exported.dropped_links) == (
        2,
        1,
        1,
    )
    provider.shutdown()


def test_batch_processor_path() -> None:
    """Behind a BatchSpanProcessor the wrapper runs on the SDK worker and scrubs every span."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(memory)))
    tracer = provider.get_tracer("test")
    for index in range(50):
        with tracer.start_as_current_span(f"op{index}") as span:
            span.set_attribute("session_id", f"{CANARY}{index}")
    assert provider.force_flush(5000)
    exported = memory.get_finished_spans()
    assert len(exported) == 50
    assert {(s.attributes or {}).get("session_id") for s in exported} == {MARKER}
    provider.shutdown()


class _PoisonedSpan(ReadableSpan):
    @property
    def attributes(self) -> Any:
        raise RuntimeError("poisoned")


def test_one_poisoned_span_does_not_sink_the_batch() -> None:
    """An item that cannot be processed is dropped and counted; the others are exported."""
    reset_internal_errors()
    memory = InMemorySpanExporter()
    wrapper = RedactingSpanExporter(memory)
    good = [ReadableSpan(name="a", attributes={"token": "x"}), ReadableSpan(name="b")]
    result = wrapper.export([good[0], _PoisonedSpan(name="bad"), good[1]])
    assert result is SpanExportResult.SUCCESS
    assert [(s.name, dict(s.attributes or {})) for s in memory.get_finished_spans()] == [
        ("a", {"token": MARKER}),
        ("b", {}),
    ]
    assert internal_error_counts() == {"redaction.export.span": 1}
    assert wrapper.export([_PoisonedSpan(name="bad")]) is SpanExportResult.SUCCESS
    assert len(memory.get_finished_spans()) == 2
    reset_internal_errors()


def test_unencodable_span_values_are_fixed() -> None:
    """Lone surrogates and ints beyond int64 are made encodable, so OTLP encoding succeeds."""
    span = ReadableSpan(
        name="bad\ud800name",
        context=SpanContext(trace_id=1, span_id=2, is_remote=False),
        attributes={"big": 2**70, "text": "a\udfffb", "k\ud800": 1, "ok": -(2**63)},
    )
    memory = InMemorySpanExporter()
    RedactingSpanExporter(memory).export([span])
    (exported,) = memory.get_finished_spans()
    assert exported.name == "bad\ufffdname"
    assert dict(exported.attributes or {}) == {
        "big": str(2**70),
        "text": "a\ufffdb",
        "k\ufffd": 1,
        "ok": -(2**63),
    }
    assert encode_spans([exported]).SerializeToString()


def test_span_wrapper_delegates_flush_and_shutdown() -> None:
    """force_flush and shutdown reach the wrapped exporter; an empty batch exports nothing."""
    memory = InMemorySpanExporter()
    wrapper = RedactingSpanExporter(memory, redactor=Redactor(allow=("token",)))
    assert wrapper.export([]) is SpanExportResult.SUCCESS
    assert wrapper.export([ReadableSpan(name="a", attributes={"token": "kept"})]) is (
        SpanExportResult.SUCCESS
    )
    assert dict(memory.get_finished_spans()[0].attributes or {}) == {"token": "kept"}
    assert wrapper.force_flush(100) is True
    wrapper.shutdown()
    assert wrapper.export([ReadableSpan(name="late")]) is SpanExportResult.FAILURE


# -- logs -------------------------------------------------------------------------------------


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _log_pipeline() -> tuple[LoggerProvider, InMemoryLogRecordExporter]:
    memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # unannotated in the SDK
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(RedactingLogRecordExporter(memory)))
    return provider, memory


def test_log_records_are_redacted() -> None:
    """Bodies (strings and nested maps) and attributes are scrubbed; the rest is kept."""
    provider, memory = _log_pipeline()
    logger = provider.get_logger("test")
    logger.emit(
        LogRecord(
            body=f"login for bob with password={CANARY}",
            attributes={"session": CANARY, "user": "bob"},
            severity_text="WARN",
        )
    )
    logger.emit(LogRecord(body={"event": "signup", "card_number": CANARY, "tags": ["a"]}))
    logger.emit(LogRecord(body="all clean", attributes={"user": "bob"}))
    first, second, clean = memory.get_finished_logs()
    assert (first.log_record.body, dict(first.log_record.attributes or {})) == (
        f"login for bob with password={MARKER}",
        {"session": MARKER, "user": "bob"},
    )
    assert first.log_record.severity_text == "WARN"
    assert first.resource is RESOURCE
    assert second.log_record.body == {"event": "signup", "card_number": MARKER, "tags": ["a"]}
    assert clean.log_record.body == "all clean"
    assert CANARY not in "".join(r.to_json() for r in memory.get_finished_logs())
    provider.shutdown()


def test_unencodable_log_bodies_are_fixed() -> None:
    """Foreign body objects become a placeholder text; huge ints and surrogates are fixed."""
    provider, memory = _log_pipeline()
    logger = provider.get_logger("test")
    logger.emit(LogRecord(body=_Unprintable()))  # type: ignore[call-overload]
    logger.emit(LogRecord(body={"n": 2**80, "s": "x\ud800", 3: [b"raw", None]}))  # type: ignore[dict-item]
    records = memory.get_finished_logs()
    assert [r.log_record.body for r in records] == [
        "<_Unprintable object: repr() raised RuntimeError>",
        {"n": str(2**80), "s": "x\ufffd", "3": [b"raw", None]},
    ]
    assert encode_logs(records).SerializeToString()
    provider.shutdown()


def test_log_batch_processor_and_dropped_attributes() -> None:
    """Behind a BatchLogRecordProcessor records are scrubbed; the dropped count is kept."""
    from opentelemetry.sdk._logs import LogRecordLimits  # noqa: PLC0415 - local to this test

    memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # unannotated in the SDK
    provider = LoggerProvider(log_record_limits=LogRecordLimits(max_attributes=2))
    provider.add_log_record_processor(BatchLogRecordProcessor(RedactingLogRecordExporter(memory)))
    with pytest.warns(UserWarning, match="dropped"):
        provider.get_logger("t").emit(
            LogRecord(body="x", attributes={"a": 1, "b": 2, "api_key": CANARY})
        )
    assert provider.force_flush(5000)
    (record,) = memory.get_finished_logs()
    assert dict(record.log_record.attributes or {}) == {"b": 2, "api_key": MARKER}
    assert record.dropped_attributes == 1
    provider.shutdown()


def test_one_poisoned_log_record_does_not_sink_the_batch() -> None:
    """A record that cannot be processed is dropped and counted; the others are exported."""
    reset_internal_errors()
    memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # unannotated in the SDK
    good = ReadableLogRecord(LogRecord(body="token=x"), resource=RESOURCE)
    bad = ReadableLogRecord(None, resource=RESOURCE)  # type: ignore[arg-type]
    wrapper = RedactingLogRecordExporter(memory)
    wrapper.export([bad, good])
    assert [r.log_record.body for r in memory.get_finished_logs()] == [f"token={MARKER}"]
    assert internal_error_counts() == {"redaction.export.log": 1}
    assert wrapper.force_flush(10) is True
    wrapper.shutdown()
    reset_internal_errors()


# -- metrics ----------------------------------------------------------------------------------


def _points(data: MetricsData) -> list[tuple[str, dict[str, Any]]]:
    return [
        (metric.name, dict(point.attributes or {}))
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
        for point in metric.data.data_points
    ]


def test_metric_attributes_are_redacted() -> None:
    """Data point attributes are scrubbed; clean metrics pass through as the same objects."""
    capture = RecordingMetricExporter({Counter: AggregationTemporality.DELTA})
    wrapper = RedactingMetricExporter(capture)
    assert wrapper._preferred_temporality == {Counter: AggregationTemporality.DELTA}
    reader = PeriodicExportingMetricReader(wrapper, export_interval_millis=math.inf)
    provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)
    meter = provider.get_meter("test")
    meter.create_counter("logins").add(1, {"password": CANARY, "method": "POST"})
    meter.create_counter("logins").add(1, {"url.full": f"https://u:{CANARY}@h.io/"})
    meter.create_histogram("latency").record(3.5, {"http.route": "/x"})
    assert provider.force_flush(5000)
    (data,) = capture.batches
    assert sorted(_points(data), key=repr) == sorted(
        [
            ("logins", {"password": MARKER, "method": "POST"}),
            ("logins", {"url.full": "https://REDACTED:REDACTED@h.io/"}),
            ("latency", {"http.route": "/x"}),
        ],
        key=repr,
    )
    assert CANARY not in data.to_json()
    provider.shutdown()
    assert (capture.flushed, capture.closed) == (True, True)


def test_metric_series_redaction_is_remembered_and_stays_right() -> None:
    """Collection after collection, every series is redacted the same as the first time.

    Cumulative series repeat their attribute dicts: the wrapper reuses what it worked out for
    a dict it has seen, and redacts a series whose attributes could change (a list value) anew
    each time.
    """
    capture = RecordingMetricExporter()
    wrapper = RedactingMetricExporter(capture)
    reader = PeriodicExportingMetricReader(wrapper, export_interval_millis=math.inf)
    provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)
    counter = provider.get_meter("test").create_counter("logins")
    series: list[dict[str, Any]] = [
        {"password": CANARY, "method": "POST"},
        {"http.route": "/x"},
        {"args": ["ok", f"Bearer {CANARY}"]},
    ]
    expected = sorted(
        [
            ("logins", {"password": MARKER, "method": "POST"}),
            ("logins", {"http.route": "/x"}),
            ("logins", {"args": ("ok", f"Bearer {MARKER}")}),
        ],
        key=repr,
    )
    try:
        for _ in range(3):
            for attributes in series:
                counter.add(1, attributes)
            assert provider.force_flush(5000)
        assert len(capture.batches) == 3
        for data in capture.batches:
            assert sorted(_points(data), key=repr) == expected
            assert CANARY not in data.to_json()
        assert len(wrapper._series) == 2  # the list-valued series is not remembered
    finally:
        provider.shutdown()


# -- real OTLP/HTTP receiver ------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        """Keep the test output quiet."""


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """A local OTLP/HTTP receiver on 127.0.0.1 that records every request body."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    received: list[tuple[str, bytes]] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join(5)


def _bodies(received: Sequence[tuple[str, bytes]], path: str) -> list[bytes]:
    return [body for request_path, body in received if request_path == path]


def _decoded(attributes: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in attributes}


def _any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_any_value(item) for item in value.array_value.values)
    return getattr(value, kind) if kind else None


def test_otlp_http_never_sends_the_canary(
    receiver: tuple[str, list[tuple[str, bytes]]],
) -> None:
    """Through real OTLP/HTTP exporters, the canary never appears in the bytes on the wire."""
    url, received = receiver
    tracer_provider = TracerProvider(resource=RESOURCE)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(RedactingSpanExporter(OTLPSpanExporter(endpoint=f"{url}/v1/traces")))
    )
    logger_provider = LoggerProvider(resource=RESOURCE)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(
            RedactingLogRecordExporter(OTLPLogExporter(endpoint=f"{url}/v1/logs"))
        )
    )
    reader = PeriodicExportingMetricReader(
        RedactingMetricExporter(OTLPMetricExporter(endpoint=f"{url}/v1/metrics")),
        export_interval_millis=math.inf,
    )
    meter_provider = MeterProvider(metric_readers=[reader], resource=RESOURCE)

    _secret_span(tracer_provider)
    logger_provider.get_logger("t").emit(
        LogRecord(body=f"password={CANARY}", attributes={"x-api-key": CANARY, "bad": "\ud800"})
    )
    meter_provider.get_meter("m").create_counter("c").add(1, {"auth_token": CANARY})
    for provider in (tracer_provider, logger_provider, meter_provider):
        assert provider.force_flush(5000)
        provider.shutdown()

    traces = [ExportTraceServiceRequest.FromString(b) for b in _bodies(received, "/v1/traces")]
    logs = [ExportLogsServiceRequest.FromString(b) for b in _bodies(received, "/v1/logs")]
    metrics = [ExportMetricsServiceRequest.FromString(b) for b in _bodies(received, "/v1/metrics")]
    assert (len(traces), len(logs), len(metrics)) == (1, 1, 1)
    for _, body in received:
        assert CANARY.encode() not in body
    for message in (*traces, *logs, *metrics):
        assert CANARY not in str(message)

    spans = [s for rs in traces[0].resource_spans for ss in rs.scope_spans for s in ss.spans]
    checkout = next(s for s in spans if s.name == "checkout")
    assert _decoded(checkout.attributes) == {
        "password": MARKER,
        "http.route": "/pay",
        "retries": 2,
        "url.full": "https://REDACTED:REDACTED@api.example.com/x?token=REDACTED&q=1",
        "args": ("ok", f"Bearer {MARKER}"),
    }
    assert checkout.status.message == f"login failed: Authorization: {MARKER}"
    (log,) = logs[0].resource_logs[0].scope_logs[0].log_records
    assert log.body.string_value == f"password={MARKER}"
    assert _decoded(log.attributes) == {
        "x-api-key": MARKER,
        "bad": "\ufffd",
    }
    point = metrics[0].resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0]
    assert _decoded(point.attributes) == {"auth_token": MARKER}
