"""`SQLiteStore`: the embedded telemetry store, a `Sink` with a query API for the CLI and tests.

One file per host (default `.flext-observability/telemetry.db`), one table per entity kind
holding the entity's JSON (null fields left out) plus indexed columns (see `_store_schema`).
Design decisions:

- **Never raises on the write side.** A failed batch (disk full, read-only file, lock timeout,
  corrupt file, ...) is dropped and counted in `dropped[reason]`, with one warning per
  `warn_interval` seconds of the injected clock.
- **Crash-safe.** WAL journal and one transaction per `write()`: after a SIGKILL mid-write the
  file passes `PRAGMA integrity_check` and holds every committed batch. The WAL is checkpointed
  when it reaches 32 MiB (at most 1/8 of `max_mb`; `_store_db.WAL_BYTES`), not SQLite's 4 MB:
  random index pages dirtied by several commits are then copied back once.
- **Many processes, one file.** Connections are opened lazily per process; after `fork()` the
  child closes its inherited copy and opens its own. Writers serialise on `BEGIN IMMEDIATE`,
  retried on `database is locked` for up to `lock_timeout` seconds.
- **Retention** by age (`retention_hours`, against the entity timestamps) and by size
  (`max_mb`: the oldest rows across all tables go until the live pages are under 90 % of it),
  checked every `maintenance_every` writes or `maintenance_interval` seconds of the clock.
- **Readers** (`SQLiteStore.open_readonly(path)`) raise `StoreError` for a missing or corrupt
  file, and can read while other processes write.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from flext_observability._internal import fork
from flext_observability._internal.guard import guard, logger
from flext_observability.exceptions import ConfigurationError, StoreError
from flext_observability.models import Entity, FlextTrace
from flext_observability.sinks import _store_db as db
from flext_observability.sinks._store_query import Order, OrderBy, build_query, decode_rows
from flext_observability.sinks._store_schema import (
    KINDS,
    TABLES,
    Table,
    table_for,
    table_for_entity,
)

__all__ = ["STORE_KINDS", "SQLiteStore"]

_FORK_WAIT_S = 0.25
"""How long fork() may wait for a store write in flight (writes take milliseconds)."""

_ABANDONED_IN_CHILD: list[sqlite3.Connection] = []
"""Connections a fork copied mid-transaction: kept unclosed so the parent's work is untouched."""

STORE_KINDS = KINDS
"""The kind names `SQLiteStore.query` accepts: traces, metrics, logs, alerts, health."""

_MB = 1024 * 1024
_SIZE_TARGET = 0.9


def _positive(value: float | None, setting: str, meaning: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(
            f"SQLiteStore {setting}: expected a positive number ({meaning}) or None, got {value!r}"
        )
    return float(value)


class SQLiteStore:
    """The embedded SQLite store (see the module docstring for the guarantees)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        retention_hours: float | None = 168,
        max_mb: float | None = 256,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
        lock_timeout: float = 5.0,
        maintenance_every: int = 100,
        maintenance_interval: float = 60.0,
        warn_interval: float = 60.0,
        max_page_count: int | None = None,
    ) -> None:
        """Configure the store; nothing is opened until the first write or query.

        Args:
            path: the database file; its directory is created on first write.
            retention_hours: drop entities older than this (None: keep forever).
            max_mb: keep the database under this many MiB (None: no limit).
            clock: epoch seconds, used for retention and the maintenance/warning intervals.
            readonly: open with `mode=ro` for queries only (opened now; `StoreError` if the file
                is missing or corrupt); writes are dropped and counted as `readonly`.
            lock_timeout: how long a write waits for another process's lock before dropping.
            maintenance_every: run retention after this many writes...
            maintenance_interval: ...or when this many clock seconds have passed.
            warn_interval: at most one drop warning per this many clock seconds.
            max_page_count: a hard page ceiling (`PRAGMA max_page_count`); writes past it fail
                as on a full disk and are counted as `disk_full`.
        """
        self.path = Path(path)
        self.readonly = readonly
        self._retention_hours = _positive(retention_hours, "retention_hours", "hours")
        self._max_mb = _positive(max_mb, "max_mb", "MiB")
        self._max_bytes = None if self._max_mb is None else int(self._max_mb * _MB)
        self._lock_timeout = _positive(lock_timeout, "lock_timeout", "seconds") or 5.0
        self._clock = clock
        self._maintenance_every = max(1, int(maintenance_every))
        self._maintenance_interval = maintenance_interval
        self._warn_interval = warn_interval
        self._max_page_count = max_page_count
        self._lock = threading.RLock()
        self._fork_held = False
        self._forked_mid_write = False
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._closed = False
        self._dropped: dict[str, int] = {}
        self._written = 0
        self._writes_since_maintenance = 0
        self._last_maintenance = clock()
        self._last_warning: float | None = None
        fork.register(
            self,
            before=self._fork_prepare,
            after_in_parent=self._fork_parent,
            after_in_child=self._fork_child,
        )
        if readonly:
            self._conn = db.open_reader(self.path, lock_timeout=self._lock_timeout)

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str], *, lock_timeout: float = 5.0) -> Self:
        """Open an existing store for queries; raise `StoreError` if missing or corrupt."""
        return cls(
            path, readonly=True, retention_hours=None, max_mb=None, lock_timeout=lock_timeout
        )

    # -- bookkeeping ---------------------------------------------------------------------------

    @property
    def dropped(self) -> dict[str, int]:
        """Entities dropped by this store, per reason (`readonly`, `disk_full`, `locked`, ...)."""
        with self._lock:
            return dict(self._dropped)

    @property
    def written(self) -> int:
        """Entities committed by this store object in this process."""
        return self._written

    def _drop(self, reason: str, count: int, exc: BaseException | None) -> None:
        self._dropped[reason] = self._dropped.get(reason, 0) + count
        now = self._clock()
        if self._last_warning is None or now - self._last_warning >= self._warn_interval:
            self._last_warning = now
            logger.warning(
                "flext-observability store %s: dropped %d entities (%s: %s); further drops "
                "in the next %.0f s are counted, not logged",
                self.path,
                count,
                reason,
                type(exc).__name__ if exc else "no write attempted",
                self._warn_interval,
            )

    # -- connections and fork ------------------------------------------------------------------

    def _fork_prepare(self) -> None:
        # fork() copies SQLite's per-process lock bookkeeping: a child forked inside one of our
        # write transactions believes it holds the write lock through a connection it must never
        # use, so none of its own writes could succeed. A write lasts milliseconds: wait for it,
        # but at most _FORK_WAIT_S, so fork() is never held up by a stuck or slow lock holder.
        self._fork_held = self._lock.acquire(timeout=_FORK_WAIT_S)

    def _fork_parent(self) -> None:
        if self._fork_held:
            self._fork_held = False
            self._lock.release()

    def _fork_child(self) -> None:
        self._lock = threading.RLock()
        held, self._fork_held = self._fork_held, False
        if not held and self._conn is not None:
            # The parent may be mid-transaction on this connection: closing it here could roll
            # that back. Keep the copy alive (never used, never closed) and open a fresh one.
            if self._conn.in_transaction:
                # ...and this process's copy of SQLite's lock state says it holds the write
                # lock: its writes would only time out. Drop them at once, counted and said.
                self._forked_mid_write = True
            _ABANDONED_IN_CHILD.append(self._conn)
            self._conn = None
        self._forget_connection()

    def _forget_connection(self) -> None:
        # A connection inherited through fork() is never used again; closing it (nothing is in
        # flight: fork waits for our lock) resets SQLite's per-process lock bookkeeping.
        conn, self._conn = self._conn, None
        self._pid = os.getpid()
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid():
            self._forget_connection()
        if self._conn is None:
            if self.readonly:
                self._conn = db.open_reader(self.path, lock_timeout=self._lock_timeout)
            else:
                self._conn = db.open_writer(
                    self.path,
                    lock_timeout=self._lock_timeout,
                    max_page_count=self._max_page_count,
                    wal_bytes=db.wal_allowance(self._max_bytes),
                )
        return self._conn

    # -- Sink ----------------------------------------------------------------------------------

    def write(self, entities: Sequence[Entity]) -> None:
        """Insert a batch in one transaction; on any failure drop it and count why."""
        if not entities:
            return
        with guard("sinks.store.write"), self._lock:
            if self._closed or self.readonly:
                self._drop("closed" if self._closed else "readonly", len(entities), None)
                return
            if self._forked_mid_write:
                self._drop("forked_mid_write", len(entities), None)
                return
            grouped: dict[Table, list[tuple[object, ...]]] = {}
            now_ns = int(self._clock() * 1e9)
            for entity in entities:
                table = table_for_entity(entity)
                grouped.setdefault(table, []).append(table.encode_row(entity, now_ns))
            try:
                db.insert_batch(self._connection(), grouped, self._lock_timeout)
            except (sqlite3.Error, OSError, db.SchemaMismatchError) as exc:
                reason = db.drop_reason(exc)
                if reason in db.RESET_REASONS:
                    self._forget_connection()
                self._drop(reason, len(entities), exc)
                return
            self._written += len(entities)
            self._writes_since_maintenance += 1
            if (
                self._writes_since_maintenance >= self._maintenance_every
                or self._clock() - self._last_maintenance >= self._maintenance_interval
            ):
                self._maintain_locked()

    def flush(self, timeout: float | None = None) -> bool:  # noqa: ARG002 - protocol signature
        """Return True: every `write()` has committed before returning."""
        return True

    def close(self, timeout: float | None = None) -> None:  # noqa: ARG002 - protocol signature
        """Close this process's connection; later writes are dropped as `closed`."""
        with self._lock:
            self._closed = True
            if self._conn is not None and self._pid == os.getpid():
                with guard("sinks.store.close"):
                    if not self.readonly:
                        self._conn.execute("PRAGMA optimize")
                    self._conn.close()
            self._conn = None
        fork.unregister(self)

    def __enter__(self) -> Self:
        """Return the store; `with` closes it."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the store."""
        self.close()

    # -- retention -----------------------------------------------------------------------------

    def maintain(self) -> dict[str, int]:
        """Apply retention now; return the rows deleted by `age` and by `size`."""
        with self._lock:
            if self._closed or self.readonly:
                return {"age": 0, "size": 0}
            return self._maintain_locked()

    def _maintain_locked(self) -> dict[str, int]:
        self._writes_since_maintenance = 0
        self._last_maintenance = now = self._clock()
        hours = self._retention_hours
        try:
            return db.apply_retention(
                self._connection(),
                cutoff_ns=None if hours is None else int((now - hours * 3600) * 1e9),
                max_bytes=self._max_bytes,
                target_ratio=_SIZE_TARGET,
                lock_timeout=self._lock_timeout,
            )
        except (sqlite3.Error, OSError, db.SchemaMismatchError) as exc:
            logger.warning(
                "flext-observability store %s: retention failed (%s: %s); will retry",
                self.path,
                db.drop_reason(exc),
                type(exc).__name__,
            )
            return {"age": 0, "size": 0}

    # -- queries -------------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[int, str]]:
        return self.select(sql, params)

    def select(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one SELECT and return its rows (the viewer's queries in `_store_browse`).

        Raises `StoreError` when the file cannot be read.
        """
        with self._lock:
            if self._closed:
                raise StoreError(f"the store at {self.path} is closed")
            try:
                return self._connection().execute(sql, params).fetchall()
            except (sqlite3.Error, OSError, db.SchemaMismatchError) as exc:
                raise StoreError(f"cannot read the store at {self.path}: {exc}") from exc

    @property
    def schema_version(self) -> int:
        """The schema version of the file (1 until a current writer upgraded it)."""
        return int(self.select("PRAGMA user_version")[0][0])

    def query(
        self,
        kind: str | type[Entity],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        trace_id: str | None = None,
        name: str | None = None,
        service: str | None = None,
        level: object = None,
        status: object = None,
        errors_only: bool = False,
        order: Order = "asc",
        order_by: OrderBy = "timestamp",
        limit: int | None = None,
    ) -> list[Entity]:
        """Return stored entities of one kind, validated back into their models.

        `kind` is "traces", "metrics", "logs", "alerts", "health" or an entity class. The filter
        semantics are documented in `flext_observability.sinks._store_query`. Raises
        `StoreError` when the file cannot be read and `ValueError` for invalid filters.
        """
        table = table_for(kind)
        sql, params = build_query(
            table,
            since=since,
            until=until,
            trace_id=trace_id,
            name=name,
            service=service,
            level=level,
            status=status,
            errors_only=errors_only,
            order=order,
            order_by=order_by,
            limit=limit,
        )
        return decode_rows(table, self._read(sql, params))

    def trace(self, trace_id: str) -> list[FlextTrace]:
        """Return every stored span of one trace, by start time."""
        return [
            span
            for span in self.query(FlextTrace, trace_id=trace_id)
            if isinstance(span, FlextTrace)
        ]

    def counts(self) -> dict[str, int]:
        """Return how many entities of each kind are stored."""
        return {
            table.kind: int(self._read(f"SELECT count(*), '' FROM {table.name}", ())[0][0])  # noqa: S608 - fixed identifiers
            for table in TABLES
        }

    def size_bytes(self) -> int:
        """Return the bytes the store occupies on disk (database file plus its WAL)."""
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += os.stat(f"{self.path}{suffix}").st_size  # noqa: PTH116 - suffix on a str path
            except OSError:
                continue
        return total
