"""The read side of `SQLiteStore`: `query`, `trace`, `counts`, `size_bytes`.

A mixin so the store module stays about writing; `_read` (run one SELECT under the store's
lock, turning SQLite errors into `StoreError`) is provided by `SQLiteStore`.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flext_observability.models import FlextTrace
from flext_observability.sinks._base import Entity
from flext_observability.sinks._store_query import Order, OrderBy, build_query, decode_rows
from flext_observability.sinks._store_schema import TABLES, table_for

__all__ = ["StoreReader"]


class StoreReader:
    """Query methods shared by writer and read-only stores."""

    path: Path

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[int, str]]:
        """Run one SELECT of (seq, data); raise `StoreError` when the file cannot be read."""

    @abstractmethod
    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        """Run one SELECT of any columns; raise `StoreError` when the file cannot be read."""

    @property
    def schema_version(self) -> int:
        """The schema version of the file (1 until a current writer upgraded it)."""
        return int(self._rows("PRAGMA user_version", ())[0][0])

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
