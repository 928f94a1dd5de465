"""One metric collection feeds the entities and the push exporters that want the same data."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ConsoleMetricExporter,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
)

from _helpers import RecordingMetricExporter
from flext_observability import setup
from flext_observability._internal.pipeline import build_pipeline
from flext_observability.models import FlextMetric
from flext_observability.readers import EntityMetricReader, shares_collection
from flext_observability.sinks import MemorySink

DELTA = AggregationTemporality.DELTA


class FailingMetricExporter(RecordingMetricExporter):
    """Raises on every export (a broken network exporter)."""

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Fail loudly."""
        raise ConnectionError("collector unreachable")


def test_which_exporters_share_the_entity_collection() -> None:
    """Cumulative exporters with default aggregations share it; delta or custom ones do not."""
    assert shares_collection(OTLPMetricExporter(endpoint="http://127.0.0.1:9/v1/metrics"))
    assert shares_collection(ConsoleMetricExporter())
    assert shares_collection(RecordingMetricExporter())
    assert not shares_collection(RecordingMetricExporter({Counter: DELTA}))
    exponential = MetricExporter.__new__(RecordingMetricExporter)
    MetricExporter.__init__(
        exponential, preferred_aggregation={Histogram: ExponentialBucketHistogramAggregation()}
    )
    assert not shares_collection(exponential)
    custom = MetricExporter.__new__(RecordingMetricExporter)
    MetricExporter.__init__(
        custom, preferred_aggregation={Histogram: ExplicitBucketHistogramAggregation((1.0, 2.0))}
    )
    assert not shares_collection(custom)


def test_one_collection_reaches_the_sink_and_every_exporter() -> None:
    """A collection is delivered as entities and exported; a failing exporter stops neither."""
    sink = MemorySink()
    pipeline = build_pipeline(sinks=[sink])
    good, bad = RecordingMetricExporter(), FailingMetricExporter()
    reader = EntityMetricReader(pipeline, interval_s=3600, exporters=[bad, good])
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    try:
        provider.get_meter("shop").create_counter("orders").add(3, {"route": "/buy"})
        assert provider.force_flush()
        assert len(good.batches) == 1
        metric = good.batches[0].resource_metrics[0].scope_metrics[0].metrics[0]
        point = metric.data.data_points[0]
        assert isinstance(point, NumberDataPoint)
        assert (metric.name, point.value) == ("orders", 3)
        stored = sink.of_type(FlextMetric)
        assert [(e.name, e.value, e.tags) for e in stored] == [("orders", 3, {"route": "/buy"})]
        assert good.flushed
    finally:
        provider.shutdown()
        pipeline.shutdown(5)
    assert good.closed
    assert bad.closed


@pytest.mark.usefixtures("clean_globals")
def test_setup_feeds_a_sharing_exporter_from_the_entity_reader(tmp_path: Any) -> None:
    """With a console (cumulative) metrics exporter, setup builds one periodic reader only."""
    setup(
        service_name="shop",
        store_path=tmp_path / "t.db",
        metrics_exporter=("console",),
        traces_exporter=(),
        logs_exporter=(),
    )
    provider = metrics.get_meter_provider()
    assert isinstance(provider, MeterProvider)
    readers = list(provider._metric_readers)
    periodic = [r for r in readers if isinstance(r, PeriodicExportingMetricReader)]
    assert [type(r) for r in periodic] == [EntityMetricReader]
