"""Hypothesis strategies for hostile telemetry input, shared by the converter tests."""

from __future__ import annotations

import enum
from typing import Any

from hypothesis import strategies as st

__all__ = ["Raising", "attribute_maps", "attribute_values", "hostile_text"]


class Raising:
    """An object whose `__repr__` and `__str__` both raise."""

    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    def __str__(self) -> str:
        raise RuntimeError("str exploded")


class Colour(enum.IntEnum):
    """An int subclass, as instrumentations sometimes pass."""

    RED = 1


class Tagged(str):
    """A str subclass whose `__str__` raises."""

    __slots__ = ()

    def __str__(self) -> str:
        raise RuntimeError("no")


def _recursive_list() -> list[Any]:
    items: list[Any] = [1]
    items.append(items)
    return items


def _huge_int(offset: int) -> int:
    # Built lazily: `str()` of this int raises ValueError (more than 4300 digits).
    return 10**5000 + offset


def _long_text(length: int) -> str:
    # Built lazily so that the strategy's repr stays short.
    return "x" * (length - 1) + "\ud800"


def hostile_text() -> st.SearchStrategy[str]:
    """Text including lone surrogates, control characters and very long strings."""
    return st.one_of(
        st.text(max_size=20),
        st.text(st.characters(categories=["Cs", "Cc", "Lo", "So"]), max_size=10),
        st.sampled_from(["", "   ", "\ud800", "a\udfffb", "\U0001f600" * 3]),
        st.integers(65_530, 70_000).map(_long_text),
    )


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=2**63 - 2, max_value=2**64),
        st.integers(0, 3).map(_huge_int),
        st.floats(allow_nan=True, allow_infinity=True),
        st.binary(max_size=12),
        st.binary(max_size=12).map(bytearray),
        hostile_text(),
        st.builds(Raising),
        st.just(Colour.RED),
        st.builds(Tagged, hostile_text()),
        st.builds(_recursive_list),
        st.just(frozenset({1, 2})),
    )


def attribute_values() -> st.SearchStrategy[Any]:
    """Any value an application might set as an attribute, nested lists and maps included."""
    return st.recursive(
        _scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.tuples(inner, inner),
            st.dictionaries(st.text(max_size=5), inner, max_size=3),
        ),
        max_leaves=8,
    )


def attribute_maps() -> st.SearchStrategy[dict[Any, Any]]:
    """Attribute maps with hostile keys (non-str, surrogates) and values."""
    keys = st.one_of(hostile_text(), st.integers(), st.builds(Raising))
    return st.dictionaries(keys, attribute_values(), max_size=6)
