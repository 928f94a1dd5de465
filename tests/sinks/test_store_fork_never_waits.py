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


def test_a_child_forked_during_a_short_write_still_writes(tmp_path: Path) -> None:
    """A fork while the parent is mid-write waits for that write (briefly): the child can write.

    SQLite's per-process lock bookkeeping is copied by fork(): a child forked inside the parent's
    write transaction believes it holds the write lock through a connection it must never use,
    and every write of its own then fails as "database is locked" (a Celery prefork child lost
    all its spans this way).
    """
    store = SQLiteStore(tmp_path / "t.db", lock_timeout=1.0)
    store.write([_metric("parent.before")])
    in_write, forked = threading.Event(), threading.Event()

    def write_slowly() -> None:
        with store._lock:
            conn = store._connection()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)")
            conn.execute("INSERT INTO scratch VALUES (1)")
            in_write.set()
            forked.wait(0.1)  # a short transaction, still open when fork() is called
            conn.execute("COMMIT")

    writer = threading.Thread(target=write_slowly)
    writer.start()
    in_write.wait(5)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            store.write([_metric("child")])
            code = 0 if store.dropped == {} else 2
            store.close()
        except BaseException:  # noqa: BLE001 - report through the exit status
            code = 1
        os._exit(code)
    forked.set()
    writer.join(5)
    _, status = os.waitpid(pid, 0)
    names = sorted(m.name for m in store.query("metrics") if isinstance(m, FlextMetric))
    store.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert names == ["child", "parent.before"]


def test_a_child_forked_during_a_long_write_drops_at_once_and_says_why(tmp_path: Path) -> None:
    """Past the short wait, fork goes on; the child's writes are dropped at once and counted."""
    store = SQLiteStore(tmp_path / "t.db", lock_timeout=5.0)
    store.write([_metric("parent.before")])
    in_write, forked = threading.Event(), threading.Event()

    def write_for_long() -> None:
        with store._lock:
            conn = store._connection()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS scratch (x INTEGER)")
            in_write.set()
            forked.wait(10)  # still open long after fork() gave up waiting
            conn.execute("COMMIT")

    writer = threading.Thread(target=write_for_long)
    writer.start()
    in_write.wait(5)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        began = time.monotonic()
        store.write([_metric("child")])
        quick = time.monotonic() - began < 1.0  # no wait for a lock that can never come
        os._exit(0 if quick and store.dropped == {"forked_mid_write": 1} else 1)
    elapsed = time.monotonic() - started
    forked.set()
    writer.join(5)
    _, status = os.waitpid(pid, 0)
    store.write([_metric("parent.after")])
    names = sorted(m.name for m in store.query("metrics") if isinstance(m, FlextMetric))
    store.close()
    assert os.waitstatus_to_exitcode(status) == 0
    assert elapsed < 1.0, elapsed
    assert names == ["parent.after", "parent.before"]
