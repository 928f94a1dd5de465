"""The internal-error guard: telemetry never breaks the host application.

Every processor, reader, handler, decorator, rule, health check and sink body runs inside one
`Guard` (spelled `guard(site)` at the call sites), used as a context manager or a decorator. An
error is logged once per site on the `flext_observability` logger (never captured by our own
logging bridge), counted, and swallowed. In strict mode (`FLEXT_OBSERVABILITY_STRICT=true`, or
`set_strict(True)`) it is re-raised instead, so bugs are loud in tests and development.

A fallback value is written after the block, which it reaches only when the block failed::

    with guard("emit"):
        return self._emit(entity)
    return False

or given to the decorator: `@guard("reader.export", default=MetricExportResult.FAILURE)`.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Generic, ParamSpec, TypeVar, overload

from flext_observability._internal.text import safe_str

__all__ = [
    "LOGGER_NAME",
    "Guard",
    "guard",
    "internal_error_counts",
    "is_strict",
    "logger",
    "reinit_after_fork",
    "report_internal_error",
    "reset_internal_errors",
    "set_strict",
]

LOGGER_NAME = "flext_observability"
logger = logging.getLogger(LOGGER_NAME)

_state_lock = threading.Lock()
_counts: Counter[str] = Counter()
_strict = False

P = ParamSpec("P")
R = TypeVar("R")
D = TypeVar("D")


def set_strict(strict: bool) -> None:  # noqa: FBT001 - a plain switch
    """Turn strict mode on (internal errors are re-raised) or off (logged once and dropped)."""
    global _strict  # noqa: PLW0603 - one process-wide switch, set by setup()
    _strict = strict


def is_strict() -> bool:
    """Whether internal errors are re-raised."""
    return _strict


def report_internal_error(site: str, exc: BaseException) -> None:
    """Count an internal error at `site`; log it the first time that site fails.

    Never raises (logging itself is guarded); it never re-raises either: that is `Guard`'s job.
    """
    with _state_lock:
        _counts[site] += 1
        first = _counts[site] == 1
    try:
        if _strict:
            logger.error("flext-observability internal error in %s", site, exc_info=exc)
        elif first:
            logger.warning(
                "flext-observability internal error in %s (further errors there are counted, "
                "not logged): %s: %s",
                site,
                type(exc).__name__,
                safe_str(exc, 500),
            )
        else:
            logger.debug("flext-observability internal error in %s (again)", site)
    except Exception:  # noqa: BLE001, S110 - logging must never break the host
        pass


class Guard(Generic[D]):
    """Report and swallow an `Exception` raised at `site`; re-raise it in strict mode.

    As a context manager (`with guard(site):`) it guards a block; as a decorator
    (`@guard(site, default=x)`) it guards every call of a function, which then returns `default`
    when it failed. Only `Exception` is caught: `KeyboardInterrupt`, `SystemExit` and
    `GeneratorExit` pass through. A guard holds no per-use state, so one instance can be shared
    by threads and reused.

    Args:
        site: where the error happened, as counted by `internal_error_counts`.
        default: what a decorated function returns when it failed.
        reraise: False for a thread that must survive even in strict mode (the pipeline worker,
            a sender thread, shutdown): the error is then always reported and swallowed.
    """

    __slots__ = ("default", "reraise", "site")

    @overload
    def __init__(self: Guard[None], site: str, *, reraise: bool = True) -> None: ...
    @overload
    def __init__(self: Guard[D], site: str, *, default: D, reraise: bool = True) -> None: ...
    def __init__(self, site: str, *, default: object = None, reraise: bool = True) -> None:
        """Guard `site`; see the class docstring for `default` and `reraise`."""
        self.site = site
        self.default = default
        self.reraise = reraise

    def __enter__(self) -> None:
        """Start guarding the block."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """Swallow (and report) an `Exception`, unless strict mode wants it re-raised."""
        if not isinstance(exc, Exception):
            return False
        if _strict and self.reraise:
            return False
        report_internal_error(self.site, exc)
        return True

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R | D]:
        """Guard every call of `fn`; a failed call returns `default`."""
        site, default, reraise = self.site, self.default, self.reraise

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | D:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if _strict and reraise:
                    raise
                report_internal_error(site, exc)
                return default  # type: ignore[return-value] # D is the type of `default`

        return guarded


guard = Guard
"""The name the call sites use: `with guard(site):` / `@guard(site, default=...)`."""


def internal_error_counts() -> dict[str, int]:
    """Return how many internal errors each site has had."""
    with _state_lock:
        return dict(_counts)


def reinit_after_fork() -> None:
    """Give a forked child a fresh counts lock (another thread may have held it at the fork)."""
    global _state_lock  # noqa: PLW0603 - replaced in the child only
    _state_lock = threading.Lock()


def reset_internal_errors() -> None:
    """Forget the counts (tests, and a forked child)."""
    with _state_lock:
        _counts.clear()
