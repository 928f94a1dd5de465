"""SQLite plumbing for the embedded store: opening, schema, locking, drop reasons, retention.

Writers open the file read-write in WAL mode with `synchronous=NORMAL` (a committed transaction
survives a process crash; only an OS crash can lose the last commits, never corrupt the file)
and take the write lock with `BEGIN IMMEDIATE`, retried on `database is locked` until a deadline.
Readers open it with `mode=ro`, which works while other processes write.
"""

from __future__ import annotations

import errno
import json
import math
import random
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from flext_observability.exceptions import StoreError
from flext_observability.sinks._store_schema import (
    MIN_READ_VERSION,
    SCHEMA_VERSION,
    TABLES,
    Table,
    create_schema_sql,
    migration_sql,
    series_key,
)

__all__ = [
    "RESET_REASONS",
    "SchemaMismatchError",
    "apply_retention",
    "begin_immediate",
    "checkpoint_and_vacuum",
    "delete_older_than",
    "drop_reason",
    "insert_batch",
    "open_reader",
    "open_writer",
    "shrink_to",
    "used_bytes",
    "wal_allowance",
]

_JITTER = random.SystemRandom()
"""Jitter from the OS: never advances the app's `random` state, and differs across forks."""

# Primary SQLite result codes (https://sqlite.org/rescode.html) → drop reason.
_REASONS = {
    3: "cantopen",  # SQLITE_PERM
    5: "locked",  # SQLITE_BUSY
    6: "locked",  # SQLITE_LOCKED
    8: "readonly",  # SQLITE_READONLY
    10: "io",  # SQLITE_IOERR
    11: "corrupt",  # SQLITE_CORRUPT
    13: "disk_full",  # SQLITE_FULL
    14: "cantopen",  # SQLITE_CANTOPEN
    23: "cantopen",  # SQLITE_AUTH
    26: "corrupt",  # SQLITE_NOTADB
}
_OS_REASONS = {
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "readonly",
    errno.EACCES: "readonly",
    errno.EPERM: "readonly",
}
# Reasons after which the connection is discarded and reopened on the next write.
RESET_REASONS = frozenset({"corrupt", "cantopen", "io", "error"})


class SchemaMismatchError(Exception):
    """The file was written by a newer schema version than this code understands."""


def drop_reason(exc: BaseException) -> str:
    """Classify why a write failed, as the key counted in `SQLiteStore.dropped`."""
    if isinstance(exc, SchemaMismatchError):
        return "schema"
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return _REASONS.get(code & 0xFF, "error") if isinstance(code, int) else "error"
    if isinstance(exc, OSError):
        return _OS_REASONS.get(exc.errno or 0, "cantopen")
    return "error"


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and (code & 0xFF) in {5, 6}


def begin_immediate(conn: sqlite3.Connection, deadline: float) -> None:
    """Start a write transaction, retrying while another process holds the lock."""
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(_JITTER.uniform(0.002, 0.02))
        else:
            return


WAL_BYTES = 32 * 1024 * 1024
"""How large the WAL may grow before a commit checkpoints it (at most 1/8 of the size cap).

SQLite's default checkpoints every 1,000 pages (~4 MB). Each commit writes every page it
dirtied to the WAL, and a checkpoint copies each page the WAL holds back into the database and
syncs it. The trace-id indexes take one random page per trace, so once a store holds more traces
than a commit touches, every request dirties pages of its own; a longer WAL holds more commits
between two checkpoints, and a page that several of them dirtied is copied back once. Measured
in `bench_service`'s Flask service, store only, alternating runs: insert CPU per row into a
store holding 60,000 requests 31.6-32.8 µs with 1,000 pages, 28.6-30.0 with this allowance;
into an empty store 16.8-17.1 and 14.3-17.2. The file next to the store (`-wal`) is truncated
back to the allowance after a checkpoint.
"""
_DEFAULT_CHECKPOINT_PAGES = 1000


def wal_allowance(max_bytes: int | None) -> int:
    """The WAL bytes a writer allows before it checkpoints, for a store capped at `max_bytes`."""
    return WAL_BYTES if max_bytes is None else min(WAL_BYTES, max_bytes // 8)


def open_writer(
    path: Path,
    *,
    lock_timeout: float,
    max_page_count: int | None,
    wal_bytes: int = WAL_BYTES,
) -> sqlite3.Connection:
    """Open (creating the file, its directory and the schema if needed) a writer connection.

    `wal_bytes`: checkpoint when the WAL grows past it (never more often than SQLite's default of
    1,000 pages), and truncate the WAL file back to it after a checkpoint (`WAL_BYTES`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=lock_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        deadline = time.monotonic() + lock_timeout
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        # Only takes effect on a new, empty file; lets retention return pages to the OS.
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        _retry_busy(conn, "PRAGMA journal_mode = WAL", deadline)
        conn.execute("PRAGMA synchronous = NORMAL")
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        pages = max(_DEFAULT_CHECKPOINT_PAGES, wal_bytes // page_size)
        conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")
        conn.execute(f"PRAGMA journal_size_limit = {pages * page_size}")
        if max_page_count is not None:
            conn.execute(f"PRAGMA max_page_count = {int(max_page_count)}")
        _ensure_schema(conn, deadline)
    except BaseException:
        conn.close()
        raise
    return conn


def _retry_busy(conn: sqlite3.Connection, sql: str, deadline: float) -> None:
    while True:
        try:
            conn.execute(sql).fetchall()
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(_JITTER.uniform(0.002, 0.02))
        else:
            return


def _user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def _ensure_schema(conn: sqlite3.Connection, deadline: float) -> None:
    version = _user_version(conn)
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise SchemaMismatchError(version)
    begin_immediate(conn, deadline)
    try:
        version = _user_version(conn)  # another process may have created or upgraded it
        if version < SCHEMA_VERSION:
            _upgrade(conn, version)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _upgrade(conn: sqlite3.Connection, version: int) -> None:
    """Create the schema (version 0: a new file) or migrate it; inside the write transaction."""
    for statement in create_schema_sql() if version == 0 else migration_sql(version):
        conn.execute(statement)
    if 0 < version < 2:  # noqa: PLR2004 - the version that added the metric columns
        _backfill_metrics(conn)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _backfill_metrics(conn: sqlite3.Connection) -> None:
    """Fill `series` and `value` of metric rows written by schema version 1."""
    select = (
        "SELECT seq, data FROM metrics WHERE series IS NULL AND seq > ? ORDER BY seq LIMIT 5000"
    )
    last = 0
    while rows := conn.execute(select, (last,)).fetchall():
        updates: list[tuple[str, float | None, int]] = []
        for seq, data in rows:
            point = json.loads(data)
            try:
                value: float | None = float(point.get("value"))
            except (TypeError, ValueError):
                value = None
            updates.append((series_key(point.get("tags") or {}), value, seq))
            last = seq
        conn.executemany("UPDATE metrics SET series = ?, value = ? WHERE seq = ?", updates)


def open_reader(path: Path, *, lock_timeout: float) -> sqlite3.Connection:
    """Open an existing store read-only; raise `StoreError` if it is missing or unreadable."""
    if not path.exists():
        raise StoreError(f"no flext-observability store at {path}: the file does not exist")
    if not path.is_file():
        raise StoreError(f"no flext-observability store at {path}: not a regular file")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store at {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(lock_timeout * 1000)}")
        version = _user_version(conn)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(
            f"the store at {path} is corrupt or not a SQLite database ({exc})"
        ) from exc
    if not MIN_READ_VERSION <= version <= SCHEMA_VERSION:
        conn.close()
        if version == 0:
            raise StoreError(f"{path} is a SQLite file without the flext-observability schema")
        raise StoreError(
            f"the store at {path} has schema version {version}; this version reads "
            f"{SCHEMA_VERSION} (upgrade flext-observability)"
        )
    return conn


def used_bytes(conn: sqlite3.Connection) -> int:
    """Return the bytes held by live pages (file pages minus free-list pages)."""
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return (pages - free) * size


def delete_older_than(conn: sqlite3.Connection, cutoff_ns: int) -> int:
    """Delete rows whose timestamp is before `cutoff_ns`, in every table; return how many."""
    deleted = 0
    for table in TABLES:
        cursor = conn.execute(f"DELETE FROM {table.name} WHERE timestamp < ?", (cutoff_ns,))  # noqa: S608 - fixed identifiers
        deleted += cursor.rowcount
    return deleted


_ALL_TIMESTAMPS = " UNION ALL ".join(f"SELECT timestamp FROM {table.name}" for table in TABLES)  # noqa: S608 - fixed identifiers
_OLDEST_SQL = f"SELECT timestamp FROM ({_ALL_TIMESTAMPS}) ORDER BY timestamp LIMIT 1 OFFSET ?"  # noqa: S608 - fixed identifiers


def shrink_to(conn: sqlite3.Connection, limit: int, target: int) -> int:
    """Delete the oldest rows across tables until the used bytes drop under `target`.

    Runs only when the used bytes exceed `limit`. The number of rows to delete is estimated from
    the mean row size; a few rounds correct the estimate. Returns how many rows were deleted.
    """
    deleted = 0
    used = used_bytes(conn)
    if used <= limit:
        return 0
    for _ in range(8):
        rows = sum(
            int(conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0])  # noqa: S608 - fixed identifiers
            for table in TABLES
        )
        if rows == 0:
            break
        wanted = min(rows, max(1, math.ceil((used - target) / (used / rows))))
        cutoff = conn.execute(_OLDEST_SQL, (wanted - 1,)).fetchone()[0]
        for table in TABLES:
            cursor = conn.execute(f"DELETE FROM {table.name} WHERE timestamp <= ?", (cutoff,))  # noqa: S608 - fixed identifiers
            deleted += cursor.rowcount
        used = used_bytes(conn)
        if used <= target:
            break
    return deleted


def checkpoint_and_vacuum(conn: sqlite3.Connection) -> None:
    """Return free pages to the file system and checkpoint the WAL (never waits on readers)."""
    # executescript steps the pragma to completion; execute() would free a single page.
    conn.executescript("PRAGMA incremental_vacuum;")
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def apply_retention(
    conn: sqlite3.Connection,
    *,
    cutoff_ns: int | None,
    max_bytes: int | None,
    target_ratio: float,
    lock_timeout: float,
) -> dict[str, int]:
    """Delete by age then by size in one transaction; vacuum if anything went."""
    deleted = {"age": 0, "size": 0}
    begin_immediate(conn, time.monotonic() + lock_timeout)
    try:
        if cutoff_ns is not None:
            deleted["age"] = delete_older_than(conn, cutoff_ns)
        if max_bytes is not None:
            deleted["size"] = shrink_to(conn, max_bytes, int(max_bytes * target_ratio))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if deleted["age"] or deleted["size"]:
        checkpoint_and_vacuum(conn)
    return deleted


MAX_ROWS_PER_INSERT = 256
"""Rows one INSERT statement writes at most (fewer when SQLite allows fewer parameters)."""


def insert_batch(
    conn: sqlite3.Connection, grouped: dict[Table, list[tuple[object, ...]]], lock_timeout: float
) -> None:
    """Insert rows (table → parameter rows) in one write transaction, in a few statements.

    The sqlite3 module releases the GIL around every step of a statement, and `executemany`
    steps once per row. Each release hands the GIL to any other busy thread, which keeps it for
    a whole switch interval (5 ms) before this one gets it back: on a process whose application
    thread is busy, 512 rows took 2.4-3 s instead of 1.3 ms (the worker fell behind and its
    queue filled). One multi-row INSERT is one step: a batch costs a handful of releases.
    Chunks are powers of two, so each table has only a few distinct statements to cache.
    """
    begin_immediate(conn, time.monotonic() + lock_timeout)
    try:
        variables = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        for table, rows in grouped.items():
            most = max(1, min(MAX_ROWS_PER_INSERT, variables // table.width))
            start, left = 0, len(rows)
            while left:
                size = 1 << (min(most, left).bit_length() - 1)  # the largest power of two
                chunk = rows[start : start + size]
                conn.execute(table.insert_rows_sql(size), [v for row in chunk for v in row])
                start += size
                left -= size
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
