"""`EntityMetricReader`: collects metrics on its own interval and feeds the entity pipeline.

A `PeriodicExportingMetricReader` whose exporter only queues the collected `MetricsData`; the
pipeline's worker turns each data point into a `FlextMetric`. Usable on its own::

    MeterProvider(metric_readers=[EntityMetricReader(sinks=[MemorySink()], interval_s=10)])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics import Counter, Histogram, ObservableCounter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)

from flext_observability._internal.guard import guard
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability.sinks._base import Sink

__all__ = ["EntityMetricReader"]


class _PipelineMetricExporter(MetricExporter):
    """Hands collected metrics to the pipeline; the reader's thread never converts."""

    def __init__(
        self, pipeline: Pipeline, *, owned: bool, temporality: AggregationTemporality
    ) -> None:
        # Delta applies to monotonic instruments only, as OTel's "delta" preference does;
        # up-down counters and gauges stay cumulative.
        preferred: dict[type, AggregationTemporality] = dict.fromkeys(
            (Counter, Histogram, ObservableCounter), temporality
        )
        super().__init__(preferred_temporality=preferred, preferred_aggregation=None)
        self._pipeline = pipeline
        self._owned = owned

    @guard("EntityMetricReader.export", default=MetricExportResult.FAILURE)
    def export(
        self,
        metrics_data: MetricsData,
        timeout_millis: float = 10_000,  # noqa: ARG002 - SDK signature; queuing never waits
        **kwargs: Any,  # noqa: ARG002 - SDK signature
    ) -> MetricExportResult:
        self._pipeline.submit("metrics", metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._pipeline.flush(timeout_millis / 1000)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:  # noqa: ARG002
        if self._owned:
            self._pipeline.shutdown(timeout_millis / 1000)


class EntityMetricReader(PeriodicExportingMetricReader):
    """Collects every `interval_s` seconds; each data point becomes a `FlextMetric`.

    Args:
        pipeline: a shared pipeline; when omitted the reader owns one delivering to `sinks`.
        sinks: sinks for an owned pipeline.
        interval_s: collection interval in seconds.
        temporality: cumulative (default, so counters carry their start time) or delta.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        sinks: Sequence[Sink] = (),
        interval_s: float = 60.0,
        temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE,
    ) -> None:
        """Attach to `pipeline`, or build and own one that delivers to `sinks`."""
        owned = pipeline is None
        self._pipeline = pipeline if pipeline is not None else build_pipeline(sinks=sinks)
        self._pipeline.start()
        exporter = _PipelineMetricExporter(self._pipeline, owned=owned, temporality=temporality)
        super().__init__(exporter, export_interval_millis=interval_s * 1000)

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline this reader feeds."""
        return self._pipeline
