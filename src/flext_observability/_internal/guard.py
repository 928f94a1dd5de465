"""The internal-error guard: telemetry never breaks the host application.

Every processor, reader, handler, decorator, rule, health check and sink body runs inside
`guard(site)` (or calls `report_internal_error` from its own `except`). An error is logged once
per site on the `flext_observability` logger (never captured by our own logging bridge), counted,
and swallowed. In strict mode (`FLEXT_OBSERVABILITY_STRICT=true`, or `set_strict(True)`) it is
re-raised instead, so bugs are loud in tests and development.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "LOGGER_NAME",
    "guard",
    "internal_error_counts",
    "is_strict",
    "logger",
    "report_internal_error",
    "reset_internal_errors",
    "set_strict",
]

LOGGER_NAME = "flext_observability"
logger = logging.getLogger(LOGGER_NAME)

_state_lock = threading.Lock()
_counts: Counter[str] = Counter()
_strict = False


def set_strict(strict: bool) -> None:  # noqa: FBT001 - a plain switch
    """Turn strict mode on (internal errors are re-raised) or off (logged once and dropped)."""
    global _strict  # noqa: PLW0603 - one process-wide switch, set by setup()
    _strict = strict


def is_strict() -> bool:
    """Whether internal errors are re-raised."""
    return _strict


def report_internal_error(site: str, exc: BaseException) -> None:
    """Count an internal error at `site`; log it the first time that site fails.

    Never raises (logging itself is guarded); in strict mode the caller re-raises.
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
                _safe_str(exc),
            )
        else:
            logger.debug("flext-observability internal error in %s (again)", site)
    except Exception:  # noqa: BLE001, S110 - logging must never break the host
        pass


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)[:500]
    except Exception:  # noqa: BLE001 - a raising __str__ must not escape
        return "<unprintable>"


@contextmanager
def guard(site: str) -> Iterator[None]:
    """Run the block; report and swallow any exception, unless strict mode is on."""
    try:
        yield
    except Exception as exc:
        if _strict:
            raise
        report_internal_error(site, exc)


def internal_error_counts() -> dict[str, int]:
    """Return how many internal errors each site has had."""
    with _state_lock:
        return dict(_counts)


def reset_internal_errors() -> None:
    """Forget the counts (tests, and a forked child)."""
    with _state_lock:
        _counts.clear()
