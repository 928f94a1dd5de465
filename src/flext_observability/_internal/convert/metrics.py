"""Convert OpenTelemetry SDK `MetricsData` to `FlextMetric` entities (pure; pipeline worker).

One entity per data point: a monotonic `Sum` is a counter; a
non-monotonic `Sum` and a `Gauge` are gauges; a `Histogram` keeps its explicit buckets; an
`ExponentialHistogram` is summarised as count/sum/min/max with no buckets. For histograms
`value` is the sum. `tags` are the point's attributes (sanitised), `start_time` is None when the
point has no start (0), `service_name` is the resource's `service.name`. A non-finite min or max
(an empty histogram reports +inf/-inf) becomes None. A point the model rejects (a NaN value, a
View that renamed the instrument to an invalid name) is skipped and reported to `on_skip`,
without losing the other points.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics.export import (
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    Sum,
)

from flext_observability._internal.convert.sanitize import sanitize_attributes
from flext_observability._internal.convert.trace import resource_service_name
from flext_observability._internal.text import safe_str
from flext_observability._internal.time import ns_to_datetime
from flext_observability.models._metric import FlextMetric, HistogramData
from flext_observability.models._types import MetricType

__all__ = ["OnSkip", "metric_to_entities", "metrics_to_entities"]

OnSkip = Callable[[str, BaseException], None]
"""Called with the metric name and the error for each skipped data point."""

_DataPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint


def _finite_or_none(value: float) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _point_data(metric_type: MetricType, point: _DataPoint) -> dict[str, Any]:
    start_ns = point.start_time_unix_nano
    data: dict[str, Any] = {
        "metric_type": metric_type,
        "tags": sanitize_attributes(point.attributes),
        "start_time": ns_to_datetime(start_ns) if start_ns else None,
        "timestamp": ns_to_datetime(point.time_unix_nano),
    }
    if isinstance(point, NumberDataPoint):
        data["value"] = point.value
    elif isinstance(point, HistogramDataPoint):
        data["value"] = point.sum
        data["histogram"] = HistogramData(
            count=point.count,
            sum=point.sum,
            min=_finite_or_none(point.min),
            max=_finite_or_none(point.max),
            bounds=list(point.explicit_bounds),
            bucket_counts=list(point.bucket_counts),
        )
    else:
        data["value"] = point.sum
        data["histogram"] = HistogramData(
            count=point.count,
            sum=point.sum,
            min=_finite_or_none(point.min),
            max=_finite_or_none(point.max),
        )
    return data


def _metric_type(metric: Metric) -> MetricType:
    data = metric.data
    if isinstance(data, Sum):
        return MetricType.COUNTER if data.is_monotonic else MetricType.GAUGE
    if isinstance(data, Gauge):
        return MetricType.GAUGE
    if isinstance(data, Histogram | ExponentialHistogram):
        return MetricType.HISTOGRAM
    msg = f"Invalid metric type: unsupported OpenTelemetry data {type(data).__qualname__}"
    raise TypeError(msg)


def metric_to_entities(
    metric: Metric, service_name: str | None = None, *, on_skip: OnSkip | None = None
) -> list[FlextMetric]:
    """Convert one SDK `Metric` to one entity per data point, skipping invalid points.

    Args:
        metric: The metric, with all its data points.
        service_name: The resource's service name, set on every entity.
        on_skip: Called for each skipped point (or once, for an unsupported data type).

    Returns:
        The valid entities, in data-point order.
    """
    name = safe_str(metric.name)
    try:
        metric_type = _metric_type(metric)
    except TypeError as exc:
        if on_skip is not None:
            on_skip(name, exc)
        return []
    unit = safe_str(metric.unit) if metric.unit else ""
    entities: list[FlextMetric] = []
    for point in metric.data.data_points:
        try:
            data = _point_data(metric_type, point)
            data["name"] = name
            data["unit"] = unit
            data["service_name"] = service_name
            entities.append(FlextMetric.model_validate(data))
        except Exception as exc:  # noqa: BLE001 - one bad point never loses the others
            if on_skip is not None:
                on_skip(name, exc)
    return entities


def metrics_to_entities(data: MetricsData, *, on_skip: OnSkip | None = None) -> list[FlextMetric]:
    """Convert everything a metric reader collected to entities, one per data point.

    Args:
        data: What `MetricReader.collect` / `_receive_metrics` delivers.
        on_skip: Called with the metric name and the error for each skipped data point; it
            should not raise (an exception from it propagates).

    Returns:
        The valid entities, in resource / scope / metric / data-point order.
    """
    entities: list[FlextMetric] = []
    for resource_metrics in data.resource_metrics:
        service_name = resource_service_name(resource_metrics.resource)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                entities.extend(metric_to_entities(metric, service_name, on_skip=on_skip))
    return entities
