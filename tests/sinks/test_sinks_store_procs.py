"""SQLiteStore across processes: fork and spawn writers share a file; SIGKILL never corrupts."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flext_observability.models import FlextMetric
from flext_observability.sinks import SQLiteStore

pytestmark = pytest.mark.slow

T0 = datetime(2024, 5, 1, tzinfo=UTC)
PER_BATCH = 50


def _batch(tag: str, number: int) -> list[FlextMetric]:
    return [
        FlextMetric(
            name=tag,
            value=number * PER_BATCH + i,
            id=f"{tag}-{number}-{i}",
            timestamp=T0 + timedelta(seconds=number),
        )
        for i in range(PER_BATCH)
    ]


def _write(store: SQLiteStore, tag: str, batches: int) -> None:
    for number in range(batches):
        store.write(_batch(tag, number))
    dropped = store.dropped
    store.close()
    if dropped:
        sys.exit(f"{tag} dropped {dropped}")


def _spawned_writer(path: str, tag: str, batches: int) -> None:
    _write(SQLiteStore(path, lock_timeout=10.0), tag, batches)


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _ids(store: SQLiteStore, tag: str) -> list[str]:
    return sorted(m.id for m in store.query("metrics", name=tag))


def _expected(tag: str, batches: int) -> list[str]:
    return sorted(f"{tag}-{n}-{i}" for n in range(batches) for i in range(PER_BATCH))


def test_fork_children_reuse_the_parents_store_object(tmp_path: Path) -> None:
    """Forked children inherit an open store, write through their own connections, lose none."""
    path = tmp_path / "t.db"
    store = SQLiteStore(path, lock_timeout=10.0)
    store.write(_batch("parent", 0))  # the parent's connection is open across the fork
    ctx = multiprocessing.get_context("fork")
    children = [ctx.Process(target=_write, args=(store, f"child{k}", 20)) for k in range(2)]
    for child in children:
        child.start()
    for number in range(1, 11):
        store.write(_batch("parent", number))
    for child in children:
        child.join(30)
    assert [child.exitcode for child in children] == [0, 0]
    assert _ids(store, "parent") == _expected("parent", 11)
    assert _ids(store, "child0") == _expected("child0", 20)
    assert _ids(store, "child1") == _expected("child1", 20)
    assert store.dropped == {}
    store.close()
    assert _integrity(path) == "ok"


def test_spawned_processes_write_the_same_file(tmp_path: Path) -> None:
    """Spawned writers opening the same (new) file concurrently lose nothing."""
    path = tmp_path / "t.db"
    ctx = multiprocessing.get_context("spawn")
    children = [
        ctx.Process(target=_spawned_writer, args=(str(path), f"s{k}", 15)) for k in range(2)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0]
    with SQLiteStore.open_readonly(path) as reader:
        assert _ids(reader, "s0") == _expected("s0", 15)
        assert _ids(reader, "s1") == _expected("s1", 15)
    assert _integrity(path) == "ok"


_KILLED_WRITER = """
import sys
from datetime import UTC, datetime
from flext_observability.models import FlextMetric
from flext_observability.sinks import SQLiteStore

store = SQLiteStore(sys.argv[1], max_mb=1, maintenance_every=5)
n = 0
while True:
    when = datetime.now(UTC)
    store.write([
        FlextMetric(name="loop", value=n * 500 + i, tags={"pad": "x" * 200}, timestamp=when)
        for i in range(500)
    ])
    n += 1
    if n == 1:
        print("ready", flush=True)
"""


@pytest.mark.parametrize("delay", [0.05, 0.4])
def test_sigkill_mid_write_leaves_a_consistent_store(tmp_path: Path, delay: float) -> None:
    """A writer SIGKILLed mid-loop leaves a file that passes integrity_check and whole batches."""
    path = tmp_path / "t.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        with SQLiteStore.open_readonly(path) as reader:  # reads while the writer writes
            assert reader.counts()["metrics"] >= 500
        time.sleep(delay)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert _integrity(path) == "ok"
    with SQLiteStore(path, max_mb=None) as store:
        count = store.counts()["metrics"]
        assert count > 0
        assert count % 500 == 0  # only whole batches: each write() is one transaction
        after = FlextMetric(name="after", value=1, timestamp=T0)
        store.write([after])
        assert [m.id for m in store.query("metrics", name="after")] == [after.id]
        assert store.dropped == {}
    assert _integrity(path) == "ok"
