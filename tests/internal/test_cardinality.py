"""Metric streams are bounded: 2000 series per instrument, the rest in an overflow series."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from flext_observability._internal import cardinality as _cardinality


def test_new_attribute_sets_beyond_the_limit_fold_into_the_overflow_series() -> None:
    """2500 user ids: 1999 series + one otel.metric.overflow series; the total stays exact."""
    assert _cardinality.install()
    assert _cardinality.install()  # idempotent
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    counter = provider.get_meter("t").create_counter("logins_total")
    before = _cardinality.overflowed()
    for user in range(2500):
        counter.add(1, {"user.id": str(user)})
    counter.add(5, {"user.id": "7"})  # an existing series keeps counting in place
    data = reader.get_metrics_data()
    assert data is not None
    points = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
        if isinstance(point, NumberDataPoint)
    ]
    overflow = [p for p in points if dict(p.attributes or {}) == {"otel.metric.overflow": True}]
    assert len(points) == 2000
    assert [p.value for p in overflow] == [2500 - 1999]
    assert sum(p.value for p in points) == 2505
    assert next(p.value for p in points if dict(p.attributes or {}) == {"user.id": "7"}) == 6
    assert _cardinality.overflowed() - before == 501
    provider.shutdown()
