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

import functools
import math
from collections.abc import Callable
from datetime import datetime
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
from flext_observability.models._base import trusted
from flext_observability.models._metric import FlextMetric, HistogramData, check_metric_name
from flext_observability.models._sources import new_entity_id
from flext_observability.models._types import MetricType

__all__ = [
    "DataPoint",
    "OnSkip",
    "Times",
    "metric_to_entities",
    "metric_type_of",
    "metrics_to_entities",
    "point_to_entity",
    "valid_metric_name",
]

OnSkip = Callable[[str, BaseException], None]
"""Called with the metric name and the error for each skipped data point."""

DataPoint = NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint
"""Any of the SDK's data points."""
_TIME_CACHE_LIMIT = 64


def _finite_or_none(value: float) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


class Times:
    """`ns_to_datetime` remembering its last inputs: a collection's points share two times."""

    __slots__ = ("_cache",)

    def __init__(self) -> None:
        self._cache: dict[int, datetime] = {}

    def __call__(self, ns: int) -> datetime:
        cached = self._cache.get(ns)
        if cached is None:
            if len(self._cache) > _TIME_CACHE_LIMIT:
                self._cache.clear()
            cached = self._cache[ns] = ns_to_datetime(ns)
        return cached


def _point_data(
    metric_type: MetricType,
    point: DataPoint,
    times: Callable[[int], datetime] = ns_to_datetime,
    tags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    start_ns = point.start_time_unix_nano
    data: dict[str, Any] = {
        "metric_type": metric_type,
        "tags": sanitize_attributes(point.attributes) if tags is None else tags,
        "start_time": times(start_ns) if start_ns else None,
        "timestamp": times(point.time_unix_nano),
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


def metric_type_of(metric: Metric) -> MetricType:
    """The entity's metric type for an SDK metric; `TypeError` for data we do not know."""
    data = metric.data
    if isinstance(data, Sum):
        return MetricType.COUNTER if data.is_monotonic else MetricType.GAUGE
    if isinstance(data, Gauge):
        return MetricType.GAUGE
    if isinstance(data, Histogram | ExponentialHistogram):
        return MetricType.HISTOGRAM
    msg = f"Invalid metric type: unsupported OpenTelemetry data {type(data).__qualname__}"
    raise TypeError(msg)


def _trusted_metric(data: dict[str, Any]) -> FlextMetric | None:
    """The entity `model_validate(data)` gives, built without validation.

    None when a value needs the model's checks (a non-finite or foreign value, a bad name).
    """
    value = data["value"]
    kind = type(value)
    if not (
        (kind is int or (kind is float and math.isfinite(value)))
        and valid_metric_name(data["name"])
    ):
        return None
    values = {
        "id": new_entity_id(),
        "timestamp": data["timestamp"],
        "service_name": data["service_name"],
        "name": data["name"],
        "value": value,
        "unit": data["unit"],
        "tags": data["tags"],
        "metric_type": data["metric_type"],
        "start_time": data["start_time"],
        "histogram": data.get("histogram"),
    }
    return trusted(FlextMetric, values, set(data))


@functools.lru_cache(maxsize=4096)
def valid_metric_name(name: str) -> bool:
    """Whether `name` passes the model's instrument-name check (remembered per name)."""
    try:
        check_metric_name(name)
    except ValueError:
        return False
    return True


def point_to_entity(
    point: DataPoint,
    metric_type: MetricType,
    *,
    name: str,
    unit: str,
    service_name: str | None,
    times: Callable[[int], datetime] = ns_to_datetime,
    tags: dict[str, Any] | None = None,
    validate: bool = False,
) -> FlextMetric:
    """Convert one data point of a metric; raises when the model rejects it.

    `tags`: the point's attributes already sanitised (by default they are sanitised here).
    Trusted construction unless a value needs the model's checks or `validate` is set.
    """
    data = _point_data(metric_type, point, times, tags)
    data["name"] = name
    data["unit"] = unit
    data["service_name"] = service_name
    entity = None if validate else _trusted_metric(data)
    return entity if entity is not None else FlextMetric.model_validate(data)


def metric_to_entities(
    metric: Metric,
    service_name: str | None = None,
    *,
    on_skip: OnSkip | None = None,
    validate: bool = False,
    times: Callable[[int], datetime] | None = None,
) -> list[FlextMetric]:
    """Convert one SDK `Metric` to one entity per data point, skipping invalid points.

    Points whose values the converter has checked are built without validation (`trusted`);
    the rest, and every point with `validate=True`, are validated (a property test holds the
    two equal).

    Args:
        metric: The metric, with all its data points.
        service_name: The resource's service name, set on every entity.
        on_skip: Called for each skipped point (or once, for an unsupported data type).
        validate: validate every point with pydantic instead of trusting the converter.
        times: converts Unix nanoseconds to datetimes (a memo shared by one collection).

    Returns:
        The valid entities, in data-point order.
    """
    name = safe_str(metric.name)
    try:
        metric_type = metric_type_of(metric)
    except TypeError as exc:
        if on_skip is not None:
            on_skip(name, exc)
        return []
    unit = safe_str(metric.unit) if metric.unit else ""
    entities: list[FlextMetric] = []
    convert_time = times if times is not None else ns_to_datetime
    for point in metric.data.data_points:
        try:
            entities.append(
                point_to_entity(
                    point,
                    metric_type,
                    name=name,
                    unit=unit,
                    service_name=service_name,
                    times=convert_time,
                    validate=validate,
                )
            )
        except Exception as exc:  # noqa: BLE001 - one bad point never loses the others
            if on_skip is not None:
                on_skip(name, exc)
    return entities


def metrics_to_entities(
    data: MetricsData, *, on_skip: OnSkip | None = None, validate: bool = False
) -> list[FlextMetric]:
    """Convert everything a metric reader collected to entities, one per data point.

    Args:
        data: What `MetricReader.collect` / `_receive_metrics` delivers.
        on_skip: Called with the metric name and the error for each skipped data point; it
            should not raise (an exception from it propagates).
        validate: validate every point with pydantic instead of trusting the converter.

    Returns:
        The valid entities, in resource / scope / metric / data-point order.
    """
    entities: list[FlextMetric] = []
    times = Times()
    for resource_metrics in data.resource_metrics:
        service_name = resource_service_name(resource_metrics.resource)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                entities.extend(
                    metric_to_entities(
                        metric, service_name, on_skip=on_skip, validate=validate, times=times
                    )
                )
    return entities
