"""FlextTrace: W3C ids, derived id and duration, enums, finish() and child()."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from _helpers import validation_errors
from flext_observability import FlextResult
from flext_observability.models import (
    FlextTrace,
    SpanEvent,
    TraceKind,
    TraceStatus,
    new_span_id,
    new_trace_id,
)
from flext_observability.testing import DeterministicIds, FakeClock

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


def _span(**overrides: Any) -> FlextTrace:
    data: dict[str, Any] = {
        "trace_id": TRACE,
        "span_id": SPAN,
        "operation_name": "GET /users",
        "start_time": T0,
        "service_name": "api",
        **overrides,
    }
    return FlextTrace.model_validate(data)


def test_full_span_dump() -> None:
    """A span dumps exactly the documented fields, with id derived and timestamp = start_time."""
    span = _span(
        end_time=T0 + timedelta(milliseconds=250),
        kind="SERVER",
        status="OK",
        attributes={"http.status_code": 200},
        context={"tenant": "t1"},
        scope="flask",
        events=[{"name": "cache-miss", "timestamp": T0}],
    )
    assert span.model_dump(mode="json") == {
        "id": f"{TRACE}-{SPAN}",
        "timestamp": "2024-01-01T00:00:00Z",
        "service_name": "api",
        "trace_id": TRACE,
        "span_id": SPAN,
        "parent_span_id": None,
        "operation_name": "GET /users",
        "kind": "server",
        "start_time": "2024-01-01T00:00:00Z",
        "end_time": "2024-01-01T00:00:00.250000Z",
        "duration_ms": 250.0,
        "status": "ok",
        "status_message": "",
        "attributes": {"http.status_code": 200},
        "context": {"tenant": "t1"},
        "events": [{"name": "cache-miss", "timestamp": "2024-01-01T00:00:00Z", "attributes": {}}],
        "scope": "flask",
    }
    assert (span.is_root, span.is_error, span.is_finished) == (True, False, True)


def test_defaults_generate_w3c_ids_and_start_now() -> None:
    """Without ids a span gets random valid W3C ids, id derived, and starts now."""
    span = FlextTrace(operation_name="op")
    assert re.fullmatch(r"[0-9a-f]{32}", span.trace_id)
    assert re.fullmatch(r"[0-9a-f]{16}", span.span_id)
    assert span.id == f"{span.trace_id}-{span.span_id}"
    assert span.timestamp == span.start_time
    assert abs(datetime.now(UTC) - span.start_time) < timedelta(minutes=1)
    assert (span.kind, span.status, span.end_time, span.duration_ms) == (
        TraceKind.INTERNAL,
        TraceStatus.UNSET,
        None,
        None,
    )


def test_timestamp_alone_sets_start_time() -> None:
    """A timestamp given without start_time becomes the start time."""
    span = FlextTrace(operation_name="op", timestamp=T0)
    assert (span.start_time, span.timestamp) == (T0, T0)


def test_random_ids_are_distinct_and_never_zero() -> None:
    """new_trace_id/new_span_id give distinct lowercase hex ids of the W3C lengths."""
    traces = {new_trace_id() for _ in range(200)}
    spans = {new_span_id() for _ in range(200)}
    assert (len(traces), len(spans)) == (200, 200)
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) and t.strip("0") for t in traces)
    assert all(re.fullmatch(r"[0-9a-f]{16}", s) and s.strip("0") for s in spans)


def _id_message(field: str, length: int, value: str) -> str:
    return f"Invalid trace: {field} must be {length} lowercase hex digits, got {value!r}"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("trace_id", TRACE.upper(), _id_message("trace_id", 32, TRACE.upper())),
        ("trace_id", TRACE[:-1], _id_message("trace_id", 32, TRACE[:-1])),
        ("trace_id", TRACE + "0", _id_message("trace_id", 32, TRACE + "0")),
        ("trace_id", TRACE[:-1] + "\n", _id_message("trace_id", 32, TRACE[:-1] + "\n")),
        ("trace_id", "g" * 32, _id_message("trace_id", 32, "g" * 32)),
        ("trace_id", "0" * 32, "Invalid trace: trace_id must not be all zeros"),
        ("span_id", SPAN.upper(), _id_message("span_id", 16, SPAN.upper())),
        ("span_id", SPAN + "a", _id_message("span_id", 16, SPAN + "a")),
        ("span_id", "0" * 16, "Invalid trace: span_id must not be all zeros"),
        ("parent_span_id", "0" * 16, "Invalid trace: parent_span_id must not be all zeros"),
        ("parent_span_id", "xyz", _id_message("parent_span_id", 16, "xyz")),
    ],
)
def test_invalid_ids_are_rejected(field: str, value: str, message: str) -> None:
    """Ids must be lowercase hex of the W3C length and not all zero; uppercase is rejected."""
    data = {"trace_id": TRACE, "span_id": SPAN, "operation_name": "op", field: value}
    errors = validation_errors(FlextTrace, data)
    assert errors == [(field, message)]


def test_matching_explicit_id_is_accepted_and_conflicting_id_rejected() -> None:
    """An explicit id equal to "<trace_id>-<span_id>" is fine; any other id is rejected."""
    assert _span(id=f"{TRACE}-{SPAN}").id == f"{TRACE}-{SPAN}"
    data = {"trace_id": TRACE, "span_id": SPAN, "operation_name": "op", "id": "my-id"}
    assert validation_errors(FlextTrace, data) == [
        ("", f"Invalid trace: id must be '<trace_id>-<span_id>' ({TRACE}-{SPAN})")
    ]


@pytest.mark.parametrize("name", ["", "   "])
def test_operation_name_must_not_be_empty(name: str) -> None:
    """operation_name is required and non-blank."""
    assert validation_errors(FlextTrace, {"operation_name": name}) == [
        ("operation_name", "Invalid trace: operation_name cannot be empty")
    ]


def test_duration_is_derived_from_the_two_times() -> None:
    """duration_ms = end_time - start_time in milliseconds, microsecond precise."""
    span = _span(end_time=T0 + timedelta(seconds=1, microseconds=1500))
    assert span.duration_ms == 1001.5


def test_duration_alone_sets_end_time() -> None:
    """duration_ms without end_time sets end_time = start_time + duration."""
    span = _span(duration_ms=20.25)
    assert (span.end_time, span.duration_ms) == (T0 + timedelta(microseconds=20250), 20.25)


def test_matching_duration_and_end_time_are_accepted() -> None:
    """Both times and a duration agreeing within a microsecond are accepted."""
    span = _span(end_time=T0 + timedelta(milliseconds=5), duration_ms=5.0004)
    assert span.duration_ms == 5.0


@pytest.mark.parametrize(
    ("overrides", "location", "message"),
    [
        (
            {"end_time": T0 - timedelta(microseconds=1)},
            "",
            "Invalid trace: end_time is before start_time",
        ),
        (
            {"end_time": T0 + timedelta(milliseconds=5), "duration_ms": 7.0},
            "",
            "Invalid trace: duration_ms does not match end_time - start_time",
        ),
        ({"duration_ms": -1.0}, "duration_ms", "Input should be greater than or equal to 0"),
        ({"duration_ms": float("nan")}, "duration_ms", "Input should be a finite number"),
        ({"duration_ms": 1e300}, "", "Invalid trace: duration_ms 1e+300 is out of range"),
    ],
)
def test_inconsistent_times_are_rejected(
    overrides: dict[str, Any], location: str, message: str
) -> None:
    """An end before the start, a mismatching, negative or out-of-range duration fail."""
    data = {"trace_id": TRACE, "span_id": SPAN, "operation_name": "op", "start_time": T0}
    assert validation_errors(FlextTrace, {**data, **overrides}) == [(location, message)]


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=365)))
def test_duration_is_never_negative_and_matches_times(elapsed: timedelta) -> None:
    """For any end >= start, duration_ms equals the elapsed milliseconds."""
    span = _span(end_time=T0 + elapsed)
    assert span.duration_ms == elapsed / timedelta(milliseconds=1)


@pytest.mark.parametrize("kind", list(TraceKind))
def test_every_kind_is_accepted_case_insensitively(kind: TraceKind) -> None:
    """The kind accepts internal/server/client/producer/consumer in any case."""
    assert _span(kind=kind.value.upper()).kind is kind


@pytest.mark.parametrize("status", list(TraceStatus))
def test_every_status_is_accepted_case_insensitively(status: TraceStatus) -> None:
    """The status accepts unset/ok/error in any case."""
    assert _span(status=status.value.title()).status is status


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "kind",
            "span",
            (
                "Invalid trace: kind: expected one of internal, server, client, "
                "producer, consumer, got 'span'"
            ),
        ),
        (
            "status",
            "failed",
            ("Invalid trace: status: expected one of unset, ok, error, got 'failed'"),
        ),
    ],
)
def test_unknown_kind_or_status_is_rejected(field: str, value: str, message: str) -> None:
    """Values outside the OTel enums are rejected with the allowed list."""
    errors = validation_errors(FlextTrace, {"operation_name": "op", field: value})
    assert errors == [(field, message)]


def test_context_holds_strings_only() -> None:
    """A span's context is dict[str, str]: a non-string value is rejected."""
    errors = validation_errors(FlextTrace, {"operation_name": "op", "context": {"n": 1}})
    assert errors == [("context.n", "Input should be a valid string")]


def test_finish_sets_status_and_end_time() -> None:
    """finish() returns a new finished span (status ok by default) and leaves the original."""
    span = _span()
    result = span.finish(end_time=T0 + timedelta(milliseconds=40))
    assert result.is_success
    assert result.value.model_dump(include={"status", "end_time", "duration_ms", "events"}) == {
        "status": TraceStatus.OK,
        "end_time": T0 + timedelta(milliseconds=40),
        "duration_ms": 40.0,
        "events": [],
    }
    assert (span.end_time, span.status) == (None, TraceStatus.UNSET)


def test_finish_with_explicit_status() -> None:
    """finish(status=...) accepts any TraceStatus, case-insensitively."""
    assert _span().finish(status="ERROR", end_time=T0).value.is_error
    assert _span().finish(status=TraceStatus.UNSET, end_time=T0).value.status is TraceStatus.UNSET


def test_finish_defaults_end_time_to_now(flext_clock: FakeClock) -> None:
    """Without end_time the span ends now."""
    started = _span(start_time=flext_clock.wall())
    flext_clock.advance(0.25)
    finished = started.finish().value
    assert (finished.end_time, finished.duration_ms) == (flext_clock.wall(), 250.0)


def test_finish_clamps_default_end_time_when_start_is_in_the_future(
    flext_clock: FakeClock,
) -> None:
    """If the clock is behind the start (clock step), the default end time is the start."""
    future = flext_clock.wall() + timedelta(hours=1)
    finished = _span(start_time=future).finish().value
    assert (finished.end_time, finished.duration_ms) == (future, 0.0)


def test_finish_with_exception_records_an_exception_event() -> None:
    """An exception sets status error, a "Type: message" status message and an OTel event."""
    try:
        raise ValueError("bad input")  # noqa: TRY301 - a real traceback for the event
    except ValueError as exc:
        error = exc
    finished = _span().finish(error=error, end_time=T0 + timedelta(seconds=1)).value
    event = finished.events[0]
    stacktrace = event.attributes["exception.stacktrace"]
    assert isinstance(stacktrace, str)
    assert stacktrace.startswith("Traceback (most recent call last):")
    assert stacktrace.endswith("ValueError: bad input\n")
    assert (finished.status, finished.status_message, finished.is_error) == (
        TraceStatus.ERROR,
        "ValueError: bad input",
        True,
    )
    assert finished.events == [
        SpanEvent(
            name="exception",
            timestamp=T0 + timedelta(seconds=1),
            attributes={
                "exception.type": "ValueError",
                "exception.message": "bad input",
                "exception.stacktrace": stacktrace,
            },
        )
    ]


def test_finish_with_error_text_records_the_message() -> None:
    """A string error sets status error and an exception event with just the message."""
    finished = _span().finish(error="timeout", end_time=T0).value
    assert (finished.status, finished.status_message) == (TraceStatus.ERROR, "timeout")
    assert finished.events == [
        SpanEvent(name="exception", timestamp=T0, attributes={"exception.message": "timeout"})
    ]


def test_finish_with_unprintable_exception() -> None:
    """An exception whose __str__ raises is still recorded, by its type name."""

    class UglyError(Exception):
        def __str__(self) -> str:
            raise RuntimeError

    finished = _span().finish(error=UglyError(), end_time=T0).value
    assert finished.status_message == "UglyError"
    assert finished.events[0].attributes["exception.message"] == ""


def test_finish_keeps_existing_events() -> None:
    """The exception event is appended after the span's earlier events."""
    span = _span(events=[SpanEvent(name="retry", timestamp=T0)])
    finished = span.finish(error="x", end_time=T0).value
    assert [e.name for e in finished.events] == ["retry", "exception"]


def test_finish_twice_is_a_failure() -> None:
    """Finishing an already finished span is a failure."""
    finished = _span().finish(end_time=T0).value
    assert finished.finish() == FlextResult[FlextTrace].fail(
        "Invalid trace: span is already finished"
    )


def test_finish_before_start_is_a_failure() -> None:
    """An explicit end_time before the start is a failure, not silently clamped."""
    result = _span().finish(end_time=T0 - timedelta(seconds=1))
    assert result == FlextResult[FlextTrace].fail("Invalid trace: end_time is before start_time")


def test_finish_with_unknown_status_is_a_failure() -> None:
    """An unknown status makes finish() fail with the allowed values."""
    assert _span().finish(status="done").error == (
        "Invalid trace: status: expected one of unset, ok, error, got 'done'"
    )


@pytest.mark.usefixtures("flext_ids")
def test_child_shares_trace_and_records_parent() -> None:
    """child() starts a new span in the same trace whose parent is this span."""
    parent = _span(context={"tenant": "t1"}, scope="lib")
    child = parent.child(
        "SELECT",
        kind="client",
        attributes={"db.system": "sqlite"},
        start_time=T0 + timedelta(milliseconds=1),
    ).value
    new_span = DeterministicIds.span_id(1)
    assert child.model_dump() == {
        "id": f"{TRACE}-{new_span}",
        "timestamp": T0 + timedelta(milliseconds=1),
        "service_name": "api",
        "trace_id": TRACE,
        "span_id": new_span,
        "parent_span_id": SPAN,
        "operation_name": "SELECT",
        "kind": TraceKind.CLIENT,
        "start_time": T0 + timedelta(milliseconds=1),
        "end_time": None,
        "duration_ms": None,
        "status": TraceStatus.UNSET,
        "status_message": "",
        "attributes": {"db.system": "sqlite"},
        "context": {"tenant": "t1"},
        "events": [],
        "scope": "lib",
    }
    assert (parent.is_root, child.is_root) == (True, False)


def test_child_defaults_start_now_and_kind_internal(flext_clock: FakeClock) -> None:
    """A child without start_time starts now, with kind internal and no attributes."""
    child = _span().child("step").value
    assert (child.kind, child.attributes, child.start_time) == (
        TraceKind.INTERNAL,
        {},
        flext_clock.wall(),
    )


def test_child_with_invalid_input_is_a_failure() -> None:
    """An invalid child (empty name) is a failure, not an exception."""
    assert _span().child(" ") == FlextResult[FlextTrace].fail(
        "Invalid trace: operation_name cannot be empty"
    )


def test_random_ids_skip_the_all_zero_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the random source yields all zeros (invalid in W3C), another id is drawn."""
    draws = iter(["00000000", "0000000000000000", "0000000000000001"])
    monkeypatch.setattr(
        "flext_observability.models._sources.secrets.token_hex", lambda _: next(draws)
    )
    assert new_span_id() == "0000000000000001"


def test_non_mapping_input_is_a_validation_error() -> None:
    """Validating something that is not a mapping fails cleanly."""
    with pytest.raises(ValidationError) as info:
        FlextTrace.model_validate(["op"])
    assert [e["msg"] for e in info.value.errors()] == [
        "Input should be a valid dictionary or instance of FlextTrace"
    ]


class CustomError(Exception):
    """A user-defined exception: its type is recorded with its module."""


def test_exception_type_is_module_qualified_for_user_exceptions() -> None:
    """exception.type is the qualified name; builtins keep the bare name (OTel SDK style)."""
    finished = _span().finish(error=CustomError("x"), end_time=T0).value
    attributes = finished.events[0].attributes
    assert (attributes["exception.type"], attributes["exception.message"]) == (
        f"{__name__}.CustomError",
        "x",
    )
