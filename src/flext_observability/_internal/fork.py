"""Fork safety for the whole package: one `os.register_at_fork`, per-instance hooks.

A component that owns threads, locks, queues or sockets registers, per instance, the methods
that make it usable again in a forked child (and, if it must quiesce, the methods run around the
fork in the parent)::

    fork.register(self, after_in_child=self._after_fork)

Bound methods are held through `weakref.WeakMethod` (as the OpenTelemetry SDK's batch
processors do), so registering never keeps a component alive; dead entries are pruned. Module
functions are held strongly. As with `os.register_at_fork`, `before` hooks run in reverse
registration order and the `after_*` hooks in registration order. A failing hook is reported as
an internal error (site `fork`) and never stops the fork or the other hooks.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from types import MethodType

from flext_observability._internal import guard as _guard

__all__ = ["register", "unregister"]

Hook = Callable[[], object]
_Ref = Callable[[], Hook | None]


class _Entry:
    __slots__ = ("after_in_child", "after_in_parent", "before", "owner")

    def __init__(
        self, owner: object, before: _Ref | None, parent: _Ref | None, child: _Ref | None
    ) -> None:
        self.owner = weakref.ref(owner) if owner is not None else None
        self.before = before
        self.after_in_parent = parent
        self.after_in_child = child

    def alive(self) -> bool:
        refs = (self.before, self.after_in_parent, self.after_in_child)
        return all(ref is None or ref() is not None for ref in refs)


_lock = threading.Lock()
_entries: list[_Entry] = []
_FORK_GUARD = _guard.guard("fork", reraise=False)  # a fork must never fail because of us


def _ref(hook: Hook | None) -> _Ref | None:
    if hook is None:
        return None
    if isinstance(hook, MethodType):
        return weakref.WeakMethod(hook)
    return lambda: hook


def register(
    owner: object | None = None,
    *,
    after_in_child: Hook | None = None,
    before: Hook | None = None,
    after_in_parent: Hook | None = None,
) -> None:
    """Run these hooks around every `fork()` while their object lives.

    Args:
        owner: the component, for `unregister` (None for module-level hooks).
        after_in_child: makes the component usable in the child (fresh locks, no threads).
        before: quiesces it before the fork (say, waits for its transaction to end).
        after_in_parent: undoes `before` in the parent.
    """
    entry = _Entry(owner, _ref(before), _ref(after_in_parent), _ref(after_in_child))
    with _lock:
        _entries[:] = [e for e in _entries if e.alive()]
        _entries.append(entry)


def unregister(owner: object) -> None:
    """Stop running `owner`'s hooks."""
    with _lock:
        _entries[:] = [
            e for e in _entries if e.alive() and (e.owner is None or e.owner() is not owner)
        ]


def _run(hooks: list[_Ref | None]) -> None:
    for ref in hooks:
        hook = ref() if ref is not None else None
        if hook is not None:
            with _FORK_GUARD:
                hook()


def _before() -> None:
    _lock.acquire()  # held across the fork: the child must not inherit a half-edited list
    _run([e.before for e in reversed(_entries)])


def _after_in_parent() -> None:
    try:
        _run([e.after_in_parent for e in _entries])
    finally:
        _lock.release()


def _after_in_child() -> None:
    global _lock  # noqa: PLW0603 - the child gets a fresh lock
    _lock = threading.Lock()
    _guard.reinit_after_fork()
    _run([e.after_in_child for e in _entries])


os.register_at_fork(
    before=_before, after_in_parent=_after_in_parent, after_in_child=_after_in_child
)
