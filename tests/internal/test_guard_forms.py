"""The one internal-error guard: context manager and decorator, swallow-and-count or strict."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flext_observability._internal import guard as _guard
from flext_observability._internal.guard import guard
from flext_observability.testing import strict_mode


@pytest.fixture(autouse=True)
def _no_counts() -> Iterator[None]:
    """Each test counts from zero, and leaves no counts behind."""
    _guard.reset_internal_errors()
    yield
    _guard.reset_internal_errors()


def _fails() -> str:
    with guard("t.block"):
        raise ValueError("boom")
    return "fallback"


@guard("t.decorated", default=-1)
def _divide(a: int, b: int) -> int:
    return a // b


def test_block_and_decorator_swallow_count_and_fall_back() -> None:
    """A failed block reaches the code after it; a failed call returns `default`; both count."""
    assert (_fails(), _fails(), _divide(6, 3), _divide(1, 0)) == ("fallback", "fallback", 2, -1)
    assert _guard.internal_error_counts() == {"t.block": 2, "t.decorated": 1}


def test_strict_mode_re_raises_unless_the_guard_never_does() -> None:
    """Strict mode re-raises from both forms; `reraise=False` still reports and swallows."""
    with strict_mode():
        with pytest.raises(ValueError, match="boom"):
            _fails()
        with pytest.raises(ZeroDivisionError):
            _divide(1, 0)
        with guard("t.worker", reraise=False):
            raise RuntimeError
    assert _guard.internal_error_counts() == {"t.worker": 1}


def test_base_exceptions_pass_through() -> None:
    """KeyboardInterrupt and SystemExit are not ours to swallow, and are not counted."""
    for exc in (KeyboardInterrupt(), SystemExit(2), GeneratorExit()):
        with pytest.raises(type(exc)), guard("t.base"):
            raise exc
    assert _guard.internal_error_counts() == {}


@given(st.lists(st.booleans(), max_size=20))
def test_one_shared_guard_counts_every_failure(outcomes: list[bool]) -> None:
    """A guard holds no per-use state: reused, it counts exactly the failed uses."""
    _guard.reset_internal_errors()
    shared = guard("t.shared")
    for fail in outcomes:
        with shared:
            if fail:
                raise OSError
    assert _guard.internal_error_counts().get("t.shared", 0) == sum(outcomes)
