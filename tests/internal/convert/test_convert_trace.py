"""`span_to_trace`: real SDK spans become valid `FlextTrace` entities."""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode

from _convert_strategies import attribute_maps, hostile_text
from flext_observability._internal.convert.trace import (
    UNNAMED_OPERATION,
    span_attributes,
    span_to_trace,
)
from flext_observability._internal.time import ns_to_datetime
from flext_observability.models import FlextTrace

T0 = 1_700_000_000_000_000_000  # 2023-11-14T22:13:20Z in Unix nanoseconds
T0_DT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


class CountingIds(IdGenerator):
    """Deterministic ids: trace ids 1, 2, ... and span ids 1, 2, ..."""

    def __init__(self) -> None:
        """Start both counters at 1."""
        self._trace = itertools.count(1)
        self._span = itertools.count(1)

    def generate_trace_id(self) -> int:
        """Return the next trace id."""
        return next(self._trace)

    def generate_span_id(self) -> int:
        """Return the next span id."""
        return next(self._span)


class StartCollector(SpanProcessor):
    """Keeps the spans as `on_start` sees them (still open)."""

    def __init__(self) -> None:
        """Start with no spans."""
        self.started: list[Span] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Keep the open span."""
        self.started.append(span)


@dataclass
class Traced:
    """A local tracer provider (never the global one) exporting to memory."""

    provider: TracerProvider
    tracer: trace_api.Tracer
    exporter: InMemorySpanExporter


@pytest.fixture
def traced() -> Iterator[Traced]:
    """A local provider with deterministic ids, shut down after the test."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "checkout"}), id_generator=CountingIds()
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield Traced(provider, provider.get_tracer("shop.orders", "1.2"), exporter)
    provider.shutdown()


def test_nested_spans_with_events_and_recorded_exception() -> None:
    """A parent and an erroring child map field by field, including the exception event."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "checkout"}), id_generator=CountingIds()
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("shop.orders", "1.2")
    error = ValueError("card declined")
    parent = tracer.start_span(
        "POST /orders", kind=SpanKind.SERVER, attributes={"http.status": 500}, start_time=T0
    )
    ctx = trace_api.set_span_in_context(parent)
    child = tracer.start_span("charge", context=ctx, kind=SpanKind.CLIENT, start_time=T0 + 1000)
    child.add_event("retry", {"attempt": 2, "tags": ("a", "b")}, timestamp=T0 + 2000)
    try:
        raise error
    except ValueError as exc:
        child.record_exception(exc, timestamp=T0 + 3000)
    child.set_status(Status(StatusCode.ERROR, "declined"))
    child.end(end_time=T0 + 4_500_999)
    parent.set_status(Status(StatusCode.OK))
    parent.end(end_time=T0 + 10_000_000)
    provider.shutdown()

    child_span, parent_span = memory.get_finished_spans()
    stacktrace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    common: dict[str, Any] = {
        "service_name": "checkout",
        "trace_id": f"{1:032x}",
        "context": {},
        "scope": "shop.orders",
    }
    assert span_to_trace(parent_span).model_dump() == {
        **common,
        "id": f"{1:032x}-{1:016x}",
        "timestamp": T0_DT,
        "span_id": f"{1:016x}",
        "parent_span_id": None,
        "operation_name": "POST /orders",
        "kind": "server",
        "start_time": T0_DT,
        "end_time": T0_DT + timedelta(milliseconds=10),
        "duration_ms": 10.0,
        "status": "ok",
        "status_message": "",
        "attributes": {"http.status": 500},
        "events": [],
    }
    assert span_to_trace(child_span).model_dump() == {
        **common,
        "id": f"{1:032x}-{2:016x}",
        "timestamp": T0_DT + timedelta(microseconds=1),
        "span_id": f"{2:016x}",
        "parent_span_id": f"{1:016x}",
        "operation_name": "charge",
        "kind": "client",
        "start_time": T0_DT + timedelta(microseconds=1),
        "end_time": T0_DT + timedelta(microseconds=4500),
        "duration_ms": 4.499,
        "status": "error",
        "status_message": "declined",
        "attributes": {},
        "events": [
            {
                "name": "retry",
                "timestamp": T0_DT + timedelta(microseconds=2),
                "attributes": {"attempt": 2, "tags": ["a", "b"]},
            },
            {
                "name": "exception",
                "timestamp": T0_DT + timedelta(microseconds=3),
                "attributes": {
                    "exception.type": "ValueError",
                    "exception.message": "card declined",
                    "exception.stacktrace": stacktrace,
                    "exception.escaped": "False",
                },
            },
        ],
    }


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (SpanKind.INTERNAL, "internal"),
        (SpanKind.SERVER, "server"),
        (SpanKind.CLIENT, "client"),
        (SpanKind.PRODUCER, "producer"),
        (SpanKind.CONSUMER, "consumer"),
    ],
)
def test_every_span_kind_maps_to_its_lowercase_name(
    traced: Traced, kind: SpanKind, expected: str
) -> None:
    """Each OTel span kind becomes the lowercase `TraceKind`."""
    with traced.tracer.start_as_current_span("op", kind=kind):
        pass
    (span,) = traced.exporter.get_finished_spans()
    assert span_to_trace(span).kind == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status(StatusCode.UNSET), ("unset", "")),
        (Status(StatusCode.OK), ("ok", "")),
        (Status(StatusCode.ERROR, "timeout \ud800"), ("error", "timeout \ufffd")),
    ],
)
def test_status_code_and_description(
    traced: Traced, status: Status, expected: tuple[str, str]
) -> None:
    """UNSET/OK/ERROR map to unset/ok/error and the description is kept, cleaned."""
    with traced.tracer.start_as_current_span("op", set_status_on_exception=False) as span:
        span.set_status(status)
    (finished,) = traced.exporter.get_finished_spans()
    entity = span_to_trace(finished)
    assert (entity.status, entity.status_message) == expected


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_span_name_becomes_unnamed(traced: Traced, name: str) -> None:
    """An empty or blank span name maps to the documented placeholder."""
    with traced.tracer.start_as_current_span(name):
        pass
    (span,) = traced.exporter.get_finished_spans()
    assert span_to_trace(span).operation_name == UNNAMED_OPERATION == "<unnamed>"


def test_unfinished_span_has_no_end_time() -> None:
    """A span seen in `on_start` converts with end_time and duration_ms None."""
    collector = StartCollector()
    provider = TracerProvider(id_generator=CountingIds())
    provider.add_span_processor(collector)
    span = provider.get_tracer("t").start_span("open", start_time=T0)
    entity = span_to_trace(collector.started[0], context={"tenant": "acme"})
    span.end()
    provider.shutdown()
    assert (entity.start_time, entity.end_time, entity.duration_ms, entity.is_finished) == (
        T0_DT,
        None,
        None,
        False,
    )
    assert entity.context == {"tenant": "acme"}


def test_end_before_start_is_clamped(traced: Traced) -> None:
    """An explicit end time before the start gives end_time == start_time, duration 0."""
    span = traced.tracer.start_span("op", start_time=T0 + 5000)
    span.end(end_time=T0)
    (finished,) = traced.exporter.get_finished_spans()
    entity = span_to_trace(finished)
    assert (entity.start_time, entity.end_time, entity.duration_ms) == (
        T0_DT + timedelta(microseconds=5),
        T0_DT + timedelta(microseconds=5),
        0.0,
    )


def test_missing_resource_and_scope_give_none() -> None:
    """Without service.name or scope the entity has service_name and scope None."""
    span = ReadableSpan(
        name="op",
        context=SpanContext(trace_id=5, span_id=6, is_remote=False),
        resource=Resource.get_empty(),
        start_time=T0,
        end_time=T0,
        instrumentation_scope=InstrumentationScope(""),
    )
    entity = span_to_trace(span)
    assert (entity.service_name, entity.scope, entity.id) == (None, None, f"{5:032x}-{6:016x}")


@pytest.mark.parametrize(
    "context",
    [None, SpanContext(trace_id=0, span_id=1, is_remote=False), SpanContext(1, 0, False)],
)
def test_span_without_valid_ids_raises_value_error(context: SpanContext | None) -> None:
    """A span without valid ids cannot become an entity and says so."""
    with pytest.raises(ValueError, match="Invalid trace: the span has no valid span context"):
        span_to_trace(ReadableSpan(name="op", context=context, start_time=T0))


@settings(max_examples=60, deadline=None)
@given(start=st.integers(-(2**80), 2**80), delta=st.integers(0, 2**70))
def test_truncation_never_puts_end_before_start(start: int, delta: int) -> None:
    """Nanoseconds truncate monotonically, so any end >= start converts to end >= start."""
    span = ReadableSpan(
        name="op",
        context=SpanContext(trace_id=1, span_id=1, is_remote=False),
        start_time=start,
        end_time=start + delta,
    )
    entity = span_to_trace(span)
    assert entity.end_time is not None
    assert entity.end_time >= entity.start_time
    assert entity.start_time == ns_to_datetime(start)


@settings(max_examples=80, deadline=None)
@given(
    name=hostile_text(),
    attributes=attribute_maps(),
    event_attributes=attribute_maps(),
    times=st.tuples(st.integers(0, 2**63), st.integers(0, 2**63)),
    context=st.dictionaries(hostile_text(), hostile_text(), max_size=3),
)
def test_hostile_spans_always_give_valid_round_tripping_entities(
    name: str,
    attributes: dict[str, Any],
    event_attributes: dict[str, Any],
    times: tuple[int, int],
    context: dict[str, str],
) -> None:
    """Whatever the names and attribute values, the entity validates and JSON round-trips."""
    span = ReadableSpan(
        name=name,
        context=SpanContext(trace_id=2**128 - 1, span_id=2**64 - 1, is_remote=False),
        parent=SpanContext(trace_id=2**128 - 1, span_id=7, is_remote=False),
        attributes=attributes,
        events=[Event(name, event_attributes, timestamp=times[0])],
        start_time=times[0],
        end_time=times[1],
        resource=Resource({"service.name": name}),
        instrumentation_scope=InstrumentationScope(name),
    )
    entity = span_to_trace(span, context=context)
    assert FlextTrace.model_validate(entity.model_dump()) == entity
    assert FlextTrace.model_validate_json(entity.model_dump_json()) == entity


def test_never_started_span_and_missing_resource() -> None:
    """A hand-built span with only an end time starts at its end; no resource gives None."""
    span = ReadableSpan(
        name="op",
        context=SpanContext(trace_id=5, span_id=6, is_remote=False),
        end_time=T0,
    )
    span._resource = None  # type: ignore[assignment]  # hand-built spans may lack one
    entity = span_to_trace(span)
    assert (entity.start_time, entity.end_time, entity.service_name) == (T0_DT, T0_DT, None)


_OTEL_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.lists(st.integers(-10, 10), max_size=3),
)


@given(attributes=st.dictionaries(st.text(max_size=20), _OTEL_VALUES, max_size=8))
def test_span_attributes_read_the_same_map_as_the_public_property(
    attributes: dict[str, Any],
) -> None:
    """The fast read of an SDK span's attributes equals `span.attributes`, item for item."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("s", attributes=attributes).end()
    (span,) = exporter.get_finished_spans()
    assert dict(span_attributes(span)) == dict(span.attributes or {})
    bare = ReadableSpan(name="hand-built", attributes=dict(attributes))  # not BoundedAttributes
    assert dict(span_attributes(bare)) == dict(bare.attributes or {})
    provider.shutdown()
