"""`FlextResult`: an immutable, railway-style success-or-failure value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar, cast, final

from flext_observability.exceptions import UnwrapFailedError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["FlextResult"]

T = TypeVar("T")
U = TypeVar("U")

_UNKNOWN_ERROR = "Unknown error"


@final
class FlextResult(Generic[T]):
    """The outcome of an operation: a value on success, an error message on failure.

    Build one with `FlextResult.ok(value)` or `FlextResult.fail(error, error_code=...)`. A result
    is immutable; `map` and `flat_map` chain work along the success track and pass failures
    through untouched.
    """

    __slots__ = ("_error", "_error_code", "_ok", "_value")

    _ok: bool
    _value: T | None
    _error: str | None
    _error_code: str | None

    def __init__(
        self, *, ok: bool, value: T | None, error: str | None, error_code: str | None
    ) -> None:
        """Build a result; prefer `FlextResult.ok` and `FlextResult.fail`."""
        object.__setattr__(self, "_ok", ok)
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_error", error)
        object.__setattr__(self, "_error_code", error_code)

    @classmethod
    def ok(cls, value: T) -> FlextResult[T]:
        """Return a successful result holding `value`."""
        return cls(ok=True, value=value, error=None, error_code=None)

    @classmethod
    def fail(cls, error: str | None, error_code: str | None = None) -> FlextResult[T]:
        """Return a failed result; an empty error becomes "Unknown error"."""
        message = str(error) if error else _UNKNOWN_ERROR
        return cls(ok=False, value=None, error=message, error_code=error_code)

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse mutation: results are immutable."""
        msg = f"FlextResult is immutable: cannot set {name!r}"
        raise AttributeError(msg)

    def __delattr__(self, name: str) -> None:
        """Refuse mutation: results are immutable."""
        msg = f"FlextResult is immutable: cannot delete {name!r}"
        raise AttributeError(msg)

    @property
    def is_success(self) -> bool:
        """Whether the result holds a value."""
        return self._ok

    @property
    def success(self) -> bool:
        """Alias of `is_success`."""
        return self._ok

    @property
    def is_failure(self) -> bool:
        """Whether the result holds an error."""
        return not self._ok

    @property
    def error(self) -> str | None:
        """The error message, or None on success."""
        return self._error

    @property
    def error_code(self) -> str | None:
        """The optional machine-readable error code of a failure."""
        return self._error_code

    @property
    def value(self) -> T:
        """The value; raises `UnwrapFailedError` (naming the error) on failure."""
        if not self._ok:
            msg = f"Cannot get the value of a failed FlextResult: {self._error}"
            raise UnwrapFailedError(msg)
        return cast("T", self._value)

    @property
    def data(self) -> T:
        """Alias of `value`."""
        return self.value

    def unwrap(self) -> T:
        """Return the value; raise `UnwrapFailedError` on failure."""
        return self.value

    def unwrap_or(self, default: T) -> T:
        """Return the value, or `default` on failure."""
        return cast("T", self._value) if self._ok else default

    def map(self, fn: Callable[[T], U]) -> FlextResult[U]:
        """Apply `fn` to the value; an exception inside `fn` becomes a failure."""
        if not self._ok:
            return FlextResult[U].fail(self._error, self._error_code)
        try:
            return FlextResult[U].ok(fn(cast("T", self._value)))
        except Exception as exc:  # noqa: BLE001 - map turns any exception into a failure
            return FlextResult[U].fail(_describe(exc))

    def flat_map(self, fn: Callable[[T], FlextResult[U]]) -> FlextResult[U]:
        """Chain an operation that itself returns a result."""
        if not self._ok:
            return FlextResult[U].fail(self._error, self._error_code)
        try:
            return fn(cast("T", self._value))
        except Exception as exc:  # noqa: BLE001 - same contract as map
            return FlextResult[U].fail(_describe(exc))

    def __bool__(self) -> bool:
        """True on success."""
        return self._ok

    def __eq__(self, other: object) -> bool:
        """Results are equal when their track, value, error and code are equal."""
        if not isinstance(other, FlextResult):
            return NotImplemented
        return (self._ok, self._value, self._error, self._error_code) == (
            other._ok,
            other._value,
            other._error,
            other._error_code,
        )

    def __hash__(self) -> int:
        """Hash by track and error, so results can sit in sets when their values can."""
        return hash((self._ok, self._error, self._error_code))

    def __repr__(self) -> str:
        """Show the track and its payload."""
        if self._ok:
            return f"FlextResult.ok({self._value!r})"
        if self._error_code is not None:
            return f"FlextResult.fail({self._error!r}, error_code={self._error_code!r})"
        return f"FlextResult.fail({self._error!r})"


def _describe(exc: BaseException) -> str:
    """Return a readable description of an exception, never raising itself."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a raising __str__ must not escape
        text = ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
