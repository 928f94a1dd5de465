"""FlextResult: the railway type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flext_observability import FlextResult, UnwrapFailedError

_values = st.integers() | st.text(max_size=10) | st.none()
_errors = st.text(min_size=1, max_size=20)
_codes = st.none() | st.text(min_size=1, max_size=8)
_int_fns: list[Callable[[int], int]] = [
    lambda x: x + 1,
    lambda x: x * 2,
    lambda x: -x,
    lambda x: x // 3,
]


@st.composite
def _results(draw: st.DrawFn) -> FlextResult[int]:
    if draw(st.booleans()):
        return FlextResult.ok(draw(st.integers()))
    return FlextResult[int].fail(draw(_errors), draw(_codes))


def _state(result: FlextResult[Any]) -> tuple[object, ...]:
    """Every observable field of a result, so assertions compare whole structures."""
    value = result.unwrap_or(None)
    return (
        result.is_success,
        result.success,
        result.is_failure,
        value,
        result.error,
        result.error_code,
        bool(result),
    )


def test_ok_exposes_value_on_every_accessor() -> None:
    """A success exposes its value through value, data, unwrap and unwrap_or, and no error."""
    result = FlextResult.ok(42)
    assert _state(result) == (True, True, False, 42, None, None, True)
    assert (result.value, result.data, result.unwrap(), result.unwrap_or(0)) == (42, 42, 42, 42)


def test_ok_may_hold_none() -> None:
    """A success holding None is still a success."""
    result = FlextResult[None].ok(None)
    assert _state(result) == (True, True, False, None, None, None, True)
    assert result.value is None


def test_fail_exposes_error_and_code() -> None:
    """A failure exposes its error and code; unwrap_or returns the default."""
    result = FlextResult[int].fail("disk full", error_code="E_DISK")
    assert _state(result) == (False, False, True, None, "disk full", "E_DISK", False)
    assert result.unwrap_or(7) == 7


@pytest.mark.parametrize("accessor", ["value", "data", "unwrap"])
def test_value_on_failure_raises_with_the_error(accessor: str) -> None:
    """value, data and unwrap() on a failure raise UnwrapFailedError naming the error."""
    result = FlextResult[int].fail("disk full")
    read: Callable[[], object] = {
        "value": lambda: result.value,
        "data": lambda: result.data,
        "unwrap": result.unwrap,
    }[accessor]
    with pytest.raises(UnwrapFailedError) as info:
        read()
    assert str(info.value) == "Cannot get the value of a failed FlextResult: disk full"


@pytest.mark.parametrize("empty", ["", None])
def test_empty_error_becomes_unknown_error(empty: str | None) -> None:
    """An empty (or missing) error string becomes "Unknown error"."""
    assert FlextResult[int].fail(empty).error == "Unknown error"


def test_map_applies_on_success() -> None:
    """The map method transforms the value of a success."""
    assert FlextResult.ok(2).map(lambda x: x * 10) == FlextResult.ok(20)


def test_map_turns_exception_into_failure() -> None:
    """An exception raised inside map's function becomes a failure naming it."""
    result = FlextResult.ok(0).map(lambda x: 1 // x)
    assert _state(result) == (
        False,
        False,
        True,
        None,
        "ZeroDivisionError: integer division or modulo by zero",
        None,
        False,
    )


def test_map_exception_with_raising_str_is_still_described() -> None:
    """An exception whose __str__ raises is described by its type name alone."""

    class UglyError(Exception):
        def __str__(self) -> str:
            raise RuntimeError

    def boom(_: int) -> int:
        raise UglyError

    assert FlextResult.ok(1).map(boom).error == "UglyError"


def test_flat_map_chains_and_short_circuits() -> None:
    """flat_map chains result-returning steps and stops at the first failure."""

    def half(x: int) -> FlextResult[int]:
        return FlextResult.ok(x // 2) if x % 2 == 0 else FlextResult[int].fail(f"{x} is odd")

    assert FlextResult.ok(8).flat_map(half).flat_map(half) == FlextResult.ok(2)
    assert FlextResult.ok(6).flat_map(half).flat_map(half) == FlextResult[int].fail("3 is odd")


def test_flat_map_turns_exception_into_failure() -> None:
    """An exception inside flat_map's function becomes a failure, like map."""

    def boom(_: int) -> FlextResult[int]:
        raise KeyError("k")

    assert FlextResult.ok(1).flat_map(boom) == FlextResult[int].fail("KeyError: 'k'")


def test_failure_passes_through_map_and_flat_map_untouched() -> None:
    """A failure skips the functions of map and flat_map and keeps its error and code."""
    calls: list[int] = []
    failed = FlextResult[int].fail("nope", error_code="E1")

    def record(x: int) -> int:
        calls.append(x)
        return x

    mapped = failed.map(record)
    chained = failed.flat_map(lambda x: FlextResult.ok(record(x)))
    assert (mapped, chained, calls) == (failed, failed, [])
    assert mapped.error_code == "E1"


def test_repr_is_readable() -> None:
    """The repr shows the track and its payload."""
    assert repr(FlextResult.ok([1, "a"])) == "FlextResult.ok([1, 'a'])"
    assert repr(FlextResult[int].fail("bad")) == "FlextResult.fail('bad')"
    assert (
        repr(FlextResult[int].fail("bad", error_code="E"))
        == "FlextResult.fail('bad', error_code='E')"
    )


def test_result_is_immutable() -> None:
    """Setting or deleting any attribute raises AttributeError."""
    result = FlextResult.ok(1)
    with pytest.raises(AttributeError, match="immutable"):
        result._value = 2
    with pytest.raises(AttributeError, match="immutable"):
        result.anything = 2
    with pytest.raises(AttributeError, match="immutable"):
        del result._ok
    assert result == FlextResult.ok(1)


def test_equality_and_hash() -> None:
    """Results compare by track, value, error and code; equal results hash alike."""
    assert FlextResult.ok(1) == FlextResult.ok(1)
    assert FlextResult.ok(1) != FlextResult.ok(2)
    assert FlextResult[int].fail("x") != FlextResult[int].fail("x", error_code="C")
    assert FlextResult.ok(1) != 1
    assert len({FlextResult.ok(1), FlextResult.ok(1), FlextResult[int].fail("x")}) == 2


@given(_results())
def test_functor_identity(result: FlextResult[int]) -> None:
    """map(identity) returns an equal result."""
    assert result.map(lambda x: x) == result


@given(_results(), st.sampled_from(_int_fns), st.sampled_from(_int_fns))
def test_functor_composition(
    result: FlextResult[int], f: Callable[[int], int], g: Callable[[int], int]
) -> None:
    """map(f).map(g) equals map(g after f)."""
    assert result.map(f).map(g) == result.map(lambda x: g(f(x)))


@given(st.integers(), st.sampled_from(_int_fns), _errors)
def test_flat_map_left_identity(value: int, f: Callable[[int], int], error: str) -> None:
    """ok(a).flat_map(k) equals k(a), for succeeding and failing k."""

    def k_ok(x: int) -> FlextResult[int]:
        return FlextResult.ok(f(x))

    def k_fail(x: int) -> FlextResult[int]:
        return FlextResult[int].fail(f"{error}{x}")

    for k in (k_ok, k_fail):
        assert FlextResult.ok(value).flat_map(k) == k(value)


@given(_results())
def test_flat_map_right_identity(result: FlextResult[int]) -> None:
    """m.flat_map(ok) equals m."""
    assert result.flat_map(FlextResult.ok) == result


@given(_results(), st.sampled_from(_int_fns), st.sampled_from(_int_fns))
def test_flat_map_associativity(
    result: FlextResult[int], f: Callable[[int], int], g: Callable[[int], int]
) -> None:
    """(m >>= k) >>= h equals m >>= (x -> k(x) >>= h)."""

    def k(x: int) -> FlextResult[int]:
        return FlextResult.ok(f(x))

    def h(x: int) -> FlextResult[int]:
        return FlextResult.ok(g(x)) if x % 2 else FlextResult[int].fail(f"even {x}")

    assert result.flat_map(k).flat_map(h) == result.flat_map(lambda x: k(x).flat_map(h))


@given(_errors, _codes, st.sampled_from(_int_fns))
def test_failures_pass_through_untouched(
    error: str, code: str | None, f: Callable[[int], int]
) -> None:
    """A failure keeps its error and code through any chain of map and flat_map."""
    failed = FlextResult[int].fail(error, code)
    chained = failed.map(f).flat_map(lambda x: FlextResult.ok(f(x))).map(str)
    assert (chained.is_failure, chained.error, chained.error_code) == (True, error, code)


@given(_values)
def test_unwrap_or_on_success_ignores_default(value: object) -> None:
    """unwrap_or returns the held value on success, whatever the default."""
    assert FlextResult.ok(value).unwrap_or(object()) == value
