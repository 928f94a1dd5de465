"""Our OTLP encoders write exactly the bytes of the SDK's `encode_spans` / `encode_logs`.

Spans come from a real SDK `TracerProvider` (values cleaned by `BoundedAttributes`, as the
application makes them) and are also built directly as `ReadableSpan` (as the redaction makes the
exported copies, with plain dicts: mappings, None, bytes, nested sequences and values the SDK's
encoder refuses). Resources and scopes repeat as equal-but-distinct objects and as new ones, so
the grouping is exercised too. Log records likewise, emitted through an SDK logger and built
directly (any body). Where the SDK's encoder raises, ours must raise as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from flext_observability._internal import otlp_wire
from flext_observability._internal.otlp_wire import encode_log_request, encode_span_request


@pytest.fixture(autouse=True)
def _quiet_sdk_encoder() -> Iterator[None]:
    """The SDK's encoder logs a traceback per attribute it leaves out; the test expects them."""
    sdk = logging.getLogger("opentelemetry.exporter.otlp.proto.common._internal")
    previous = sdk.disabled
    sdk.disabled = True
    yield
    sdk.disabled = previous


def _assert_sdk_bytes(sdk: Callable[[Any], Any], ours: Callable[[Any], bytes], items: Any) -> None:
    """Ours gives the SDK encoder's serialized bytes, or fails where the SDK's fails."""
    try:
        expected = sdk(items).SerializeToString()
    except Exception:  # noqa: BLE001 - the SDK refuses this batch: so must we
        with pytest.raises(Exception):  # noqa: B017 - any error, like the SDK
            ours(items)
        return
    written = ours(items)
    if written != expected and sdk is encode_spans:  # say what differs, field by field
        assert ExportTraceServiceRequest.FromString(written) == sdk(items)
    assert written == expected


def _assert_same_spans(spans: list[ReadableSpan]) -> None:
    _assert_sdk_bytes(encode_spans, encode_span_request, spans)


_TEXT = st.text(max_size=12)  # lone surrogates included: protobuf refuses them
_SCALARS = st.one_of(
    _TEXT,
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),  # beyond int64 too
    st.floats(),  # NaN, infinities, -0.0
)
_SDK_VALUES = st.one_of(
    _SCALARS,
    st.lists(_TEXT, max_size=3),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=3),
    st.lists(st.floats(), max_size=3),
    st.lists(st.booleans(), max_size=3),
)
_ANY_VALUES = st.recursive(
    st.one_of(_SCALARS, st.none(), st.binary(max_size=6), st.just(object())),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(_TEXT, st.integers()), inner, max_size=3),
    ),
    max_leaves=6,
)
_IDS = st.integers(min_value=1, max_value=2**64 - 1)
_TRACE_IDS = st.integers(min_value=1, max_value=2**128 - 1)
_TRACE_STATES = st.dictionaries(
    st.sampled_from(["vendor", "rojo", "congo", "a1"]),
    st.sampled_from(["t61rcWkgMzE", "00f067aa0ba902b7", "x"]),
    max_size=2,
).map(lambda pairs: TraceState(list(pairs.items())))
_RESOURCES = [
    Resource({"service.name": "shop", "n": 1}),
    Resource({"service.name": "shop", "n": 1}),  # equal to the first, another object
    Resource({"service.name": "billing"}, schema_url="https://opentelemetry.io/schemas/1.21.0"),
    Resource({}),
]
_SCOPES = [
    None,
    InstrumentationScope("flask", "1.0"),
    InstrumentationScope("flask", "1.0"),  # equal, another object
    InstrumentationScope("db", None, "https://opentelemetry.io/schemas/1.21.0", {"k": "v"}),
    InstrumentationScope(""),
]


def _context(trace_id: int, span_id: int, *, remote: bool, state: TraceState) -> SpanContext:
    return SpanContext(trace_id, span_id, remote, TraceFlags(TraceFlags.SAMPLED), state)


@st.composite
def _direct_span(draw: st.DrawFn) -> ReadableSpan:
    """A span as the exported copies are built: any attribute values in plain dicts."""
    attributes = st.dictionaries(_TEXT, _ANY_VALUES, max_size=5)
    parent = draw(
        st.none()
        | st.builds(
            lambda span_id, remote: _context(1, span_id, remote=remote, state=TraceState()),
            _IDS,
            st.booleans(),
        )
    )
    events = draw(
        st.lists(
            st.builds(
                Event,
                name=_TEXT,
                attributes=attributes,
                timestamp=st.integers(min_value=0, max_value=2**64 - 1),
            ),
            max_size=2,
        )
    )
    links = draw(
        st.lists(
            st.builds(
                Link,
                st.builds(
                    lambda trace_id, span_id, remote: _context(
                        trace_id, span_id, remote=remote, state=TraceState()
                    ),
                    _TRACE_IDS,
                    _IDS,
                    st.booleans(),
                ),
                attributes,
            ),
            max_size=2,
        )
    )
    status = draw(
        st.builds(
            Status,
            st.sampled_from(list(StatusCode)),
            st.none() | _TEXT,
        ).filter(lambda s: s.status_code is StatusCode.ERROR or s.description is None)
        | st.just(Status(StatusCode.UNSET))
    )
    start = draw(st.integers(min_value=0, max_value=2**63))
    return ReadableSpan(
        name=draw(_TEXT),
        context=_context(draw(_TRACE_IDS), draw(_IDS), remote=False, state=draw(_TRACE_STATES)),
        parent=parent,
        resource=draw(st.sampled_from(_RESOURCES)),
        attributes=cast("Any", draw(attributes)),
        events=events,
        links=links,
        kind=draw(st.sampled_from(list(SpanKind))),
        status=status,
        start_time=start,
        end_time=draw(st.none() | st.integers(min_value=start, max_value=2**64 - 1)),
        instrumentation_scope=draw(st.sampled_from(_SCOPES)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_direct_span(), max_size=6))
def test_spans_built_directly_encode_to_the_sdk_bytes(spans: list[ReadableSpan]) -> None:
    """Any attribute value, event, link, parent, status, trace state, resource and scope."""
    _assert_same_spans(spans)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            _TEXT,
            st.dictionaries(_TEXT, _SDK_VALUES, max_size=5),
            st.sampled_from(list(SpanKind)),
            st.booleans(),
            st.sampled_from(range(len(_RESOURCES))),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_spans_from_the_sdk_encode_to_the_sdk_bytes(
    recipes: list[tuple[str, dict[str, Any], SpanKind, bool, int]],
) -> None:
    """Spans an application makes through the SDK (its attribute cleaning, limits, events)."""
    exported = InMemorySpanExporter()
    providers: dict[int, TracerProvider] = {}
    for name, attributes, kind, nested, resource in recipes:
        provider = providers.get(resource)
        if provider is None:
            provider = providers[resource] = TracerProvider(resource=_RESOURCES[resource])
            provider.add_span_processor(SimpleSpanProcessor(exported))
        tracer = provider.get_tracer("app", "2.0")
        with tracer.start_as_current_span(name, kind=kind, attributes=attributes) as span:
            span.add_event("checkpoint", attributes)
            if nested:
                tracer.start_span("child").end()
            span.set_status(Status(StatusCode.ERROR, name))
    _assert_same_spans(list(exported.get_finished_spans()))
    for provider in providers.values():
        provider.shutdown()


def test_an_attribute_the_sdk_leaves_out_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    """A value the encoder cannot write is left out of the export and said on our logger."""
    otlp_wire._said_skipped = False  # said once per process
    span = ReadableSpan(
        name="s",
        context=_context(1, 2, remote=False, state=TraceState()),
        attributes=cast("Any", {"huge": 2**64, "kept": "yes", "odd": object()}),
        resource=_RESOURCES[0],
    )
    with caplog.at_level(logging.WARNING, logger="flext_observability"):
        data = encode_span_request([span])
        encode_span_request([span])
    decoded = ExportTraceServiceRequest.FromString(data)
    keys = [kv.key for kv in decoded.resource_spans[0].scope_spans[0].spans[0].attributes]
    assert keys == ["kept"]
    said = [r for r in caplog.records if "could not be encoded for OTLP" in r.getMessage()]
    assert len(said) == 1
    assert "'huge'" in said[0].getMessage()


@pytest.mark.parametrize(
    ("first", "then"),
    [(0.0, -0.0), (-0.0, 0.0), (1, True), (True, 1), (0, False), (1, 1.0), (2**63 - 1, 2.0**63)],
)
def test_equal_values_of_other_types_or_signs_keep_their_own_encoding(
    first: object, then: object
) -> None:
    """Values equal to each other in Python (so one cache key?) encode as the SDK encodes each."""
    spans = [
        ReadableSpan(
            name=str(n),
            context=_context(1, n + 1, remote=False, state=TraceState()),
            attributes=cast("Any", {"x": value}),
            resource=_RESOURCES[0],
        )
        for n, value in enumerate([first, then, first])
    ]
    _assert_same_spans(spans)


def _assert_same_logs(records: list[ReadableLogRecord]) -> None:
    _assert_sdk_bytes(encode_logs, encode_log_request, records)


_SEVERITIES = st.none() | st.sampled_from(list(SeverityNumber))


@st.composite
def _direct_record(draw: st.DrawFn) -> ReadableLogRecord:
    """A record with any body and attributes, ids and flags (None ones too), any scope."""
    make: Any = LogRecord  # its typed overloads leave out the explicit ids this test sets
    record = make(
        timestamp=draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1)),
        observed_timestamp=draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1)),
        trace_id=draw(st.sampled_from([0, None]) | _TRACE_IDS),
        span_id=draw(st.sampled_from([0, None]) | _IDS),
        trace_flags=draw(st.sampled_from([None, TraceFlags(0), TraceFlags(1)])),
        severity_text=draw(st.none() | _TEXT),
        severity_number=draw(_SEVERITIES),
        body=draw(_ANY_VALUES),
        attributes=cast("Any", draw(st.dictionaries(_TEXT, _ANY_VALUES, max_size=4))),
        event_name=draw(st.none() | _TEXT),
    )
    return ReadableLogRecord(
        record,
        resource=draw(st.sampled_from(_RESOURCES)),
        instrumentation_scope=draw(st.sampled_from(_SCOPES)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_direct_record(), max_size=6))
def test_log_records_built_directly_encode_to_the_sdk_bytes(
    records: list[ReadableLogRecord],
) -> None:
    """Any body, attribute value, severity, ids, flags, event name, resource and scope."""
    _assert_same_logs(records)


# The SDK warns when its attribute cleaning drops one (an empty key): expected here.
@pytest.mark.filterwarnings("ignore::opentelemetry.sdk._logs.LogRecordDroppedAttributesWarning")
@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            _TEXT,
            _SEVERITIES,
            st.one_of(_SDK_VALUES, st.dictionaries(_TEXT, _SDK_VALUES, max_size=3)),
            st.dictionaries(_TEXT, _SDK_VALUES, max_size=5),
            st.sampled_from(range(len(_RESOURCES))),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_log_records_from_the_sdk_encode_to_the_sdk_bytes(recipes: list[Any]) -> None:
    """Records emitted through an SDK logger (its attribute cleaning and limits), in a span."""
    exported = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # untyped in the SDK
    providers: dict[int, LoggerProvider] = {}
    tracer = TracerProvider().get_tracer("t")
    for name, severity, body, attributes, resource in recipes:
        provider = providers.get(resource)
        if provider is None:
            provider = providers[resource] = LoggerProvider(resource=_RESOURCES[resource])
            provider.add_log_record_processor(SimpleLogRecordProcessor(exported))
        with tracer.start_as_current_span("request"):
            provider.get_logger(name or "app", "1.0").emit(
                LogRecord(
                    severity_text=name,
                    severity_number=severity,
                    body=body,
                    attributes=attributes,
                )
            )
    _assert_same_logs(list(exported.get_finished_logs()))
    for provider in providers.values():
        provider.shutdown()


def test_the_attribute_cache_stays_small_whatever_the_values() -> None:
    """Long keys and values (SQL statements, payloads) are never kept; the entries are bounded."""
    long_text = "x" * 10_000
    spans = [
        ReadableSpan(
            name="q",
            context=_context(1, n + 1, remote=False, state=TraceState()),
            attributes={
                "db.statement": f"{n} {long_text}",
                f"{n}{long_text}": "v",
                "db.system": "sqlite",
                "n": n,
            },
            resource=_RESOURCES[0],
        )
        for n in range(otlp_wire._KEY_VALUES_MAX + 100)
    ]
    _assert_same_spans(spans[:50])
    encode_span_request(spans)
    cached = otlp_wire._KEY_VALUES
    assert len(cached) <= otlp_wire._KEY_VALUES_MAX
    limit = otlp_wire._CACHED_TEXT_MAX
    assert all(len(key) <= limit for key, _kind, _value in cached)
    assert all(len(value) <= limit for _key, _kind, value in cached if isinstance(value, str))
