"""Read queries for the viewer (`flext-observability ui`).

Pages of traces and logs, trace aggregates, per-operation statistics, metric series over time,
alert and health history. Everything is an indexed query bounded by a limit, so pages stay fast
on stores of millions of rows. Lists page backwards in time with a keyset `Cursor`
(timestamp, seq): no OFFSET scans.

Trace list semantics: a trace is listed when one of its spans matches every filter; traces are
ordered by their newest matching span. Filters: `service` (exact), `operation` (exact, or a glob
with `*?[`), `status`, `min_ms` (span duration at least), `since`/`until` (span start, epoch ns,
inclusive/exclusive) and `text`: a case-insensitive (ASCII) substring of the operation name, the
status message, the attributes (keys and values) or the events (exception text included).

A text search is not indexed, so one request reads a bounded window of spans (the newest
`SEARCH_WINDOW` older than the cursor, within `since`/`until`). When that window ends before the
page is full, the page holds what the window matched and its `searched_to` says how far back it
looked; its `next` cursor continues the search in the next window. Following `next` until it is
None searches the whole store, each request bounded, with no trace missed or repeated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from flext_observability._internal.time import datetime_to_ns
from flext_observability.models import FlextAlert, FlextHealthCheck, FlextLogEntry
from flext_observability.models._types import LogLevel, level_before
from flext_observability.sinks._store_query import decode_rows
from flext_observability.sinks._store_schema import TABLES, table_for
from flext_observability.sinks.store import SQLiteStore

__all__ = [
    "Cursor",
    "LogFilter",
    "MetricSeries",
    "Page",
    "alerts_since",
    "distinct_values",
    "health_history",
    "health_names",
    "latest_timestamp",
    "list_logs",
    "metric_series",
    "trace_logs",
    "versions",
]

T = TypeVar("T")
_GLOB_CHARS = frozenset("*?[")
_TABLE_NAMES = {table.kind: table.name for table in TABLES}


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a newest-first list: rows strictly older than (timestamp, seq) follow."""

    timestamp: int
    seq: int

    def encode(self) -> str:
        """The cursor as it appears in a URL (`<timestamp>.<seq>`)."""
        return f"{self.timestamp}.{self.seq}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse `encode()`'s form; raise ValueError naming the parameter otherwise."""
        head, _, tail = text.partition(".")
        try:
            return cls(int(head), int(tail))
        except ValueError:
            msg = f"before: expected a cursor like 1700000000000000000.42, got {text[:40]!r}"
            raise ValueError(msg) from None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next (older) page, if any."""

    items: list[T]
    next: Cursor | None = None
    searched_to: int | None = None
    """Set when a bounded search window ended before the page filled: the epoch-ns timestamp of
    the oldest span it read. `next` then continues the search from there."""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _time_window(
    where: list[str], params: list[object], since: int | None, until: int | None
) -> None:
    """Add the `since <= timestamp < until` clauses (epoch ns; either bound may be absent)."""
    if since is not None:
        where.append("timestamp >= ?")
        params.append(since)
    if until is not None:
        where.append("timestamp < ?")
        params.append(until)


def _name_clause(column: str, value: str) -> str:
    return f"{column} GLOB ?" if _GLOB_CHARS & set(value) else f"{column} = ?"


def _before(where: list[str], params: list[object], before: Cursor | None) -> None:
    # No top-level OR: `timestamp <= ?` stays an index range, the tie-break filters within it.
    if before is not None:
        where.append("timestamp <= ? AND NOT (timestamp = ? AND seq >= ?)")
        params += [before.timestamp, before.timestamp, before.seq]


def _where_sql(where: list[str]) -> str:
    return (" WHERE " + " AND ".join(where)) if where else ""


def _in(ids: list[str]) -> str:
    return ", ".join("?" for _ in ids)


def trace_logs(reader: SQLiteStore, trace_id: str, *, limit: int = 2000) -> list[FlextLogEntry]:
    """Return the log entries correlated with one trace, oldest first (at most `limit`)."""
    table = table_for("logs")
    rows = reader.select(
        "SELECT seq, data FROM logs WHERE trace_id = ? ORDER BY timestamp, seq LIMIT ?",
        (trace_id.lower(), limit),
    )
    return [entry for entry in decode_rows(table, rows) if isinstance(entry, FlextLogEntry)]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which log entries are listed: level at or above, logger (exact or glob), text, ..."""

    level: str | None = None
    logger: str | None = None
    text: str | None = None
    trace_id: str | None = None
    service: str | None = None
    since: int | None = None
    until: int | None = None

    def sql(self) -> tuple[list[str], list[object]]:
        """The WHERE clauses and their parameters."""
        where: list[str] = []
        params: list[object] = []
        if self.level:
            rank = list(LogLevel).index(LogLevel(str(level_before(self.level))))
            terms, values = table_for("logs").level_terms(rank)
            where += terms
            params += values
        if self.logger:
            where.append(_name_clause("name", self.logger))
            params.append(self.logger)
        if self.trace_id:
            where.append("trace_id = ?")
            params.append(self.trace_id.lower())
        if self.service:
            where.append("service_name = ?")
            params.append(self.service)
        _time_window(where, params, self.since, self.until)
        if self.text:
            where.append("json_extract(data, '$.message') LIKE ? ESCAPE '\\'")
            params.append(_like(self.text))
        return where, params


def list_logs(
    reader: SQLiteStore, flt: LogFilter, *, before: Cursor | None = None, limit: int = 100
) -> Page[FlextLogEntry]:
    """Return a page of log entries, newest first."""
    where, params = flt.sql()
    _before(where, params, before)
    rows = reader.select(
        f"SELECT seq, data, timestamp FROM logs{_where_sql(where)} "  # noqa: S608 - fixed identifiers
        "ORDER BY timestamp DESC, seq DESC LIMIT ?",
        [*params, limit + 1],
    )
    entries = decode_rows(table_for("logs"), [(seq, data) for seq, data, _ in rows[:limit]])
    following = Cursor(rows[limit - 1][2], rows[limit - 1][0]) if len(rows) > limit else None
    return Page([e for e in entries if isinstance(e, FlextLogEntry)], following)


def distinct_values(reader: SQLiteStore, kind: str, column: str, *, limit: int = 200) -> list[str]:
    """Return up to `limit` distinct non-null values of an indexed leading column, sorted.

    A loose index scan (one `min()` per value), so it costs O(values · log rows).
    """
    if column not in {"name", "service_name"}:
        msg = f"distinct_values: column must be name or service_name, got {column!r}"
        raise ValueError(msg)
    table = _TABLE_NAMES[kind]
    values: list[str] = []
    last = ""
    first = reader.select(f"SELECT min({column}) FROM {table}", ())  # noqa: S608 - fixed identifiers
    value = first[0][0] if first else None
    while value is not None and len(values) < limit:
        values.append(value)
        last = value
        row = reader.select(f"SELECT min({column}) FROM {table} WHERE {column} > ?", (last,))  # noqa: S608 - fixed identifiers
        value = row[0][0] if row else None
    return values


def versions(reader: SQLiteStore) -> dict[str, int]:
    """Return the newest `seq` of each kind: it changes when anything is written."""
    return {
        table.kind: int(reader.select(f"SELECT coalesce(max(seq), 0) FROM {table.name}", ())[0][0])  # noqa: S608 - fixed identifiers
        for table in TABLES
    }


def latest_timestamp(reader: SQLiteStore, kind: str) -> int | None:
    """Return the newest entity timestamp of a kind (epoch ns), or None when it is empty."""
    table = _TABLE_NAMES[kind]
    row = reader.select(f"SELECT max(timestamp) FROM {table}", ())  # noqa: S608 - fixed identifiers
    return None if not row or row[0][0] is None else int(row[0][0])


@dataclass(slots=True)
class MetricSeries:
    """The points of one series (service, name, tags) in a time window, oldest first."""

    name: str
    service: str | None
    tags: dict[str, Any]
    metric_type: str
    unit: str
    times: list[int] = field(default_factory=list[int])
    values: list[float] = field(default_factory=list[float])
    starts: list[int | None] = field(default_factory=list["int | None"])
    histograms: list[dict[str, Any] | None] = field(default_factory=list["dict[str, Any] | None"])


def metric_series(
    reader: SQLiteStore,
    *,
    since: int | None = None,
    name: str | None = None,
    service: str | None = None,
    max_rows: int = 200_000,
) -> tuple[list[MetricSeries], bool]:
    """Return every series with points in the window, by name then tags.

    The second value says whether the `max_rows` cap cut the newest points off.
    """
    v2 = reader.schema_version >= 2  # noqa: PLR2004 - the version that added the columns
    series_sql = "series" if v2 else "json_extract(data, '$.tags')"
    value_sql = "value" if v2 else "CAST(json_extract(data, '$.value') AS REAL)"
    where: list[str] = []
    params: list[object] = []
    _time_window(where, params, since, None)
    if name:
        where.append(_name_clause("name", name))
        params.append(name)
    if service:
        where.append("service_name = ?")
        params.append(service)
    rows = reader.select(
        f"SELECT name, service_name, {series_sql}, metric_type, timestamp, {value_sql}, "  # noqa: S608 - fixed identifiers
        "json_extract(data, '$.unit'), json_extract(data, '$.start_time'), "
        "CASE WHEN metric_type = 'histogram' THEN json_extract(data, '$.histogram') END "
        f"FROM metrics{_where_sql(where)} ORDER BY timestamp LIMIT ?",
        [*params, max_rows + 1],
    )
    capped = len(rows) > max_rows
    by_key: dict[tuple[str, str | None, str], MetricSeries] = {}
    for name_, service_, key, kind, timestamp, value, unit, start, histogram in rows[:max_rows]:
        entry = by_key.get((name_, service_, key or "{}"))
        if entry is None:
            tags = json.loads(key) if key else {}
            entry = by_key[name_, service_, key or "{}"] = MetricSeries(
                name_, service_, tags, kind, unit or ""
            )
        entry.times.append(int(timestamp))
        entry.values.append(float(value) if value is not None else math.nan)
        entry.starts.append(_iso_ns(start))
        entry.histograms.append(json.loads(histogram) if histogram else None)
    ordered = sorted(by_key.values(), key=lambda s: (s.name, s.service or "", _tags_key(s.tags)))
    return ordered, capped


def _tags_key(tags: dict[str, Any]) -> str:
    return json.dumps(tags, sort_keys=True, default=str)


def _iso_ns(text: str | None) -> int | None:
    if not text:
        return None
    return datetime_to_ns(datetime.fromisoformat(text))


def alerts_since(
    reader: SQLiteStore, *, since: int | None = None, limit: int = 5000
) -> list[tuple[FlextAlert, int | None]]:
    """Return alert notifications (oldest first) with the time each was stored, if known."""
    v2 = reader.schema_version >= 2  # noqa: PLR2004 - the version that added the column
    recorded = "recorded" if v2 else "NULL"
    where = ""
    if since is not None:
        where = "WHERE coalesce(recorded, timestamp) >= ?" if v2 else "WHERE timestamp >= ?"
    params: list[object] = [since] if since is not None else []
    rows = reader.select(
        f"SELECT seq, data, {recorded} FROM alerts {where} ORDER BY seq DESC LIMIT ?",  # noqa: S608 - fixed identifiers
        [*params, limit],
    )
    rows.reverse()
    alerts = decode_rows(table_for("alerts"), [(seq, data) for seq, data, _ in rows])
    return [
        (alert, None if row[2] is None else int(row[2]))
        for alert, row in zip(alerts, rows, strict=True)
        if isinstance(alert, FlextAlert)
    ]


def health_names(reader: SQLiteStore) -> list[str]:
    """Return the names of every stored health check."""
    return distinct_values(reader, "health", "name")


def health_history(reader: SQLiteStore, name: str, *, limit: int = 60) -> list[FlextHealthCheck]:
    """Return the newest `limit` results of one check, newest first."""
    rows = reader.select(
        "SELECT seq, data FROM health_checks WHERE name = ? ORDER BY timestamp DESC, seq DESC "
        "LIMIT ?",
        (name, limit),
    )
    return [c for c in decode_rows(table_for("health"), rows) if isinstance(c, FlextHealthCheck)]
