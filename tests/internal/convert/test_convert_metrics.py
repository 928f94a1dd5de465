"""`metrics_to_entities`: real SDK metric data becomes one `FlextMetric` per data point."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    InMemoryMetricReader,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from flext_observability._internal.convert.metrics import metrics_to_entities
from flext_observability._internal.time import ns_to_datetime
from flext_observability.models import FlextMetric
from flext_observability.testing import DeterministicIds

T0 = 1_700_000_000_000_000_000


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    """A local meter provider (never the global one) with a memory reader."""
    memory = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[memory],
        resource=Resource.create({"service.name": "checkout"}),
        views=[
            View(instrument_name="rpc.latency", aggregation=ExponentialBucketHistogramAggregation())
        ],
    )
    meter = provider.get_meter("shop.orders", "1.2")
    orders = meter.create_counter("orders", unit="{order}")
    orders.add(2, {"region": "eu"})
    orders.add(3, {"region": "us", "retried": True})
    depth = meter.create_up_down_counter("queue.depth")
    depth.add(5)
    depth.add(-2)
    latency = meter.create_histogram(
        "http.latency", unit="ms", explicit_bucket_boundaries_advisory=[10.0, 100.0]
    )
    for value in (5, 50, 500):
        latency.record(value, {"route": "/orders"})
    rpc = meter.create_histogram("rpc.latency", unit="s")
    rpc.record(1.5)
    rpc.record(3.0)

    def temperature(_options: CallbackOptions) -> list[Observation]:
        return [Observation(21.5, {"room": "a"})]

    meter.create_observable_gauge("room.temperature", callbacks=[temperature], unit="Cel")
    yield memory
    provider.shutdown()


def numbered(dumps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dumps with the ids the deterministic kit gives entities 1, 2, ... in order."""
    return [dump | {"id": DeterministicIds.entity_id(n)} for n, dump in enumerate(dumps, 1)]


def _points(data: MetricsData) -> dict[str, list[Any]]:
    return {
        metric.name: list(metric.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }


@pytest.mark.usefixtures("flext_ids")
def test_every_instrument_kind_maps_to_entities(reader: InMemoryMetricReader) -> None:
    """Counter, up-down counter, histogram, exponential histogram and gauge map as documented."""
    data = reader.get_metrics_data()
    assert data is not None
    points = _points(data)
    skipped: list[tuple[str, BaseException]] = []
    entities = metrics_to_entities(data, on_skip=lambda name, exc: skipped.append((name, exc)))

    def times(name: str, index: int = 0) -> dict[str, Any]:
        point = points[name][index]
        start = point.start_time_unix_nano
        return {
            "timestamp": ns_to_datetime(point.time_unix_nano),
            "start_time": ns_to_datetime(start) if start else None,
        }

    common = {"service_name": "checkout", "histogram": None}
    assert [e.model_dump() for e in entities] == numbered(
        [
            {
                **common,
                **times("orders", 0),
                "name": "orders",
                "value": 2,
                "unit": "{order}",
                "tags": {"region": "eu"},
                "metric_type": "counter",
            },
            {
                **common,
                **times("orders", 1),
                "name": "orders",
                "value": 3,
                "unit": "{order}",
                "tags": {"region": "us", "retried": True},
                "metric_type": "counter",
            },
            {
                **common,
                **times("queue.depth"),
                "name": "queue.depth",
                "value": 3,
                "unit": "",
                "tags": {},
                "metric_type": "gauge",
            },
            {
                **times("http.latency"),
                "service_name": "checkout",
                "name": "http.latency",
                "value": 555,
                "unit": "ms",
                "tags": {"route": "/orders"},
                "metric_type": "histogram",
                "histogram": {
                    "count": 3,
                    "sum": 555.0,
                    "min": 5.0,
                    "max": 500.0,
                    "bounds": [10.0, 100.0],
                    "bucket_counts": [1, 1, 1],
                },
            },
            {
                **times("rpc.latency"),
                "service_name": "checkout",
                "name": "rpc.latency",
                "value": 4.5,
                "unit": "s",
                "tags": {},
                "metric_type": "histogram",
                "histogram": {
                    "count": 2,
                    "sum": 4.5,
                    "min": 1.5,
                    "max": 3.0,
                    "bounds": [],
                    "bucket_counts": [],
                },
            },
            {
                **common,
                **times("room.temperature"),
                "name": "room.temperature",
                "value": 21.5,
                "unit": "Cel",
                "tags": {"room": "a"},
                "metric_type": "gauge",
            },
        ]
    )
    assert skipped == []
    assert all(type(e).model_validate_json(e.model_dump_json()) == e for e in entities)


def test_view_renaming_to_an_invalid_name_skips_only_that_metric() -> None:
    """A point the model rejects is reported to on_skip and the other points are kept."""
    memory = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[memory],
        views=[View(instrument_name="orders", name="9 bad name")],
        resource=Resource({"service.name": "checkout"}),
    )
    meter = provider.get_meter("shop")
    meter.create_counter("orders").add(1)
    meter.create_counter("payments").add(4)
    data = memory.get_metrics_data()
    provider.shutdown()
    assert data is not None
    skipped: list[tuple[str, str]] = []
    entities = metrics_to_entities(
        data, on_skip=lambda name, exc: skipped.append((name, type(exc).__name__))
    )
    assert [(e.name, e.value, e.service_name) for e in entities] == [("payments", 4, "checkout")]
    assert skipped == [("9 bad name", "ValidationError")]


def _number(value: float, **attributes: Any) -> NumberDataPoint:
    return NumberDataPoint(
        attributes=attributes, start_time_unix_nano=0, time_unix_nano=T0, value=value
    )


def _data(*metrics: Metric, resource: Resource | None = None) -> MetricsData:
    scope = ScopeMetrics(scope=InstrumentationScope("s"), metrics=list(metrics), schema_url="")
    return MetricsData(
        resource_metrics=[
            ResourceMetrics(
                resource=resource or Resource({"service.name": "a\ud800"}),
                scope_metrics=[scope],
                schema_url="",
            )
        ]
    )


@pytest.mark.usefixtures("flext_ids")
def test_non_finite_point_is_skipped_and_counted_without_losing_the_rest() -> None:
    """A NaN point among good ones is skipped; the good points keep their sanitised tags."""
    points = [_number(1.0, k="a"), _number(math.nan, k="b"), _number(2.0, k=b"\xff", n=math.inf)]
    data = _data(Metric(name="level", description=None, unit=None, data=Gauge(data_points=points)))
    skipped: list[str] = []
    entities = metrics_to_entities(data, on_skip=lambda name, _exc: skipped.append(name))
    assert [e.model_dump() for e in entities] == [
        {
            "id": entity_id,
            "timestamp": ns_to_datetime(T0),
            "service_name": "a\ufffd",
            "name": "level",
            "value": value,
            "unit": "",
            "tags": tags,
            "metric_type": "gauge",
            "start_time": None,
            "histogram": None,
        }
        for entity_id, value, tags in (
            ("entity-0001", 1.0, {"k": "a"}),
            ("entity-0003", 2.0, {"k": "\ufffd", "n": "inf"}),  # the NaN point drew -0002
        )
    ]
    assert skipped == ["level"]
    assert [e.value for e in metrics_to_entities(data)] == [1.0, 2.0]  # on_skip is optional


def test_non_monotonic_sum_is_a_gauge_and_unknown_data_is_skipped() -> None:
    """A non-monotonic Sum maps to gauge; an unsupported data type is reported once."""
    non_monotonic = Sum(
        data_points=[_number(-4)],
        aggregation_temporality=AggregationTemporality.CUMULATIVE,
        is_monotonic=False,
    )
    data = _data(
        Metric(name="balance", description=None, unit="1", data=non_monotonic),
        Metric(name="odd", description=None, unit=None, data="not data"),  # type: ignore[arg-type]
    )
    skipped: list[tuple[str, str]] = []
    entities = metrics_to_entities(
        data, on_skip=lambda name, exc: skipped.append((name, type(exc).__name__))
    )
    assert [(e.name, e.metric_type, e.value, e.unit) for e in entities] == [
        ("balance", "gauge", -4, "1")
    ]
    assert skipped == [("odd", "TypeError")]


def test_empty_metrics_data_gives_no_entities() -> None:
    """No resource metrics means no entities and no skips."""
    assert metrics_to_entities(MetricsData(resource_metrics=[])) == list[FlextMetric]()
