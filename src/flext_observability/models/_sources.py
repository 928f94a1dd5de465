"""Where entities draw their default ids and the current time from.

Every default `id`, `trace_id`, `span_id` and "now" of an entity goes through this module, so
one swap makes them deterministic: `flext_observability.testing` installs a fake clock and
counting ids for a test and puts the real sources back afterwards. The indirection is one
module-global lookup per default drawn.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flext_observability._internal import fork

__all__ = [
    "REAL_SOURCES",
    "Sources",
    "current_sources",
    "install_sources",
    "new_entity_id",
    "new_span_id",
    "new_trace_id",
    "utc_now",
]


def _real_now() -> datetime:
    return datetime.now(UTC)


_ids = random.Random()  # noqa: S311 - unique ids, not secrets
"""The entity-id generator: seeded from the OS, reseeded in every forked child.

Not `os.urandom` per id: that is a system call, and on the pipeline worker each one releases
the GIL and waits to take it back from a busy application thread (in the Flask benchmark the
log entries' ids cost more than the rest of their conversion). Not the global `random`
either: tests seed it, and ids must stay unique across them.
"""


def _reseed_ids() -> None:
    _ids.seed()  # from the OS: a forked child must not repeat its parent's ids


fork.register(after_in_child=_reseed_ids)


def _real_entity_id() -> str:
    # 32 random hex digits: 128 bits of a Mersenne Twister seeded from the OS.
    return f"{_ids.getrandbits(128):032x}"


def _random_hex(nbytes: int) -> str:
    while True:
        value = secrets.token_hex(nbytes)
        if value.strip("0"):
            return value


def _real_trace_id() -> str:
    return _random_hex(16)


def _real_span_id() -> str:
    return _random_hex(8)


@dataclass(frozen=True, slots=True)
class Sources:
    """The four default sources: aware-UTC now, entity id, W3C trace id, W3C span id."""

    now: Callable[[], datetime]
    entity_id: Callable[[], str]
    trace_id: Callable[[], str]
    span_id: Callable[[], str]


REAL_SOURCES = Sources(
    now=_real_now, entity_id=_real_entity_id, trace_id=_real_trace_id, span_id=_real_span_id
)

_current = REAL_SOURCES
_now = _real_now
_entity_id = _real_entity_id
_trace_id = _real_trace_id
_span_id = _real_span_id


def install_sources(sources: Sources) -> Sources:
    """Make `sources` the defaults of every entity built from now on; return the previous ones."""
    global _current, _now, _entity_id, _trace_id, _span_id  # noqa: PLW0603 - the one switch
    previous = _current
    _current = sources
    _now, _entity_id = sources.now, sources.entity_id
    _trace_id, _span_id = sources.trace_id, sources.span_id
    return previous


def current_sources() -> Sources:
    """The sources entities draw their defaults from right now."""
    return _current


def utc_now() -> datetime:
    """Return the current time, aware UTC (from the installed clock)."""
    return _now()


def new_entity_id() -> str:
    """Return a new entity id (32 lowercase hex digits by default)."""
    return _entity_id()


def new_trace_id() -> str:
    """Return a new W3C trace id (32 lowercase hex digits, never all zero)."""
    return _trace_id()


def new_span_id() -> str:
    """Return a new W3C span id (16 lowercase hex digits, never all zero)."""
    return _span_id()
