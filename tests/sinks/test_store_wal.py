"""The store's WAL allowance: how far the write-ahead log grows before a commit checkpoints it.

A longer WAL holds more commits between two checkpoints, so an index page that several commits
dirtied (the trace-id indexes take a random page per trace) is copied back and synced once. The
allowance is `WAL_BYTES`, at most an eighth of the store's size cap, never below SQLite's own
1,000 pages; the WAL file is truncated back to it after a checkpoint.
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from flext_observability.models import FlextLogEntry
from flext_observability.sinks import SQLiteStore
from flext_observability.sinks import _store_db as db
from flext_observability.sinks._store_schema import table_for_entity

MIB = 1024 * 1024


def _pragmas(conn: sqlite3.Connection) -> tuple[int, int, int]:
    return (
        int(conn.execute("PRAGMA page_size").fetchone()[0]),
        int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]),
        int(conn.execute("PRAGMA journal_size_limit").fetchone()[0]),
    )


@pytest.mark.parametrize(
    ("max_mb", "expected"),
    [(None, db.WAL_BYTES), (256, 32 * MIB), (1024, db.WAL_BYTES), (64, 8 * MIB), (16, 2 * MIB)],
)
def test_allowance_follows_the_size_cap(
    tmp_path: Path, max_mb: float | None, expected: int
) -> None:
    """The writer checkpoints at the allowance (in pages) and truncates the WAL file to it."""
    assert db.wal_allowance(None if max_mb is None else int(max_mb * MIB)) == expected
    store = SQLiteStore(tmp_path / "s.db", max_mb=max_mb)
    try:
        store.write([FlextLogEntry(message="opened")])
        page_size, checkpoint_pages, limit = _pragmas(store._connection())
    finally:
        store.close()
    pages = max(1000, expected // page_size)
    assert (checkpoint_pages, limit) == (pages, pages * page_size)


def _entries(count: int, start: int) -> list[FlextLogEntry]:
    return [
        FlextLogEntry(message=f"{start + i} " + "x" * 900, logger_name="wal.test")
        for i in range(count)
    ]


def test_wal_grows_to_the_allowance_and_no_further(tmp_path: Path) -> None:
    """Past SQLite's default 1,000 pages without a checkpoint; never much past the allowance.

    ~60 MB of rows go through a 12 MiB allowance: the WAL file is checkpointed (and restarted,
    then truncated back to the allowance) as it reaches it, never before.
    """
    allowance = 12 * MIB
    path = tmp_path / "s.db"
    conn = db.open_writer(path, lock_timeout=5.0, max_page_count=None, wal_bytes=allowance)
    wal = Path(f"{path}-wal")
    table = table_for_entity(_entries(1, 0)[0])
    try:
        page_size = _pragmas(conn)[0]
        sizes: list[int] = []
        for batch in range(60):  # ~1 MB of log rows (with their indexes) per batch
            rows = [table.row(entry) for entry in _entries(500, 500 * batch)]
            db.insert_batch(conn, {table: rows}, 5.0)
            sizes.append(wal.stat().st_size)
        assert conn.execute("SELECT count(*) FROM logs").fetchone()[0] == 30_000
    finally:
        conn.close()
    batch_bytes = max(b - a for a, b in itertools.pairwise(sizes))
    assert 0 < batch_bytes < 2 * MIB
    assert max(sizes) > 1000 * page_size + batch_bytes  # SQLite's default would have checkpointed
    assert max(sizes) <= allowance + batch_bytes  # ours did, at the allowance
    assert sizes[-1] <= allowance + batch_bytes
