"""The one fork module: per-instance hooks, held weakly, run in the child; failures contained."""

from __future__ import annotations

import gc
import os

from flext_observability._internal import fork


class _Component:
    def __init__(self, log: list[str], name: str) -> None:
        self.log = log
        self.name = name
        fork.register(
            self,
            before=self.before,
            after_in_parent=self.parent,
            after_in_child=self.child,
        )

    def before(self) -> None:
        self.log.append(f"{self.name}.before")

    def parent(self) -> None:
        self.log.append(f"{self.name}.parent")

    def child(self) -> None:
        self.log.append(f"{self.name}.child")


class _Broken:
    def __init__(self) -> None:
        fork.register(self, after_in_child=self.child)

    def child(self) -> None:
        raise RuntimeError("broken hook")


def _fork_and_report(log: list[str]) -> int:
    """Fork; the child exits with 0 if `log` ends as expected there."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which reports by exit code
        code = 1
        try:
            code = 0 if log[-2:] == ["a.child", "b.child"] else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_hooks_run_in_order_and_a_broken_hook_stops_nothing() -> None:
    """`before` runs in reverse order, `after_*` in order; a raising hook is contained."""
    log: list[str] = []
    broken = _Broken()
    a, b = _Component(log, "a"), _Component(log, "b")
    assert _fork_and_report(log) == 0
    assert log == ["b.before", "a.before", "a.parent", "b.parent"]
    fork.unregister(a)
    fork.unregister(b)
    fork.unregister(broken)


def test_a_collected_component_is_not_kept_alive_nor_called() -> None:
    """Registration holds the component weakly; once collected its hooks are gone."""
    log: list[str] = []
    component = _Component(log, "gone")
    del component
    gc.collect()
    fork.unregister(object())  # prunes dead entries
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os._exit(0 if not log else 3)
    _, status = os.waitpid(pid, 0)
    assert (os.waitstatus_to_exitcode(status), log) == (0, [])
