"""The shared sanitiser: any input becomes a valid, encodable attribute value."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings

from _convert_strategies import Colour, Raising, attribute_maps, attribute_values, hostile_text
from flext_observability._internal.convert.sanitize import (
    jsonish,
    sanitize_attributes,
    sanitize_value,
)
from flext_observability._internal.text import (
    MAX_REPR_LENGTH,
    MAX_STRING_LENGTH,
    TRUNCATED_MARK,
    clean_str,
    safe_repr,
    safe_str,
)
from flext_observability._internal.time import ns_to_datetime
from flext_observability.models import FlextLogEntry

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _recursive() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("a\ud800b\udfff", "a\ufffdb\ufffd"),
        (True, True),
        (-(2**63), -(2**63)),
        (2**63 - 1, 2**63 - 1),
        (2**63, "9223372036854775808"),
        (-(2**63) - 1, "-9223372036854775809"),
        (1.5, 1.5),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (b"caf\xc3\xa9\xff", "caf\u00e9\ufffd"),
        (bytearray(b"ok"), "ok"),
        (memoryview(b"mv"), "mv"),
        ((1, 2), [1, 2]),
        ([], []),
        (["a", "b"], ["a", "b"]),
        ([1, "a"], ["1", "a"]),
        ([1, None], ["1", "None"]),
        ([None], ["None"]),
        ([True, 1], ["True", "1"]),
        ([1.0, math.nan], ["1.0", "nan"]),
        ([1, 2**64], ["1", "18446744073709551616"]),
        ([[1, 2], 3], ["[1, 2]", "3"]),
        ([{"k": b"v"}], ['{"k": "b\'v\'"}']),
        (range(3), [0, 1, 2]),
        ({"a": 1}, '{"a": 1}'),
        (Raising(), "<Raising object: repr() raised RuntimeError>"),
        (Colour.RED, 1),
        (frozenset({1}), "frozenset({1})"),
        (_recursive(), ["1", "[1, [...]]"]),
        (None, None),
    ],
)
def test_sanitize_value_table(value: object, expected: object) -> None:
    """Each kind of input maps to the documented attribute value."""
    result = sanitize_value(value)
    assert result == expected
    assert type(result) is type(expected)


def test_huge_int_beyond_str_digit_limit_becomes_hex() -> None:
    """An int too long for str() becomes a cut hex string instead of raising."""
    result = sanitize_value(10**5000)
    assert isinstance(result, str)
    assert result.startswith("0x")
    assert result.endswith(TRUNCATED_MARK)
    assert len(result) == MAX_REPR_LENGTH


def test_long_strings_are_cut_to_the_limit() -> None:
    """A string over 64 Ki code points is cut to exactly the limit, ending with the mark."""
    result = clean_str("y" * (MAX_STRING_LENGTH + 10) + "\ud800")
    assert (len(result), result[-len(TRUNCATED_MARK) :]) == (MAX_STRING_LENGTH, TRUNCATED_MARK)
    assert clean_str("y" * MAX_STRING_LENGTH) == "y" * MAX_STRING_LENGTH


def test_safe_helpers_never_raise() -> None:
    """safe_str and safe_repr fall back to a placeholder when __str__ and __repr__ raise."""
    placeholder = "<Raising object: repr() raised RuntimeError>"
    assert (safe_str(Raising()), safe_repr(Raising()), jsonish([Raising()])) == (
        placeholder,
        placeholder,
        json.dumps([placeholder]),
    )
    assert safe_str(10**5000).startswith("0x")


def test_sanitize_attributes_cleans_keys_and_drops_none() -> None:
    """Keys become clean strings and None values are dropped."""
    raising = Raising()
    attributes: dict[object, object] = {1: "a", "gone": None, raising: 2, "b\ud800": (3, 4)}
    assert sanitize_attributes(attributes) == {
        "1": "a",
        "<Raising object: repr() raised RuntimeError>": 2,
        "b\ufffd": [3, 4],
    }
    assert sanitize_attributes(None) == {}


class BrokenMapping(Mapping[str, int]):
    """A mapping whose iteration raises after the first key."""

    def __getitem__(self, key: str) -> int:
        """Every key maps to 1."""
        return 1

    def __len__(self) -> int:
        """Claim two keys."""
        return 2

    def __iter__(self) -> Iterator[str]:
        """Yield one key, then fail."""
        yield "first"
        raise RuntimeError("iteration exploded")


def test_broken_mapping_keeps_what_was_read() -> None:
    """A mapping that raises while iterating keeps the attributes read before the error."""
    assert sanitize_attributes(BrokenMapping()) == {"first": 1}


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        (0, EPOCH),
        (1999, EPOCH + timedelta(microseconds=1)),
        (-1, EPOCH - timedelta(microseconds=1)),
        (2**100, datetime.max.replace(tzinfo=UTC)),
        (-(2**100), datetime.min.replace(tzinfo=UTC)),
    ],
)
def test_ns_to_datetime_truncates_and_clamps(ns: int, expected: datetime) -> None:
    """Nanoseconds floor to microseconds; out-of-range values clamp to the datetime range."""
    assert ns_to_datetime(ns) == expected


@settings(max_examples=150, deadline=None)
@given(attributes=attribute_maps())
def test_sanitized_attributes_validate_round_trip_and_are_a_fixed_point(
    attributes: dict[Any, Any],
) -> None:
    """Sanitised maps validate, JSON round-trip, and sanitising them again changes nothing."""
    clean = sanitize_attributes(attributes)
    entry = FlextLogEntry(message="m", context=clean)
    assert entry.context == clean
    assert FlextLogEntry.model_validate_json(entry.model_dump_json()) == entry
    assert sanitize_attributes(clean) == clean


@settings(max_examples=150, deadline=None)
@given(value=attribute_values())
def test_safe_str_and_jsonish_never_raise_and_are_encodable(value: object) -> None:
    """Renderings of any value are UTF-8 encodable and within their limits."""
    for text, limit in ((safe_str(value), MAX_STRING_LENGTH), (jsonish(value), MAX_REPR_LENGTH)):
        text.encode("utf-8")
        assert len(text) <= limit


@given(text=hostile_text())
def test_clean_str_output_is_utf8_encodable(text: str) -> None:
    """Cleaned strings never contain lone surrogates."""
    cleaned = clean_str(text)
    assert cleaned.encode("utf-8").decode("utf-8") == cleaned


class Ratio(float):
    """A float subclass whose __repr__ raises."""

    __slots__ = ()

    def __repr__(self) -> str:
        """Refuse."""
        raise RuntimeError("no")


class ExplodingSequence(Sequence[int]):
    """A sequence whose items raise."""

    def __getitem__(self, index: Any) -> Any:
        """Refuse every index."""
        raise RuntimeError("item exploded")

    def __len__(self) -> int:
        """Claim one item."""
        return 1

    def __repr__(self) -> str:
        """Name the class."""
        return "ExplodingSequence()"


def test_subclasses_and_broken_sequences() -> None:
    """Float subclasses become plain floats, nested ranges JSON, broken sequences their repr."""
    assert (sanitize_value(Ratio(0.5)), sanitize_value(Ratio("nan"))) == (0.5, "nan")
    assert type(sanitize_value(Ratio(0.5))) is float
    assert sanitize_value([range(2), "x"]) == ["[0, 1]", "x"]
    assert sanitize_value(ExplodingSequence()) == "ExplodingSequence()"


class Shapeshifter:
    """An object whose `__class__` lookup raises, so even isinstance() runs user code."""

    @property  # type: ignore[misc]  # a read-only __class__: hostile on purpose
    def __class__(self) -> type:
        """Refuse."""
        raise RuntimeError("no class")

    def __repr__(self) -> str:
        """Name the class."""
        return "Shapeshifter()"


class FalsyBroken(BrokenMapping):
    """A mapping whose `__len__` raises too."""

    def __len__(self) -> int:
        """Refuse."""
        raise RuntimeError("no len")


def test_objects_that_break_isinstance_and_len() -> None:
    """A raising __class__ or __len__ costs only that value, never the other attributes."""
    assert sanitize_attributes({"a": [Shapeshifter(), 1], "b": Shapeshifter(), "c": 2}) == {
        "a": ["Shapeshifter()", "1"],
        "b": "Shapeshifter()",
        "c": 2,
    }
    assert sanitize_attributes(FalsyBroken()) == {"first": 1}
