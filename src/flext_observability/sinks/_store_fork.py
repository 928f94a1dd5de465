"""Fork handling for the embedded store: no transaction is in flight across `fork()`.

Before a fork, every live store's lock is taken (bounded wait), so the pipeline worker cannot be
mid-transaction in the copied memory; the parent releases it afterwards. The child gets a fresh
lock and drops its inherited connection, then opens its own on first use.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["ForkAware", "track", "untrack"]


class ForkAware(Protocol):
    """What a tracked object does around `fork()`."""

    def _fork_prepare(self) -> None: ...
    def _fork_parent(self) -> None: ...
    def _fork_child(self) -> None: ...


_TRACKED: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def track(obj: ForkAware) -> None:
    """Call `obj`'s fork hooks around every `fork()` while it is alive."""
    _TRACKED.add(obj)


def untrack(obj: ForkAware) -> None:
    """Stop calling `obj`'s fork hooks."""
    _TRACKED.discard(obj)


def _prepare() -> None:
    for obj in list(_TRACKED):
        obj._fork_prepare()  # noqa: SLF001 - the hook protocol


def _parent() -> None:
    for obj in list(_TRACKED):
        obj._fork_parent()  # noqa: SLF001 - the hook protocol


def _child() -> None:
    for obj in list(_TRACKED):
        obj._fork_child()  # noqa: SLF001 - the hook protocol


os.register_at_fork(before=_prepare, after_in_parent=_parent, after_in_child=_child)
