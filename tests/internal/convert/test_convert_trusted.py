"""Trusted construction: every converter's unvalidated entity equals the validated one.

The converters build entities with `models._base.trusted` (no pydantic validation) because they
sanitise every value themselves. These properties hold that shortcut honest: for hostile spans,
stdlib records, SDK log records and metric points, the trusted entity and the one
`model_validate` builds from the same data have the same fields, the same field types (compared
through their JSON), and the same `model_fields_set`.
"""

from __future__ import annotations

import logging
import math
import sys
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import ReadableLogRecord
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
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode

from _convert_strategies import attribute_maps, attribute_values, hostile_text
from flext_observability._internal.convert.logs import log_record_to_entry
from flext_observability._internal.convert.metrics import metrics_to_entities
from flext_observability._internal.convert.stdlib import stdlib_record_to_entry
from flext_observability._internal.convert.trace import span_to_trace
from flext_observability.models import FlextLogEntry, FlextMetric, FlextTrace

T0 = 1_700_000_000_000_000_000

Entity = FlextTrace | FlextLogEntry | FlextMetric


def _assert_same(
    trusted: Entity, validated: Entity, *, random_id: bool, clock_time: bool = False
) -> None:
    """Equal fields, equal field types (through JSON) and the same fields set.

    `random_id`: the entity id is random (compared for shape only); `clock_time`: the
    timestamp is "now" (the input had none), so it differs by the time between the two calls.
    """
    assert type(trusted) is type(validated)
    exclude = ({"id"} if random_id else set()) | ({"timestamp"} if clock_time else set())
    assert len(trusted.id) == len(validated.id)
    assert trusted.model_dump_json(exclude=exclude) == validated.model_dump_json(exclude=exclude)
    assert trusted.model_dump(exclude=exclude) == validated.model_dump(exclude=exclude)
    assert trusted.model_fields_set == validated.model_fields_set
    for name in type(validated).model_fields:
        if name not in exclude:
            assert type(getattr(trusted, name)) is type(getattr(validated, name)), name
    if not random_id:
        assert trusted == validated
    # The trusted entity is as valid as the validated one: it survives a round trip.
    assert type(trusted).model_validate_json(trusted.model_dump_json()) == trusted


_kinds = st.sampled_from(list(SpanKind))
_statuses = st.sampled_from([StatusCode.UNSET, StatusCode.OK, StatusCode.ERROR])
_times = st.integers(0, 2**63)


@settings(max_examples=60, deadline=None)
@given(
    name=hostile_text(),
    attributes=attribute_maps(),
    events=st.lists(st.tuples(hostile_text(), attribute_maps(), _times), max_size=3),
    start=_times,
    end=st.one_of(st.none(), _times),
    kind=_kinds,
    status=st.tuples(_statuses, st.one_of(st.none(), hostile_text())),
    parent=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    context=st.one_of(st.none(), st.dictionaries(hostile_text(), hostile_text(), max_size=3)),
    scope=st.one_of(st.none(), hostile_text()),
    service=st.one_of(st.none(), hostile_text(), st.integers()),
)
def test_trusted_span_equals_validated(  # noqa: PLR0917 - hypothesis passes them by name
    name: str,
    attributes: dict[Any, Any],
    events: list[tuple[str, dict[Any, Any], int]],
    start: int,
    end: int | None,
    kind: SpanKind,
    status: tuple[StatusCode, str | None],
    parent: int | None,
    context: dict[str, str] | None,
    scope: str | None,
    service: Any,
) -> None:
    """A span converted with trusted construction equals the validated conversion."""
    code, description = status
    span = ReadableSpan(
        name=name,
        context=SpanContext(trace_id=2**100 + 3, span_id=2**40 + 5, is_remote=False),
        parent=(
            None
            if parent is None
            else SpanContext(trace_id=2**100 + 3, span_id=parent, is_remote=False)
        ),
        attributes=attributes,
        events=[Event(n, a, timestamp=t) for n, a, t in events],
        kind=kind,
        status=Status(code, description) if code is StatusCode.ERROR else Status(code),
        start_time=start,
        end_time=end,
        resource=Resource({} if service is None else {"service.name": service}),
        instrumentation_scope=None if scope is None else InstrumentationScope(scope),
    )
    trusted = span_to_trace(span, context=context)
    validated = span_to_trace(span, context=context, validate=True)
    _assert_same(trusted, validated, random_id=False)


def _raise(message: str) -> None:
    raise ValueError(message)


def _exc_info(message: str) -> Any:
    try:
        _raise(message)
    except ValueError:
        return sys.exc_info()
    return None


@settings(max_examples=60, deadline=None)
@given(
    msg=attribute_values(),
    args=st.one_of(st.just(()), st.tuples(attribute_values())),
    extra=attribute_maps(),
    level=st.integers(-5, 60),
    created=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**40), 2**40)),
    ids=st.tuples(st.integers(-1, 2**130), st.integers(-1, 2**66)),
    with_exception=st.booleans(),
    service=st.one_of(st.none(), hostile_text()),
)
def test_trusted_stdlib_entry_equals_validated(  # noqa: PLR0917 - hypothesis passes them by name
    msg: Any,
    args: tuple[Any, ...],
    extra: dict[Any, Any],
    level: int,
    created: float,
    ids: tuple[int, int],
    with_exception: bool,
    service: str | None,
) -> None:
    """A stdlib record converted with trusted construction equals the validated conversion."""
    record = logging.LogRecord(
        "app.web", level, "/srv/app.py", 7, msg, args, _exc_info("boom") if with_exception else None
    )
    for key, value in extra.items():
        if isinstance(key, str) and key not in record.__dict__:
            record.__dict__[key] = value
    record.created = created
    kwargs: dict[str, Any] = {"trace_id": ids[0], "span_id": ids[1], "service_name": service}
    trusted = stdlib_record_to_entry(record, **kwargs)
    validated = stdlib_record_to_entry(record, validate=True, **kwargs)
    try:
        datetime.fromtimestamp(created, UTC)
    except (ValueError, OverflowError, OSError):
        _assert_same(trusted, validated, random_id=True, clock_time=True)
    else:
        _assert_same(trusted, validated, random_id=True)


@settings(max_examples=60, deadline=None)
@given(
    body=attribute_values(),
    attributes=attribute_maps(),
    severity=st.one_of(st.none(), st.sampled_from(list(SeverityNumber))),
    severity_text=st.one_of(st.none(), attribute_values()),
    timestamp=st.integers(1, 2**63),
    event_name=st.one_of(st.none(), hostile_text()),
)
def test_trusted_log_record_entry_equals_validated(  # noqa: PLR0917 - hypothesis passes them by name
    body: Any,
    attributes: dict[Any, Any],
    severity: SeverityNumber | None,
    severity_text: Any,
    timestamp: int,
    event_name: str | None,
) -> None:
    """An SDK log record converted with trusted construction equals the validated conversion."""
    log = LogRecord(
        timestamp=timestamp,
        body=body,
        attributes=attributes,
        severity_number=severity,
        severity_text=severity_text,
        event_name=event_name,
    )
    record = ReadableLogRecord(
        log, resource=Resource({"service.name": "shop"}), instrumentation_scope=None
    )
    _assert_same(
        log_record_to_entry(record), log_record_to_entry(record, validate=True), random_id=True
    )


_values = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _histogram(count: int, total: float, attributes: dict[Any, Any]) -> HistogramDataPoint:
    return HistogramDataPoint(
        attributes=attributes,
        start_time_unix_nano=T0,
        time_unix_nano=T0 + 10,
        count=count,
        sum=total,
        bucket_counts=[count, 0],
        explicit_bounds=[5.0],
        min=math.inf if count == 0 else 1.0,
        max=-math.inf if count == 0 else 1.0,
        exemplars=[],
    )


@settings(max_examples=60, deadline=None)
@given(
    name=st.one_of(st.sampled_from(["http.server.requests", "queue.depth"]), hostile_text()),
    points=st.lists(st.tuples(_values, attribute_maps()), min_size=1, max_size=4),
    start=st.one_of(st.just(0), st.integers(1, 2**63)),
    histogram=st.tuples(st.integers(0, 50), st.floats(allow_nan=False), attribute_maps()),
    monotonic=st.booleans(),
)
def test_trusted_metric_points_equal_validated(
    name: str,
    points: list[tuple[float, dict[Any, Any]]],
    start: int,
    histogram: tuple[int, float, dict[Any, Any]],
    monotonic: bool,
) -> None:
    """Metric points converted with trusted construction equal the validated conversion."""
    numbers = [
        NumberDataPoint(attributes=a, start_time_unix_nano=start, time_unix_nano=T0, value=v)
        for v, a in points
    ]
    metrics = [
        Metric(
            name=name,
            description=None,
            unit="ms",
            data=Sum(numbers, Temporality.CUMULATIVE, is_monotonic=monotonic),
        ),
        Metric(name=name, description=None, unit=None, data=Gauge(numbers)),
        Metric(
            name="latency",
            description=None,
            unit="s",
            data=Histogram([_histogram(*histogram)], Temporality.CUMULATIVE),
        ),
    ]
    scope = ScopeMetrics(scope=InstrumentationScope("s"), metrics=metrics, schema_url="")
    data = MetricsData(
        [ResourceMetrics(Resource({"service.name": "shop"}), [scope], schema_url="")]
    )
    skipped_trusted: list[str] = []
    skipped_validated: list[str] = []
    trusted = metrics_to_entities(data, on_skip=lambda n, _e: skipped_trusted.append(n))
    validated = metrics_to_entities(
        data, on_skip=lambda n, _e: skipped_validated.append(n), validate=True
    )
    assert skipped_trusted == skipped_validated
    assert len(trusted) == len(validated)
    for one, other in zip(trusted, validated, strict=True):
        _assert_same(one, other, random_id=True)
