"""`stdlib_record_to_entry`: stdlib log records become entries and conversion never raises."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _convert_strategies import Raising, attribute_values, hostile_text
from flext_observability._internal.convert.severity import level_from_levelno
from flext_observability._internal.convert.stdlib import (
    exception_info,
    exception_type_name,
    stdlib_record_to_entry,
)
from flext_observability.models import ExceptionInfo, FlextLogEntry

CREATED = 1_700_000_000.25
CREATED_DT = datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC)


class PaymentError(Exception):
    """A non-builtin exception type."""


def _decline() -> None:
    raise PaymentError("declined")


def _record(
    msg: object = "hello %s",
    args: Any = ("world",),
    *,
    level: int = logging.INFO,
    exc_info: Any = None,
    extra: dict[str, Any] | None = None,
    sinfo: str | None = None,
) -> logging.LogRecord:
    logger = logging.getLogger("shop.orders")
    record = logger.makeRecord(
        "shop.orders", level, "/app/shop/orders.py", 42, msg, args, exc_info, "place", extra, sinfo
    )
    record.created = CREATED
    return record


@pytest.mark.usefixtures("flext_ids")
def test_full_record_maps_every_field() -> None:
    """Message, level, code location, thread, extras, correlation id, exception and ids map."""
    try:
        _decline()
    except PaymentError:
        exc_info = sys.exc_info()
    record = _record(
        level=logging.ERROR,
        exc_info=exc_info,
        extra={"correlation_id": "req-9", "order.id": 17, "items": ("a", "b"), "none": None},
    )
    entry = stdlib_record_to_entry(record, trace_id=0xABC, span_id=0xDEF, service_name="shop")
    assert entry.model_dump() == {
        "id": "entity-0001",
        "timestamp": CREATED_DT,
        "service_name": "shop",
        "level": "error",
        "message": "hello world",
        "logger_name": "shop.orders",
        "context": {
            "order.id": 17,
            "items": ["a", "b"],
            "code.file.path": "/app/shop/orders.py",
            "code.function.name": "place",
            "code.line.number": 42,
            "thread.id": threading.get_ident(),
            "thread.name": threading.current_thread().name,
        },
        "correlation_id": "req-9",
        "trace_id": f"{0xABC:032x}",
        "span_id": f"{0xDEF:016x}",
        "exception": {
            "type": f"{__name__}.PaymentError",
            "message": "declined",
            "stacktrace": "".join(traceback.format_exception(*exc_info)),
        },
    }


@pytest.mark.parametrize(
    ("levelno", "expected"),
    [
        (0, "debug"),
        (5, "debug"),
        (logging.DEBUG, "debug"),
        (11, "info"),
        (logging.INFO, "info"),
        (29, "info"),
        (logging.WARNING, "warning"),
        (logging.ERROR - 1, "warning"),
        (logging.ERROR, "error"),
        (logging.CRITICAL - 1, "error"),
        (logging.CRITICAL, "critical"),
        (99, "critical"),
        ("high", "info"),
    ],
)
def test_level_by_levelno(levelno: object, expected: str) -> None:
    """Level numbers map by threshold; a non-number is info."""
    assert level_from_levelno(levelno) == expected


@pytest.mark.parametrize(
    ("msg", "args", "expected"),
    [
        ("%d items", ("x",), "<unformattable log message: TypeError: %d format: a real number"),
        ("a %s %s", ("x",), "<unformattable log message: TypeError: not enough arguments"),
        ("no args", ("x",), "<unformattable log message: TypeError: not all arguments converted"),
        (Raising(), (), "<unformattable log message: RuntimeError: str exploded> msg=<Raising"),
    ],
)
def test_unformattable_message_falls_back(msg: object, args: Any, expected: str) -> None:
    """A bad % format or a raising __str__ gives the documented fallback message."""
    entry = stdlib_record_to_entry(_record(msg, args))
    assert entry.message.startswith(expected)


def test_unformattable_message_shows_msg_and_args() -> None:
    """The fallback names the exception, then the safe reprs of msg and args."""
    entry = stdlib_record_to_entry(_record("no args", (Raising(), "\ud800")))
    assert entry.message == (
        "<unformattable log message: TypeError: not all arguments converted during string "
        "formatting> msg='no args' args=(<Raising object: repr() raised RuntimeError>, "
        "'\\ud800')"
    )


def test_stack_info_and_missing_ids() -> None:
    """stack_info becomes code.stacktrace; zero or out-of-range ids give None."""
    entry = stdlib_record_to_entry(_record(sinfo="Stack (most recent call last):"), span_id=2**64)
    assert entry.context["code.stacktrace"] == "Stack (most recent call last):"
    assert (entry.trace_id, entry.span_id, entry.exception, entry.service_name) == (
        None,
        None,
        None,
        None,
    )


def test_bad_exc_info_and_created_are_ignored() -> None:
    """exc_info=True, a non-exception value or a bad `created` never break conversion."""
    record = _record(exc_info=True)
    record.created = float("nan")
    entry = stdlib_record_to_entry(record)
    assert entry.exception is None
    assert entry.message == "hello world"
    half = _record(exc_info=(ValueError, "not an exception", None))
    assert stdlib_record_to_entry(half).exception == ExceptionInfo(
        type="ValueError", message="", stacktrace=""
    )


def test_exception_helpers() -> None:
    """Builtins drop the module; an exception object alone is enough; nothing at all is None."""
    assert exception_type_name(KeyError) == "KeyError"
    assert exception_type_name(PaymentError) == f"{__name__}.PaymentError"
    assert exception_info(None, None) is None
    assert exception_info(None, ValueError("v")) == ExceptionInfo(
        type="ValueError", message="v", stacktrace="ValueError: v\n"
    )


def test_unforeseen_failure_gives_a_placeholder_entry() -> None:
    """A record broken beyond repair still yields an entry that says so."""
    record = _record()
    del record.pathname  # a required attribute gone
    entry = stdlib_record_to_entry(record)
    assert (entry.message, entry.level, entry.logger_name) == (
        "<log record conversion failed: AttributeError>",
        "info",
        "shop.orders",
    )


_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}
_MESSAGES = st.one_of(
    hostile_text(),
    st.sampled_from(["%s", "%d", "%(key)s", "%", "%s %s %s", "100%", "%.*f"]),
    attribute_values(),
)
_ARGS = st.one_of(
    st.just(()),
    st.tuples(attribute_values()),
    st.lists(attribute_values(), max_size=3).map(tuple),
    st.dictionaries(st.sampled_from(["key", "other"]), attribute_values(), max_size=2).map(
        lambda mapping: (mapping,)
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    msg=_MESSAGES,
    args=_ARGS,
    extra=st.dictionaries(hostile_text().filter(lambda k: k not in _RESERVED), attribute_values()),
    levelno=st.integers(-(2**70), 2**70),
)
def test_conversion_never_raises_and_round_trips(
    msg: object, args: tuple[Any, ...], extra: dict[str, Any], levelno: int
) -> None:
    """For any msg/args/extra combination the entry is valid and JSON round-trips."""
    record = logging.LogRecord("n", logging.INFO, "p.py", 1, msg, args, None)
    record.levelno = levelno
    record.__dict__.update(extra)
    entry = stdlib_record_to_entry(record, trace_id=2**128 - 1, span_id=1)
    assert not entry.message.startswith("<log record conversion failed")
    assert FlextLogEntry.model_validate_json(entry.model_dump_json()) == entry


def test_fallback_message_for_mapping_and_other_args() -> None:
    """Mapping args and odd args objects are shown item by item or as a safe repr."""
    mapping = _record("%(n)d items", ({"n": "x"},))
    assert stdlib_record_to_entry(mapping).message == (
        "<unformattable log message: TypeError: %d format: a real number is required, not str> "
        "msg='%(n)d items' args={'n': 'x'}"
    )
    odd = _record("%s %s")
    odd.args = ["only one"]  # type: ignore[assignment]  # hand-made records may hold anything
    assert stdlib_record_to_entry(odd).message == (
        "<unformattable log message: TypeError: not enough arguments for format string> "
        "msg='%s %s' args=['only one']"
    )


def test_empty_exc_info_triple_gives_no_exception() -> None:
    """exc_info=(None, None, None), as sys.exc_info() returns outside a handler, is no exception."""
    assert stdlib_record_to_entry(_record(exc_info=(None, None, None))).exception is None
