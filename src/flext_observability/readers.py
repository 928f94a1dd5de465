"""`EntityMetricReader`: collects metrics on its own interval and feeds the entity pipeline.

A `PeriodicExportingMetricReader` whose exporter only queues the collected `MetricsData`; the
pipeline's worker turns each data point into a `FlextMetric`. Given `exporters` (push exporters
such as OTLP that want the same temporality and aggregation), the same collection is also
exported through them on the reader's thread: one collection, and one set of per-series storage
on the measurement path, instead of one per reader. Usable on its own::

    MeterProvider(metric_readers=[EntityMetricReader(sinks=[MemorySink()], interval_s=10)])
"""

from __future__ import annotations

import threading
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
from opentelemetry.sdk.metrics.view import DefaultAggregation, ExplicitBucketHistogramAggregation

from flext_observability._internal.guard import guard
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability._internal.signals import quiet_this_thread
from flext_observability.sinks._base import Sink

__all__ = ["EntityMetricReader", "shares_collection"]

_EXPORT = guard("EntityMetricReader.exporter", reraise=False)
_DEFAULT_BOUNDARIES = ExplicitBucketHistogramAggregation()._boundaries  # noqa: SLF001 - SDK default


def shares_collection(exporter: MetricExporter) -> bool:
    """Whether `exporter` wants exactly what `EntityMetricReader` collects by default.

    That is cumulative temporality for every instrument and the default aggregations (an
    explicit-bucket histogram with the default boundaries counts as default): then one
    collection can feed both the exporter and the entities.
    """
    temporality = exporter._preferred_temporality or {}  # noqa: SLF001 - the SDK's contract
    aggregation = exporter._preferred_aggregation or {}  # noqa: SLF001 - same
    if any(value is not AggregationTemporality.CUMULATIVE for value in temporality.values()):
        return False
    for value in aggregation.values():
        if type(value) is DefaultAggregation:
            continue
        if (
            type(value) is ExplicitBucketHistogramAggregation
            and value._boundaries == _DEFAULT_BOUNDARIES  # noqa: SLF001 - no public accessor
            and value._record_min_max  # noqa: SLF001 - same
        ):
            continue
        return False
    return True


class _PipelineMetricExporter(MetricExporter):
    """Hands collected metrics to the pipeline; the reader's thread never converts."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        owned: bool,
        temporality: AggregationTemporality,
        exporters: Sequence[MetricExporter] = (),
    ) -> None:
        # Delta applies to monotonic instruments only, as OTel's "delta" preference does;
        # up-down counters and gauges stay cumulative.
        preferred: dict[type, AggregationTemporality] = dict.fromkeys(
            (Counter, Histogram, ObservableCounter), temporality
        )
        super().__init__(preferred_temporality=preferred, preferred_aggregation=None)
        self._pipeline = pipeline
        self._owned = owned
        self._exporters = list(exporters)

    @guard("EntityMetricReader.export", default=MetricExportResult.FAILURE)
    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        self._pipeline.submit("metrics", metrics_data)  # queuing never waits
        result = MetricExportResult.SUCCESS
        for exporter in self._exporters:
            with _EXPORT:  # one failing exporter neither stops the others nor the entities
                if (
                    exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
                    is MetricExportResult.SUCCESS
                ):
                    continue
            result = MetricExportResult.FAILURE
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        ok = self._pipeline.flush(timeout_millis / 1000)
        for exporter in self._exporters:
            flushed = False
            with _EXPORT:
                flushed = exporter.force_flush(timeout_millis) is not False
            ok = flushed and ok
        return ok

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:  # noqa: ARG002
        for exporter in self._exporters:
            with _EXPORT:
                exporter.shutdown(timeout_millis=timeout_millis)
        if self._owned:
            self._pipeline.shutdown(timeout_millis / 1000)


class EntityMetricReader(PeriodicExportingMetricReader):
    """Collects every `interval_s` seconds; each data point becomes a `FlextMetric`.

    Args:
        pipeline: a shared pipeline; when omitted the reader owns one delivering to `sinks`.
        sinks: sinks for an owned pipeline.
        interval_s: collection interval in seconds.
        temporality: cumulative (default, so counters carry their start time) or delta.
        exporters: push exporters fed from the same collection (they should prefer the same
            temporality and default aggregations: see `shares_collection`); their failures are
            reported and never stop the entities.
        export_timeout_s: the time each collection and export may take.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        sinks: Sequence[Sink] = (),
        interval_s: float = 60.0,
        temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE,
        exporters: Sequence[MetricExporter] = (),
        export_timeout_s: float = 30.0,
    ) -> None:
        """Attach to `pipeline`, or build and own one that delivers to `sinks`."""
        owned = pipeline is None
        self._pipeline = pipeline if pipeline is not None else build_pipeline(sinks=sinks)
        self._pipeline.start()
        exporter = _PipelineMetricExporter(
            self._pipeline, owned=owned, temporality=temporality, exporters=exporters
        )
        self._stop_lock = threading.Lock()
        self._stopped = False
        super().__init__(
            exporter,
            export_interval_millis=interval_s * 1000,
            export_timeout_millis=export_timeout_s * 1000,
        )

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline this reader feeds."""
        return self._pipeline

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Collect one last time and stop; a second call does nothing (the SDK would warn).

        Detaching from an application's provider shuts the reader down first (its last
        collection still reaches the pipeline), then `remove_metric_reader` calls this again.
        """
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        super().shutdown(timeout_millis, **kwargs)

    def _ticker(self) -> None:
        """The SDK's collection loop, on a thread that leaves SIGTERM/SIGINT to the main one."""
        quiet_this_thread()  # see `_internal.signals.start_quiet`
        super()._ticker()  # the SDK's thread target (private)
