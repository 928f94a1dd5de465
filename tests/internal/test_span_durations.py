"""`flext.span.duration` aggregated by us reads exactly as the SDK's histogram would report it."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
    MetricsData,
)
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from flext_observability import FlextMetric
from flext_observability._internal import cardinality
from flext_observability._internal.derived import SPAN_DURATION_BUCKETS
from flext_observability._internal.span_durations import SpanDurations, usable
from flext_observability.models import Entity
from flext_observability.sinks import MemorySink
from flext_observability.testing import capture, release

_SCOPE = "flext_observability.derived"
_NAME = "flext.span.duration"
_KEYS = st.tuples(
    st.sampled_from(["GET /a", "load-order", "GET"]),
    st.sampled_from(["server", "internal"]),
    st.sampled_from(["unset", "error"]),
)
_SECONDS = st.one_of(
    st.sampled_from([0.0, *SPAN_DURATION_BUCKETS]),  # exactly on a bound: the lower bucket
    st.floats(min_value=0, max_value=30, allow_nan=False),
)
# A script: durations to record, and "collect" marks between them.
_STEPS = st.lists(st.one_of(st.tuples(_KEYS, _SECONDS), st.just("collect")), max_size=80)


def _readers() -> tuple[InMemoryMetricReader, InMemoryMetricReader]:
    delta = InMemoryMetricReader(
        preferred_temporality={HistogramInstrument: AggregationTemporality.DELTA}
    )
    return InMemoryMetricReader(), delta


def _points(data: MetricsData | None) -> tuple[Any, dict[Any, tuple[Any, ...]]]:
    """(temporality, {attributes: (count, sum, buckets, bounds, min, max)}) of our metric."""
    found: dict[Any, tuple[Any, ...]] = {}
    temporality = None
    scopes = [s for r in (data.resource_metrics if data else ()) for s in r.scope_metrics]
    for scope_metrics in scopes:
        for metric in scope_metrics.metrics:
            if metric.name != _NAME:
                continue
            assert scope_metrics.scope == InstrumentationScope(_SCOPE)
            assert (metric.unit, metric.description) == (
                "s",
                "Duration of every span, recorded before sampling.",
            )
            temporality = metric.data.aggregation_temporality  # type: ignore[union-attr]
            for point in metric.data.data_points:
                assert isinstance(point, HistogramDataPoint)
                assert point.start_time_unix_nano <= point.time_unix_nano
                found[tuple(sorted((point.attributes or {}).items()))] = (
                    point.count,
                    point.sum,
                    tuple(point.bucket_counts),
                    tuple(point.explicit_bounds),
                    point.min,
                    point.max,
                )
    return temporality, found


def _exact(points: dict[Any, tuple[Any, ...]]) -> dict[Any, tuple[Any, ...]]:
    """Every field but the float sum."""
    return {key: (point[0], *point[2:]) for key, point in points.items()}


@settings(max_examples=60, deadline=None)
@given(steps=_STEPS)
def test_points_equal_the_sdk_histograms_cumulative_and_delta(steps: list[Any]) -> None:
    """Any sequence of durations and collections gives the SDK's points, for both temporalities."""
    sdk_readers, our_readers = _readers(), _readers()
    sdk = MeterProvider(metric_readers=list(sdk_readers))
    histogram = sdk.get_meter(_SCOPE).create_histogram(
        _NAME,
        unit="s",
        description="Duration of every span, recorded before sampling.",
        explicit_bucket_boundaries_advisory=SPAN_DURATION_BUCKETS,
    )
    ours = MeterProvider(metric_readers=list(our_readers))
    assert usable(ours, our_readers)
    durations = SpanDurations(
        _NAME,
        "Duration of every span, recorded before sampling.",
        "s",
        SPAN_DURATION_BUCKETS,
        InstrumentationScope(_SCOPE),
        Resource.create({}),
    )
    for reader in our_readers:
        durations.attach(reader)
    try:
        for step in [*steps, "collect"]:
            if step == "collect":
                for sdk_reader, our_reader in zip(sdk_readers, our_readers, strict=True):
                    expected = _points(sdk_reader.get_metrics_data())
                    got = _points(our_reader.get_metrics_data())
                    assert _exact(got[1]) == _exact(expected[1])
                    for key, point in expected[1].items():
                        # The SDK adds each interval's sum to the running one: another order of
                        # the same float additions.
                        assert math.isclose(got[1][key][1], point[1], rel_tol=1e-9, abs_tol=1e-12)
                    if expected[1]:
                        assert got[0] == expected[0]
                continue
            (name, kind, status), seconds = step
            histogram.record(seconds, {"span.name": name, "span.kind": kind, "status": status})
            durations.record((name, kind, status), seconds)
    finally:
        sdk.shutdown()
        ours.shutdown()


def test_series_beyond_the_limit_fold_into_the_overflow_series() -> None:
    """Past the limit, new series go to `otel.metric.overflow=true`; the total count is kept."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    durations = SpanDurations(
        _NAME,
        "Duration of every span, recorded before sampling.",
        "s",
        (1.0,),
        InstrumentationScope(_SCOPE),
        Resource.create({}),
        limit=3,
    )
    durations.attach(reader)
    before = cardinality.overflowed()
    for index in range(5):
        durations.record((f"op{index}", "internal", "unset"), 0.5)
    _, points = _points(reader.get_metrics_data())
    provider.shutdown()
    overflow = tuple(cardinality.OVERFLOW_ATTRIBUTES.items())
    assert len(points) == 3  # two kept series and the overflow series
    assert points[overflow][0] == 3
    assert sum(point[0] for point in points.values()) == 5
    assert cardinality.overflowed() == before + 3


def test_a_view_or_a_bucket_preference_keeps_the_sdk_histogram() -> None:
    """A provider with Views, or a reader with its own histogram buckets, is left to the SDK."""
    plain = InMemoryMetricReader()
    assert usable(MeterProvider(metric_readers=[plain]), [plain])
    viewed = InMemoryMetricReader()
    with_view = MeterProvider(metric_readers=[viewed], views=[View(instrument_name=_NAME)])
    assert not usable(with_view, [viewed])
    bucketed = InMemoryMetricReader(
        preferred_aggregation={HistogramInstrument: ExplicitBucketHistogramAggregation((1.0,))}
    )
    assert not usable(MeterProvider(metric_readers=[bucketed]), [bucketed])


def test_setup_reports_every_span_duration_through_its_own_readers() -> None:
    """With setup's own MeterProvider, each span's duration reaches the metric entities."""
    cap = capture()
    try:
        tracer = trace.get_tracer("t")
        for _ in range(7):
            tracer.start_span("checkout").end()
        assert cap.flush()
        points = [
            m
            for m in cap.sink.of_type(FlextMetric)
            if m.name == _NAME and m.tags.get("span.name") == "checkout"
        ]
        assert points
        assert points[-1].metric_type.value == "histogram"
        assert points[-1].tags["status"] == "unset"
    finally:
        release(cap)


def test_each_series_keeps_one_attribute_dict_across_collections() -> None:
    """Every collection hands out the same attribute dict per series, as the SDK does.

    The metric converter knows a series by that dict: an idle series is then not written again.
    """
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    durations = SpanDurations(
        _NAME, "d", "s", (1.0,), InstrumentationScope(_SCOPE), Resource.create({})
    )
    durations.attach(reader)
    try:
        durations.record(("checkout", "server", "unset"), 0.5)
        first = [p.attributes for p in durations.points(id(reader))]
        durations.record(("checkout", "server", "unset"), 0.7)
        second = [p.attributes for p in durations.points(id(reader))]
        assert len(first) == len(second) == 1
        assert first[0] is second[0]
        assert first[0] == {"span.name": "checkout", "span.kind": "server", "status": "unset"}
    finally:
        provider.shutdown()


class _SlowSink(MemorySink):
    """A sink that takes 5 ms per batch (a slow disk)."""

    def write(self, entities: Sequence[Entity]) -> None:
        """Wait, then keep them."""
        time.sleep(0.005)
        super().write(entities)


def test_one_force_flush_collects_the_durations_of_every_span_it_flushed() -> None:
    """The collection runs after the spans went through the pipeline, not beside it.

    (They used to be flushed in parallel: a collection could start while the worker was still
    converting the spans, and missed the durations it had not recorded yet.)
    """
    cap = capture(sinks=[_SlowSink()], batch_size=100)  # the worker lags behind the spans
    try:
        tracer = trace.get_tracer("t")
        for _ in range(3000):
            tracer.start_span("bulk").end()
        assert cap.obs.force_flush(30)
        points = [
            m
            for m in cap.sink.of_type(FlextMetric)
            if m.name == _NAME and m.tags.get("span.name") == "bulk"
        ]
        assert points
        assert points[-1].histogram is not None
        assert points[-1].histogram.count == 3000
    finally:
        release(cap)
