"""`flext.span.duration` aggregated on the pipeline worker, handed to each reader at collection.

Recording one duration through the SDK's `Histogram.record` builds a `Measurement`, cleans and
hashes its attributes and takes a lock per stream: about 8-10 µs, more than converting the span
itself, for every span the application ends. When setup built the MeterProvider (so every reader
is one of ours), the pipeline worker instead adds each span's duration to bucket counts kept
here: a bisect, a dict lookup and a short lock (about 1 µs).

Every reader of that provider gets the histogram at its collection: `attach()` wraps the
collect callback the provider gave the reader, and the points are appended to what the SDK
collected, exactly as the SDK's explicit-bucket aggregation would report them: cumulative points
from the series' first measurement, or delta points per reader (interval counts, min and max;
a series with nothing new is left out). Series beyond the cardinality limit fold into the
`otel.metric.overflow=true` series, as `_internal.cardinality` does for the SDK's streams.

`usable()` says when this cannot stand in for the SDK: a reader without the collect hook, or
one that wants another aggregation for histograms (a View or an exponential-histogram
preference). `DerivedMetrics` then records through the SDK histogram as before: same metric,
same attributes. The hook (`MetricReader._collect`) is private SDK API, checked at attach time.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import time_ns
from typing import Any

from opentelemetry.sdk.metrics import Histogram as HistogramInstrument
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricReader,
    MetricsData,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics.view import DefaultAggregation, ExplicitBucketHistogramAggregation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from flext_observability._internal import cardinality, fork
from flext_observability._internal.guard import guard

__all__ = ["SeriesKey", "SpanDurations", "usable"]

SeriesKey = tuple[str, str, str]
"""(`span.name`, `span.kind`, `status`): one series of the histogram."""

_OVERFLOW: SeriesKey = ("", "", "")
_COLLECT = guard("span_durations.collect", reraise=False)


@dataclass(slots=True)
class _Series:
    """One series' counts since `start_ns` (cumulative, or one reader's interval)."""

    counts: list[int]
    start_ns: int
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, seconds: float, index: int) -> None:
        self.counts[index] += 1
        self.total += seconds
        self.low = min(seconds, self.low)
        self.high = max(seconds, self.high)


@dataclass(slots=True)
class _ReaderState:
    """What one attached reader has been given (delta readers keep their own interval)."""

    temporality: AggregationTemporality
    interval: dict[SeriesKey, _Series] = field(default_factory=dict)
    last_ns: int = 0


def _for_histograms(by_class: object) -> object:
    """A reader's per-instrument-class setting for histograms (keyed by the SDK's own class)."""
    if not isinstance(by_class, dict):
        return None
    for cls, value in by_class.items():
        if isinstance(cls, type) and issubclass(cls, HistogramInstrument):
            return value
    return None


def usable(provider: object, readers: Sequence[MetricReader]) -> bool:
    """Whether every reader can take the histogram from `SpanDurations` (see the docstring)."""
    if getattr(getattr(provider, "_sdk_config", None), "views", ()):
        return False  # a View could rename, re-bucket or drop it: the SDK must apply it
    for reader in readers:
        if not callable(getattr(reader, "_collect", None)):
            return False
        temporality = _for_histograms(getattr(reader, "_instrument_class_temporality", None))
        wanted = _for_histograms(getattr(reader, "_instrument_class_aggregation", None))
        if not isinstance(temporality, AggregationTemporality):
            return False
        if not isinstance(wanted, DefaultAggregation | ExplicitBucketHistogramAggregation):
            return False
        if isinstance(wanted, ExplicitBucketHistogramAggregation):
            return False  # the reader's own bounds would win over the instrument's advice
    return True


class SpanDurations:
    """The histogram's series, fed in batches by the worker, read by every attached reader.

    Args:
        name, description, unit: the metric, as the SDK instrument would describe it.
        boundaries: explicit bucket bounds (strictly increasing).
        scope: the instrumentation scope the points are reported under.
        resource: the provider's resource (used when the SDK collected nothing else).
        limit: series kept before new ones fold into the overflow series.
    """

    def __init__(  # noqa: PLR0917 - the metric's description, as the SDK takes it
        self,
        name: str,
        description: str,
        unit: str,
        boundaries: Sequence[float],
        scope: InstrumentationScope,
        resource: Resource,
        limit: int = cardinality.DEFAULT_LIMIT,
    ) -> None:
        """Start with no series."""
        self._name, self._description, self._unit = name, description, unit
        self._bounds = tuple(boundaries)
        self._scope = scope
        self._resource = resource
        self._limit = limit
        self._cumulative: dict[SeriesKey, _Series] = {}
        # One attribute dict per series, handed out at every collection as the SDK does: the
        # metric converter knows a series by it (`_internal/metric_series.py`).
        self._attributes: dict[SeriesKey, dict[str, Any]] = {}
        self._readers: dict[int, _ReaderState] = {}
        self._intervals: list[dict[SeriesKey, _Series]] = []  # the delta readers' (by reader)
        self._lock = threading.Lock()
        fork.register(self, after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    # -- recording (the pipeline worker) -------------------------------------------------

    def record(self, key: SeriesKey, seconds: float) -> None:
        """Add one span's duration to its series (and to each delta reader's interval)."""
        index = bisect_left(self._bounds, seconds)
        with self._lock:
            key = self._admit(key)
            series = self._cumulative.get(key)
            if series is None:
                series = self._cumulative[key] = _Series(self._empty(), time_ns())
            series.add(seconds, index)
            for interval in self._intervals:
                series = interval.get(key)
                if series is None:
                    series = interval[key] = _Series(self._empty(), time_ns())
                series.add(seconds, index)

    def _admit(self, key: SeriesKey) -> SeriesKey:
        """`key`, or the overflow series once `limit` series exist (counted and said once)."""
        if key in self._cumulative or len(self._cumulative) < self._limit - 1:
            return key
        cardinality.count_overflow(self._limit)
        return _OVERFLOW

    def _empty(self) -> list[int]:
        return [0] * (len(self._bounds) + 1)

    # -- collection (each reader's thread) -----------------------------------------------

    def attach(self, reader: MetricReader) -> None:
        """Append the histogram to everything `reader` collects from now on."""
        temporality = _for_histograms(reader._instrument_class_temporality)  # noqa: SLF001
        if not isinstance(temporality, AggregationTemporality):
            msg = "the reader names no histogram temporality (check `usable` first)"
            raise TypeError(msg)
        with self._lock:
            state = _ReaderState(temporality, last_ns=time_ns())
            self._readers[id(reader)] = state
            if temporality is AggregationTemporality.DELTA:
                self._intervals.append(state.interval)
        collect: Callable[..., MetricsData | None] = reader._collect  # type: ignore[assignment] # noqa: SLF001

        def collect_with_durations(
            metric_reader: MetricReader, timeout_millis: float = 10_000
        ) -> MetricsData | None:
            data = collect(metric_reader, timeout_millis=timeout_millis)
            with _COLLECT:
                return self._merged(data, id(metric_reader))
            return data

        reader._collect = collect_with_durations  # type: ignore[assignment] # noqa: SLF001

    def points(self, reader_id: int) -> list[HistogramDataPoint]:
        """The points one reader gets now (delta readers: since their previous collection)."""
        now = time_ns()
        with self._lock:
            state = self._readers[reader_id]
            if state.temporality is AggregationTemporality.DELTA:
                interval = dict(state.interval)
                state.interval.clear()  # the same dict stays in `_intervals`
                previous, state.last_ns = state.last_ns, now
                return [self._point(key, series, previous, now) for key, series in interval.items()]
            return [
                self._point(key, series, series.start_ns, now)
                for key, series in self._cumulative.items()
            ]

    def _point(self, key: SeriesKey, series: _Series, start: int, now: int) -> HistogramDataPoint:
        attributes = self._attributes.get(key)
        if attributes is None:
            attributes = self._attributes[key] = (
                dict(cardinality.OVERFLOW_ATTRIBUTES)
                if key == _OVERFLOW
                else {"span.name": key[0], "span.kind": key[1], "status": key[2]}
            )
        return HistogramDataPoint(
            attributes=attributes,
            start_time_unix_nano=start,
            time_unix_nano=now,
            count=sum(series.counts),
            sum=series.total,
            bucket_counts=tuple(series.counts),
            explicit_bounds=self._bounds,
            min=series.low,
            max=series.high,
            exemplars=[],
        )

    def _merged(self, data: MetricsData | None, reader_id: int) -> MetricsData | None:
        """`data` with the histogram added (under our scope); unchanged when it has no point."""
        points = self.points(reader_id)
        if not points:
            return data
        temporality = self._readers[reader_id].temporality
        metric = Metric(
            name=self._name,
            description=self._description,
            unit=self._unit,
            data=Histogram(data_points=points, aggregation_temporality=temporality),
        )
        if data is None or not data.resource_metrics:
            return MetricsData(
                resource_metrics=[
                    ResourceMetrics(
                        resource=self._resource,
                        scope_metrics=[
                            ScopeMetrics(self._scope, [metric], self._scope.schema_url or "")
                        ],
                        schema_url=self._resource.schema_url,
                    )
                ]
            )
        first, *rest = data.resource_metrics
        scopes = list(first.scope_metrics)
        for index, scope_metrics in enumerate(scopes):
            if scope_metrics.scope == self._scope:
                scopes[index] = ScopeMetrics(
                    scope_metrics.scope, [*scope_metrics.metrics, metric], scope_metrics.schema_url
                )
                break
        else:
            scopes.append(self._scope_metrics([metric]))
        resource = ResourceMetrics(first.resource, scopes, first.schema_url)
        return MetricsData(resource_metrics=[resource, *rest])

    def _scope_metrics(self, metrics: list[Metric]) -> ScopeMetrics:
        return ScopeMetrics(self._scope, metrics, self._scope.schema_url or "")
