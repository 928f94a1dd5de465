"""`MetricSeriesConverter`: only changed series become entities, tags redacted once per series.

Hand-built collections keep one attribute dict per series across collections, as the SDK does;
the real SDK drives the pipeline tests.
"""

from __future__ import annotations

import math
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality as Temporality
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from _convert_strategies import attribute_maps, attribute_values, hostile_text
from flext_observability._internal.convert.metrics import metrics_to_entities
from flext_observability._internal.metric_series import (
    _SPARE,
    MetricSeriesConverter,
    redacts_tags_only,
)
from flext_observability._internal.pipeline import build_pipeline
from flext_observability._internal.time import datetime_to_ns
from flext_observability.models import Entity, FlextAlert, FlextMetric
from flext_observability.readers import EntityMetricReader
from flext_observability.redaction import MARKER, Redactor
from flext_observability.rules import AbsenceRule, AlertEngine
from flext_observability.rules._samples import MetricSample
from flext_observability.sinks import MemorySink

T0 = 1_700_000_000_000_000_000
S = 1_000_000_000  # one second in ns
CANARY = "Zq9-CANARY-7xK2pLm"


def _number(attrs: Any, value: float, at: int, start: int = T0) -> NumberDataPoint:
    return NumberDataPoint(
        attributes=attrs, start_time_unix_nano=start, time_unix_nano=at, value=value
    )


def _histogram(attrs: Any, count: int, at: int, start: int = T0) -> HistogramDataPoint:
    return HistogramDataPoint(
        attributes=attrs,
        start_time_unix_nano=start,
        time_unix_nano=at,
        count=count,
        sum=float(count) * 2,
        bucket_counts=[count, 0],
        explicit_bounds=[5.0],
        min=2.0 if count else math.inf,
        max=2.0 if count else -math.inf,
        exemplars=[],
    )


def _counter(points: list[NumberDataPoint], name: str = "http.server.requests") -> Metric:
    return Metric(
        name=name,
        description=None,
        unit="1",
        data=Sum(points, Temporality.CUMULATIVE, is_monotonic=True),
    )


def _collection(*metrics: Metric, service: str = "shop") -> MetricsData:
    scope = ScopeMetrics(scope=InstrumentationScope("s"), metrics=list(metrics), schema_url="")
    return MetricsData(
        [ResourceMetrics(Resource({"service.name": service}), [scope], schema_url="")]
    )


def _metrics(items: list[FlextMetric | MetricSample]) -> list[FlextMetric]:
    return [item for item in items if isinstance(item, FlextMetric)]


def _same_entity(ours: Entity, reference: Entity, *, redacted: bool) -> None:
    """Equal fields (id aside), equal field types, the same fields set, and a valid round trip.

    `redacted`: the fields set may differ, as redaction's own does: `redact_entity` rebuilds an
    entity when an attribute key is an equal but distinct string object from its cache, which
    the reference (validated, so its keys are copies) meets and ours may not.
    """
    assert type(ours) is type(reference)
    assert len(ours.id) == len(reference.id) == 32
    assert ours.model_dump_json(exclude={"id"}) == reference.model_dump_json(exclude={"id"})
    assert ours.model_dump(exclude={"id"}) == reference.model_dump(exclude={"id"})
    if not redacted:
        assert ours.model_fields_set == reference.model_fields_set
    for name in type(reference).model_fields:
        assert type(getattr(ours, name)) is type(getattr(reference, name)), name
    assert type(ours).model_validate_json(ours.model_dump_json()) == ours


# -- the same entities as the stateless conversion, first collection and later ones -----------

_secret_keys = st.sampled_from(["password", "api_key", "http.route", "user.id", "db.statement"])
_secret_values = st.sampled_from(
    [f"Bearer {CANARY}", f"postgres://app:{CANARY}@db/main", f"password={CANARY}", "/items/7"]
)
_tag_maps = st.one_of(
    attribute_maps(),
    st.dictionaries(
        st.one_of(_secret_keys, hostile_text()),
        st.one_of(_secret_values, st.integers(), st.booleans(), st.floats(), attribute_values()),
        max_size=5,
    ),
)
_values = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True))


def _append_to(names: list[str]) -> Any:
    return lambda name, _exc: names.append(name)


def _mixed_collection(
    name: str, values: list[float], attrs: list[Any], hist_count: int, *, at: int, start: int
) -> MetricsData:
    """A non-monotonic sum over `attrs` and one histogram whose tags hold a secret."""
    return _collection(
        Metric(
            name=name,
            description=None,
            unit="ms",
            data=Sum(
                [_number(a, v, at, start) for a, v in zip(attrs, values, strict=True)],
                Temporality.CUMULATIVE,
                is_monotonic=False,
            ),
        ),
        Metric(
            name="latency",
            description=None,
            unit="s",
            data=Histogram(
                [_histogram(_HIST_ATTRS, hist_count, at, start)], Temporality.CUMULATIVE
            ),
        ),
    )


_HIST_ATTRS = {"route": "/a", "password": CANARY}


@settings(max_examples=80, deadline=None)
@given(
    name=st.one_of(st.sampled_from(["http.server.requests", "queue.depth"]), hostile_text()),
    points=st.lists(st.tuples(_values, _values, _tag_maps), min_size=1, max_size=5),
    count=st.integers(0, 30),
    redacting=st.booleans(),
)
def test_entities_equal_the_validated_conversion_then_redaction(
    name: str, points: list[tuple[float, float, dict[Any, Any]]], count: int, redacting: bool
) -> None:
    """Each collection's entities equal validated conversion, then `Redactor.redact_entity`.

    The second collection restarts every series (a new start time), so every point is
    converted again, now from the tags remembered per series.
    """
    redactor = Redactor()
    skipped: list[str] = []
    converter = MetricSeriesConverter(
        redact=redactor.redact_entity if redacting else None,
        on_skip=lambda n, _e: skipped.append(n),
    )
    attrs = [tags for _first, _second, tags in points]
    for step in (0, 1):
        data = _mixed_collection(
            name,
            [(first, second)[step] for first, second, _tags in points],
            attrs,
            count + step,
            at=T0 + (step + 1) * S,
            start=T0 + step,
        )
        expected_skips: list[str] = []
        reference = metrics_to_entities(data, on_skip=_append_to(expected_skips), validate=True)
        if redacting:
            reference = [redactor.redact_entity(entity) for entity in reference]
        skipped.clear()
        ours = converter(data)
        assert skipped == expected_skips
        assert all(isinstance(item, FlextMetric) for item in ours)
        assert len(ours) == len(reference)
        for one, other in zip(_metrics(ours), reference, strict=True):
            _same_entity(one, other, redacted=redacting)
        if redacting:
            assert all(CANARY not in item.model_dump_json() for item in _metrics(ours))


# -- what is written over many collections ----------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(
    series=st.integers(1, 4),
    steps=st.lists(
        st.tuples(st.integers(1, 200), st.lists(st.integers(0, 2), min_size=4, max_size=4)),
        min_size=1,
        max_size=25,
    ),
)
def test_stored_points_give_every_collected_value(
    series: int, steps: list[tuple[int, list[int]]]
) -> None:
    """Read as "a value holds until the next point", what is written equals every collection.

    Unchanged points are skipped; every changed point is written, after the last skipped point
    of its series; no series goes longer than the refresh interval without a point; a metric
    with nothing written that round reaches the rules as a `MetricSample`.
    """
    refresh_s = 60
    converter = MetricSeriesConverter(refresh_s=refresh_s)
    attrs = [{"shard": index} for index in range(series)]
    values = [0] * series
    at = T0
    collected: list[list[tuple[int, int]]] = [[] for _ in range(series)]  # (time, value)
    written: list[list[tuple[int, int]]] = [[] for _ in range(series)]
    for gap, increments in steps:
        at += gap * S
        changed_any = False
        for index in range(series):
            values[index] += increments[index]
            collected[index].append((at, values[index]))
        out = converter(
            _collection(_counter([_number(a, v, at) for a, v in zip(attrs, values, strict=True)]))
        )
        metrics = _metrics(out)
        for entity in metrics:
            index = _shard(entity)
            written[index].append((_ns(entity), int(entity.value)))
            changed_any = True
        samples = [item for item in out if isinstance(item, MetricSample)]
        assert samples == ([] if changed_any else [MetricSample("http.server.requests", "shop")])
    for index in range(series):
        points = written[index]
        times = [time for time, _value in points]
        assert times == sorted(set(times))  # one point per time, in order
        previous = None
        for time, value in collected[index]:
            held = [v for t, v in points if t <= time]
            assert held, "the first point is always written"
            assert held[-1] == value  # the value holding at every collection is right
            last_time = max(t for t, _v in points if t <= time)
            assert time - last_time < refresh_s * S  # never older than the refresh interval
            if previous is not None and value != previous:
                assert (time, value) in points  # a change is written when it is collected
            previous = value


def _shard(entity: FlextMetric) -> int:
    shard = entity.tags["shard"]
    assert isinstance(shard, int)
    return shard


def _ns(entity: FlextMetric) -> int:
    return datetime_to_ns(entity.timestamp)


def test_a_skipped_run_ends_with_its_last_point_then_the_change() -> None:
    """1, 1, 1, 2 at t1..t4 writes t1=1, t3=1 (the run's end, a copy of t1's entity), t4=2."""
    converter = MetricSeriesConverter()
    attrs = {"route": "/a"}
    out = [
        _metrics(converter(_collection(_counter([_number(attrs, value, T0 + i * S)]))))
        for i, value in enumerate([1, 1, 1, 2], start=1)
    ]
    assert [len(items) for items in out] == [1, 0, 0, 2]
    first, (end, change) = out[0][0], out[3]
    assert [(_ns(e) - T0) // S for e in (first, end, change)] == [1, 3, 4]
    assert [e.value for e in (first, end, change)] == [1, 1, 2]
    assert end.model_dump(exclude={"id", "timestamp"}) == first.model_dump(
        exclude={"id", "timestamp"}
    )
    assert end.model_fields_set == first.model_fields_set
    assert len({first.id, end.id, change.id}) == 3


def test_an_unchanged_series_is_written_again_after_the_refresh_interval() -> None:
    """With a 60 s refresh, an idle series collected every 25 s is written every 75 s."""
    converter = MetricSeriesConverter(refresh_s=60)
    attrs = {"route": "/a"}
    written = [
        (i * 25)
        for i in range(10)
        if _metrics(converter(_collection(_counter([_number(attrs, 5, T0 + i * 25 * S)]))))
    ]
    assert written == [0, 75, 150, 225]


def test_delta_points_are_all_written() -> None:
    """A delta point starts a new interval: equal deltas in a row are all written."""
    converter = MetricSeriesConverter()
    attrs = {"route": "/a"}
    written = 0
    for i in range(1, 6):
        metric = Metric(
            name="requests",
            description=None,
            unit="1",
            data=Sum(
                [_number(attrs, 1, T0 + i * S, start=T0 + (i - 1) * S)],
                Temporality.DELTA,
                is_monotonic=True,
            ),
        )
        written += len(_metrics(converter(_collection(metric))))
    assert written == 5


def test_histograms_are_skipped_while_their_count_stays() -> None:
    """A cumulative histogram is written when its count changes, with the run's end before."""
    converter = MetricSeriesConverter()
    attrs = {"route": "/a"}
    counts = [3, 3, 3, 4]
    out = []
    for i, count in enumerate(counts, start=1):
        metric = Metric(
            name="latency",
            description=None,
            unit="s",
            data=Histogram([_histogram(attrs, count, T0 + i * S)], Temporality.CUMULATIVE),
        )
        out.append(_metrics(converter(_collection(metric))))
    assert [len(items) for items in out] == [1, 0, 0, 2]
    end, change = out[3]
    assert end.histogram == out[0][0].histogram
    assert end.value == out[0][0].value
    assert change.histogram is not None
    assert change.histogram.count == 4


def test_gauges_are_skipped_while_their_value_stays() -> None:
    """A gauge (no start time) that keeps its value is skipped; a new value is written."""
    converter = MetricSeriesConverter()
    attrs = {"queue": "orders"}
    sizes = []
    for i, value in enumerate([7, 7, 7.0, 9], start=1):
        metric = Metric(
            name="queue.depth",
            description=None,
            unit="1",
            data=Gauge(
                [
                    NumberDataPoint(
                        attributes=attrs,
                        start_time_unix_nano=None,  # type: ignore[arg-type] # as the SDK's gauges
                        time_unix_nano=T0 + i * S,
                        value=value,
                    )
                ]
            ),
        )
        sizes.append([e.value for e in _metrics(converter(_collection(metric)))])
    # 7.0 after 7 is another value (its type differs): the skipped 7 at 2 s is written first.
    assert sizes == [[7], [], [7, 7.0], [9]]


def test_attribute_sets_that_could_change_are_converted_every_time() -> None:
    """Series whose attributes hold a list are never remembered: every point is written."""
    converter = MetricSeriesConverter(redact=Redactor().redact_entity)
    attrs = {"hosts": ["a", CANARY], "password": CANARY}
    written = 0
    for i in range(1, 4):
        out = _metrics(converter(_collection(_counter([_number(attrs, 1, T0 + i * S)]))))
        written += len(out)
        assert out[0].tags["password"] == MARKER
    assert written == 3
    assert converter.series_count == 0


def test_a_failing_redaction_drops_the_point_and_counts_it() -> None:
    """A point whose redaction raises is dropped and reported; the next collection retries."""
    failures: list[str] = []
    broken = True

    def redact(entity: Entity) -> Entity:
        if broken:
            raise RuntimeError("scrubber down")
        return entity

    converter = MetricSeriesConverter(
        redact=redact, on_redaction_error=lambda: failures.append("x")
    )
    attrs = {"route": "/a"}
    assert _metrics(converter(_collection(_counter([_number(attrs, 1, T0 + S)])))) == []
    assert failures == ["x"]
    broken = False
    again = _metrics(converter(_collection(_counter([_number(attrs, 1, T0 + 2 * S)]))))
    assert [e.value for e in again] == [1]  # never written before: not taken as unchanged


def test_too_many_series_write_the_pending_points_and_start_afresh() -> None:
    """Past `max_series`, every skipped run's last point is written and the memory cleared."""
    converter = MetricSeriesConverter(max_series=2)

    def collect(attrs: list[dict[str, int]], value: int, second: int) -> list[tuple[int, int]]:
        points = [_number(a, value, T0 + second * S) for a in attrs]
        out = _metrics(converter(_collection(_counter(points))))
        return [((_ns(e) - T0) // S, _shard(e)) for e in out]

    two = [{"shard": 0}, {"shard": 1}]
    three = [*two, {"shard": 2}]
    assert collect(two, 1, 1) == [(1, 0), (1, 1)]
    assert collect(two, 1, 2) == []  # unchanged
    assert collect(three, 1, 3) == [(3, 2)]  # a new series; now 3 remembered, over the bound
    assert converter.series_count == 3
    # The next collection first writes the pending runs' ends (shards 0 and 1 at 3 s), forgets
    # everything, then converts every point as new.
    assert collect(three, 1, 4) == [(3, 0), (3, 1), (4, 0), (4, 1), (4, 2)]
    assert converter.series_count == 3


def test_series_no_longer_reported_are_forgotten_after_their_last_point() -> None:
    """A stream that reports far fewer series than it remembers forgets the others.

    A cumulative series that vanished after a skipped run gets that run's last point first;
    attribute dicts rebuilt at every collection never pile up.
    """
    converter = MetricSeriesConverter()
    attrs = [{"shard": i} for i in range(100)]

    def collect(subset: list[dict[str, int]], second: int) -> list[FlextMetric]:
        points = [_number(a, 1, T0 + second * S) for a in subset]
        return _metrics(converter(_collection(_counter(points))))

    assert len(collect(attrs, 1)) == 100
    assert collect(attrs, 2) == []  # unchanged: skipped, pending at 2 s
    out = collect(attrs[:10], 3)  # 90 series vanished; 100 > 2 * 10 + 64: pruned
    assert sorted(_shard(e) for e in out) == list(range(10, 100))
    assert {(_ns(e) - T0) // S for e in out} == {2}  # the vanished runs' last points
    assert converter.series_count == 10
    later: list[FlextMetric] = []
    for second in range(4, 40):  # a fresh dict per series every time: new series each time
        later += collect([{"shard": i} for i in range(10)], second)
        assert converter.series_count <= 2 * 10 + _SPARE + 10
    # Every point, plus once the end of the first ten's skipped run (at 3 s) when they go.
    ends = [e for e in later if _ns(e) == T0 + 3 * S]
    assert sorted(_shard(e) for e in ends) == list(range(10))
    assert len(later) == 36 * 10 + 10


def test_a_forked_child_remembers_nothing() -> None:
    """After fork, the child's converter starts with no series (its first collection is full)."""
    converter = MetricSeriesConverter()
    converter(_collection(_counter([_number({"route": "/a"}, 1, T0 + S)])))
    assert converter.series_count == 1
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        os._exit(0 if converter.series_count == 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert converter.series_count == 1


def test_only_a_redactors_own_redact_entity_redacts_per_series() -> None:
    """Per-series redaction is used for `Redactor.redact_entity` only, not for other callables."""

    class Custom(Redactor):
        def redact_entity(self, entity: Any) -> Any:
            return entity

    assert redacts_tags_only(Redactor().redact_entity)
    assert redacts_tags_only(Redactor.disabled().redact_entity)
    assert not redacts_tags_only(Custom().redact_entity)
    assert not redacts_tags_only(lambda entity: entity)
    assert not redacts_tags_only(None)


# -- through the pipeline, with the real SDK --------------------------------------------------


def _sdk(
    pipeline_redact: Any, sink: MemorySink, *, temporality: Temporality = Temporality.CUMULATIVE
) -> tuple[Any, Any, Any]:
    pipeline = build_pipeline(sinks=[sink], redact=pipeline_redact)
    reader = EntityMetricReader(pipeline, interval_s=3600, temporality=temporality)
    provider = MeterProvider(
        resource=Resource({"service.name": "shop"}), metric_readers=[reader], shutdown_on_exit=False
    )
    return pipeline, reader, provider


def test_sdk_collections_write_changed_series_only_and_redacted() -> None:
    """Real SDK: the second collection writes the series that changed; no secret reaches a sink."""
    sink = MemorySink()
    pipeline, reader, provider = _sdk(Redactor().redact_entity, sink)
    try:
        counter = provider.get_meter("shop").create_counter("orders")
        series = [{"shard": i, "password": CANARY, "note": f"Bearer {CANARY}"} for i in range(6)]
        for attrs in series:
            counter.add(1, attrs)
        reader.collect()
        pipeline.flush(10)
        first = sink.of_type(FlextMetric)
        assert sorted(_shard(m) for m in first) == list(range(6))
        for attrs in series[::2]:
            counter.add(2, attrs)
        reader.collect()
        pipeline.flush(10)
        second = sink.of_type(FlextMetric)[len(first) :]
        assert sorted((_shard(m), m.value) for m in second) == [(0, 3), (2, 3), (4, 3)]
        for metric in sink.of_type(FlextMetric):
            assert metric.tags["password"] == MARKER
            assert CANARY not in metric.model_dump_json()
        assert pipeline.dropped == {}
    finally:
        provider.shutdown()
        pipeline.shutdown(10)


def test_sdk_delta_collections_write_every_reported_series() -> None:
    """Real SDK, delta temporality: each collection writes every series that had measurements."""
    sink = MemorySink()
    pipeline, reader, provider = _sdk(Redactor().redact_entity, sink, temporality=Temporality.DELTA)
    try:
        counter = provider.get_meter("shop").create_counter("orders")
        for _ in range(3):
            counter.add(1, {"shard": 1})
            counter.add(1, {"shard": 2})
            reader.collect()
            pipeline.flush(10)
        metrics = sink.of_type(FlextMetric)
        assert [m.value for m in metrics] == [1] * 6
    finally:
        provider.shutdown()
        pipeline.shutdown(10)


def test_any_other_redact_callable_still_sees_every_metric_entity() -> None:
    """A `redact` that is not a Redactor's is applied by the pipeline to each metric entity."""
    seen: list[Entity] = []

    def redact(entity: Entity) -> Entity:
        seen.append(entity)
        if isinstance(entity, FlextMetric):
            return entity.model_copy(update={"tags": {"scrubbed": True}})
        return entity

    sink = MemorySink()
    pipeline, reader, provider = _sdk(redact, sink)
    try:
        counter = provider.get_meter("shop").create_counter("orders")
        for step in range(2):
            for shard in range(3):
                counter.add(step + 1, {"shard": shard})
            reader.collect()
            pipeline.flush(10)
        metrics = sink.of_type(FlextMetric)
        assert len(metrics) == 6
        assert all(m.tags == {"scrubbed": True} for m in metrics)
        assert len(seen) == 6
    finally:
        provider.shutdown()
        pipeline.shutdown(10)


def test_an_idle_metric_keeps_its_absence_rule_quiet() -> None:
    """A counter that stops changing is still reported: its `absence` rule does not fire.

    A metric that is no longer collected at all still fires the rule.
    """
    now = [0.0]
    engine = AlertEngine(
        [
            AbsenceRule(name="orders-gone", metric="orders", duration_s=30),
            AbsenceRule(name="refunds-gone", metric="refunds", duration_s=30),
        ],
        clock=lambda: now[0],
    )
    sink = MemorySink()
    pipeline = build_pipeline(sinks=[sink], observers=[engine.observe])
    reader = EntityMetricReader(pipeline, interval_s=3600)
    provider = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    try:
        meter = provider.get_meter("shop")
        meter.create_counter("orders").add(1)
        reader.collect()
        pipeline.flush(10)
        for _ in range(4):  # idle for 80 s, collected every 20 s
            now[0] += 20
            reader.collect()
            pipeline.flush(10)
        assert len(sink.of_type(FlextMetric)) == 1  # the idle points were not written
        alerts = [*sink.of_type(FlextAlert), *engine.evaluate(now[0])]
        assert {alert.name for alert in alerts} == {"refunds-gone"}
    finally:
        provider.shutdown()
        pipeline.shutdown(10)


def test_metric_samples_reach_only_metric_absence_rules() -> None:
    """`MetricSample` resets a metric absence rule and is ignored by every other rule kind."""
    now = [0.0]
    engine = AlertEngine(
        [AbsenceRule(name="orders-gone", metric="ord*", duration_s=30)], clock=lambda: now[0]
    )
    now[0] = 25
    engine.observe([MetricSample("orders", "shop")])
    now[0] = 50
    assert engine.evaluate(now[0]) == []
    now[0] = 60
    assert [alert.name for alert in engine.evaluate(now[0])] == ["orders-gone"]


def test_ids_follow_an_installed_id_source(flext_ids: Any) -> None:
    """The converter draws entity ids from the one id source (the test kit's counting ids here)."""
    del flext_ids  # installs the counting ids
    converter = MetricSeriesConverter()
    points = [_number({"shard": i}, 1, T0 + S) for i in range(3)]
    out = _metrics(converter(_collection(_counter(points))))
    assert [e.id for e in out] == ["entity-0001", "entity-0002", "entity-0003"]
