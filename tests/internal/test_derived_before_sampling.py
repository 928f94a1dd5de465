"""Metrics derived before sampling, rules at 1 % sampling, and the noise policy."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode

from flext_observability._internal.convert.severity import level_from_levelno
from flext_observability._internal.derived import (
    DerivedMetrics,
    NoisePolicy,
    RecordAllSampler,
)
from flext_observability._internal.export_lane import SpanExportTap
from flext_observability._internal.guard import internal_error_counts, reset_internal_errors
from flext_observability._internal.pipeline import build_pipeline
from flext_observability.processors import EntitySpanProcessor
from flext_observability.rules import ErrorRatioRule, LatencyRule, LogRateRule
from flext_observability.testing import Capture, capture, release


@pytest.fixture
def reader() -> InMemoryMetricReader:
    """A meter provider with an in-memory reader, set before setup() (which attaches to it)."""
    memory = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[memory]))
    return memory


def _points(reader: InMemoryMetricReader, name: str) -> dict[tuple[Any, ...], Any]:
    data = reader.get_metrics_data()
    found: dict[tuple[Any, ...], Any] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != name:
                    continue
                for point in metric.data.data_points:
                    key = tuple(sorted((point.attributes or {}).items()))
                    if isinstance(point, HistogramDataPoint):
                        found[key] = point.count
                    elif isinstance(point, NumberDataPoint):
                        found[key] = point.value
    return found


@pytest.fixture
def sampled_1pct(reader: InMemoryMetricReader) -> Iterator[Capture]:
    """A setup sampling 1 % of traces, with span and log rules."""
    del reader
    cap = capture(
        sampling_ratio=0.01,
        rules=[
            ErrorRatioRule(name="pay-errors", operation="pay", threshold=0.3, min_count=50),
            LatencyRule(name="pay-slow", operation="pay", threshold_ms=5000, min_count=50),
            LogRateRule(name="app-errors", logger="app.*", threshold=40),
        ],
    )
    try:
        yield cap
    finally:
        release(cap)


def _spans(count: int, *, fail_every: int = 2, name: str = "pay", **kw: Any) -> None:
    tracer = trace.get_tracer("test")
    for index in range(count):
        with tracer.start_as_current_span(name, **kw) as span:
            if index % fail_every == 0:
                span.set_status(Status(StatusCode.ERROR, "declined"))


def test_rules_fire_at_one_percent_sampling(
    sampled_1pct: Capture, reader: InMemoryMetricReader
) -> None:
    """At 1 % sampling the error-ratio and log-rate rules still see every span and record."""
    cap = sampled_1pct
    _spans(200)
    for _ in range(50):
        logging.getLogger("app.pay").error("card declined")
    assert cap.flush()
    assert cap.flush()
    fired = {alert.name for alert in cap.alerts}
    assert {"pay-errors", "app-errors"} <= fired
    assert "pay-slow" not in fired
    # Every span is in the derived histogram, by status.
    counts = _points(reader, "flext.span.duration")
    key = (("span.kind", "internal"), ("span.name", "pay"))
    assert counts[(*key, ("status", "error"))] == 100
    assert counts[(*key, ("status", "unset"))] == 100
    records = _points(reader, "flext.log.records")
    assert records[(("level", "error"), ("logger", "app.pay"))] == 50


def test_only_sampled_or_notable_spans_become_entities(sampled_1pct: Capture) -> None:
    """Unsampled spans never reach the store/sinks, except failed ones; exporters see sampled."""
    _spans(300, fail_every=3)
    assert sampled_1pct.flush()
    traces = sampled_1pct.traces
    failed = [t for t in traces if t.status.value == "error"]
    assert len(failed) == 100  # every failed span is kept
    assert len(traces) - len(failed) < 30  # about 1 % of the 200 others (never all)
    exported = sampled_1pct.spans.get_finished_spans()
    assert all(s.context is not None and s.context.trace_flags.sampled for s in exported)
    assert len(exported) < 60


def _exporting(sampler: Any, policy: NoisePolicy) -> tuple[TracerProvider, InMemorySpanExporter]:
    """What `setup()` builds for its own provider: one processor, notable spans exported too."""
    exporter = InMemorySpanExporter()
    pipeline = build_pipeline()
    tap = SpanExportTap([exporter], redactor=None, on_drop=lambda _n, _r: None)
    provider = TracerProvider(sampler=RecordAllSampler(sampler, policy), shutdown_on_exit=False)
    provider.add_span_processor(EntitySpanProcessor(pipeline, notable=policy.notable, export=tap))
    return provider, exporter


def _finished(provider: TracerProvider, exporter: InMemorySpanExporter) -> list[Any]:
    assert provider.force_flush(10_000)
    return list(exporter.get_finished_spans())


def test_notable_spans_are_exported_whatever_the_ratio() -> None:
    """Failed and slow unsampled spans are exported anyway, marked sampled."""
    policy = NoisePolicy(slow_ms=50)
    provider, exporter = _exporting(ALWAYS_OFF, policy)
    tracer = provider.get_tracer("t")
    tracer.start_span("fast").end()
    failed = tracer.start_span("failed")
    failed.set_status(Status(StatusCode.ERROR))
    failed.end()
    slow = tracer.start_span("slow", start_time=1_000_000_000)
    slow.end(end_time=1_060_000_000)
    finished = _finished(provider, exporter)
    assert sorted(s.name for s in finished) == ["failed", "slow"]
    assert all(s.context.trace_flags.sampled for s in finished)
    provider.shutdown()


def test_excluded_paths_leave_no_trace_anywhere(reader: InMemoryMetricReader) -> None:
    """Probe and health paths (and their child spans) and excluded loggers reach no signal."""
    cap = capture(exclude=("/healthz", "/metrics", "app.noisy*"))
    try:
        tracer = trace.get_tracer("test")
        with tracer.start_as_current_span(
            "GET /healthz", kind=SpanKind.SERVER, attributes={"url.path": "/healthz"}
        ):
            tracer.start_span("db.ping").end()
        tracer.start_span("GET", attributes={"http.target": "/metrics?x=1"}).end()
        tracer.start_span("kept").end()
        logging.getLogger("app.noisy.poller").warning("tick")
        logging.getLogger("app.core").warning("kept")
        assert cap.flush()
        assert [t.operation_name for t in cap.traces] == ["kept"]
        assert [e.logger_name for e in cap.log_entries] == ["app.core"]
        names = {dict(k)["span.name"] for k in _points(reader, "flext.span.duration")}
        assert names == {"kept"}
        loggers = {dict(k)["logger"] for k in _points(reader, "flext.log.records")}
        assert loggers == {"app.core"}
    finally:
        release(cap)


def test_unmatched_server_paths_collapse_into_one_series(reader: InMemoryMetricReader) -> None:
    """Server spans without http.route are labelled by method, routed ones by their name."""
    cap = capture()
    try:
        tracer = trace.get_tracer("test")
        for path in ("/a/1", "/b/2", "/c/3"):
            tracer.start_span(
                f"GET {path}",
                kind=SpanKind.SERVER,
                attributes={"http.request.method": "GET", "url.path": path},
            ).end()
        tracer.start_span(
            "GET /items/<id>",
            kind=SpanKind.SERVER,
            attributes={"http.request.method": "GET", "http.route": "/items/<id>"},
        ).end()
        assert cap.flush()
        counts = {
            dict(k)["span.name"]: v for k, v in _points(reader, "flext.span.duration").items()
        }
        assert counts == {"GET": 3, "GET /items/<id>": 1}
    finally:
        release(cap)


def test_parent_based_ratio_keeps_children_consistent(reader: InMemoryMetricReader) -> None:
    """With a parent-based ratio, a trace is exported whole or not at all; all are measured."""
    del reader
    provider, exporter = _exporting(ParentBased(TraceIdRatioBased(0.5)), NoisePolicy())
    tracer = provider.get_tracer("t")
    for _ in range(100):
        with tracer.start_as_current_span("root"):
            tracer.start_span("child").end()
    by_trace: dict[int, int] = {}
    for span in _finished(provider, exporter):
        assert span.context is not None
        by_trace[span.context.trace_id] = by_trace.get(span.context.trace_id, 0) + 1
    assert set(by_trace.values()) == {2}
    assert 10 < len(by_trace) < 90
    provider.shutdown()


_ATTRIBUTE_VALUES = st.one_of(
    st.text(), st.integers(), st.floats(allow_nan=True), st.booleans(), st.lists(st.text())
)


# Text over glob syntax as well, so patterns and names meet: `*`, `?`, brackets (closed, open,
# negated, ranges) and the characters a regex would treat specially.
_GLOBBY = st.text(alphabet="ab/.*?[]!-^$\\\n", min_size=1, max_size=8)


@given(
    name=st.text() | _GLOBBY,
    attributes=st.dictionaries(
        st.sampled_from(["url.path", "http.target", "http.route", "x"]),
        _ATTRIBUTE_VALUES | _GLOBBY,
    ),
    patterns=st.lists(st.text(min_size=1) | _GLOBBY, max_size=4),
)
@example(name="a", attributes={}, patterns=["[a]"])  # a bracket glob is no plain name
@example(name="GET", attributes={"url.path": "/b?q=1"}, patterns=["/[!a]"])
@example(name="x", attributes={"http.route": "/a.b"}, patterns=["/a?b", "*.c"])
@example(name="[a", attributes={}, patterns=["[a"])  # an unclosed bracket is literal
def test_the_policy_matches_like_fnmatch_and_never_raises(
    name: str, attributes: dict[str, Any], patterns: list[str]
) -> None:
    """Any span name, attribute value or glob: exclusion is fnmatch over name or path, no error."""
    policy = NoisePolicy(patterns)
    paths = [
        value.partition("?")[0]
        for key, value in attributes.items()
        if key != "x" and isinstance(value, str)
    ]
    expected = any(fnmatchcase(text, p) for p in patterns for text in [name, *paths])
    assert policy.excluded_span(name, attributes) is expected


class _BrokenPolicy(NoisePolicy):
    """A policy whose every decision raises (a bug in our step must not break the app)."""

    def excluded_span(self, name: str, attributes: Any) -> bool:
        """Raise."""
        raise RuntimeError(name)

    def notable(self, span: Any) -> bool:
        """Raise."""
        raise RuntimeError(span)


def test_a_failing_policy_falls_back_to_the_plain_sampler() -> None:
    """Our sampler step or notable check raising: spans still start and end, errors counted."""
    policy = _BrokenPolicy()
    provider, exporter = _exporting(ParentBased(TraceIdRatioBased(1.0)), policy)
    off, off_exporter = _exporting(ALWAYS_OFF, policy)
    reset_internal_errors()
    provider.get_tracer("t").start_span("kept").end()
    off.get_tracer("t").start_span("recorded-only").end()
    assert [s.name for s in _finished(provider, exporter)] == ["kept"]
    assert _finished(off, off_exporter) == []
    counts = internal_error_counts()
    assert (counts["RecordAllSampler"], counts["EntitySpanProcessor.on_end"]) == (2, 1)
    provider.shutdown()
    off.shutdown()


_LOGGERS = st.sampled_from(["app.a", "app.b", "app.c.d"])
_LEVELS = st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])


@given(records=st.lists(st.tuples(_LOGGERS, _LEVELS), max_size=60))
def test_log_records_counted_per_batch_equal_one_per_record(
    records: list[tuple[str, int]],
) -> None:
    """`flext.log.records`, added once per logger and level per batch, equals one per record."""
    memory = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[memory])
    derived = DerivedMetrics(NoisePolicy(()))
    derived.bind(provider)
    pipeline = build_pipeline(derived=derived, batch_size=7)  # many batches, flushed each time
    for name, level in records:
        record = logging.LogRecord(name, level, __file__, 1, "m", (), None)
        assert pipeline.submit("log", (record, Context()))
    assert pipeline.flush(10.0)
    expected = Counter(
        (("level", level_from_levelno(level).value), ("logger", name)) for name, level in records
    )
    assert _points(memory, "flext.log.records") == dict(expected)
    provider.shutdown()
    pipeline.shutdown(5.0)
