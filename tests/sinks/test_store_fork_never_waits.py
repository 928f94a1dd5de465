"""fork() never waits on the store's lock, and the child still writes (issue 9, #7)."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flext_observability.models import FlextMetric, MetricType
from flext_observability.sinks.store import SQLiteStore

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def _metric(name: str) -> FlextMetric:
    return FlextMetric(
        name=name, value=1.0, metric_type=MetricType.GAUGE, timestamp=datetime.now(UTC)
    )


def test_fork_with_the_store_lock_held_is_immediate(tmp_path: Path) -> None:
    """Another thread holds the lock: fork returns at once, the child writes, the parent too."""
    store = SQLiteStore(tmp_path / "t.db")
    store.write([_metric("parent.before")])
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with store._lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: write through the inherited object, then leave at once
        code = 0
        try:
            store.write([_metric("child")])
            store.close()
        except BaseException:  # noqa: BLE001 - report through the exit status
            code = 1
        os._exit(code)
    elapsed = time.monotonic() - started
    release.set()
    holder.join(5)
    _, status = os.waitpid(pid, 0)
    store.write([_metric("parent.after")])
    names = sorted(m.name for m in store.query("metrics") if isinstance(m, FlextMetric))
    store.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert elapsed < 1.0, elapsed  # was ~6 s (the lock timeout) before
    assert names == ["child", "parent.after", "parent.before"]
