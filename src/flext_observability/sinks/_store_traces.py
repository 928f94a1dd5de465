"""The viewer's trace queries: the trace list, a trace's spans, per-operation statistics.

The list's filter semantics are in `_store_browse`'s docstring; pages use its keyset `Cursor`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from flext_observability.models import FlextTrace
from flext_observability.sinks._store_browse import (
    Cursor,
    Page,
    _before,
    _in,
    _like,
    _name_clause,
    _time_window,
    _where_sql,
)
from flext_observability.sinks._store_query import decode_rows
from flext_observability.sinks._store_schema import duration_bucket, duration_bucket_of, table_for
from flext_observability.sinks.store import SQLiteStore

__all__ = [
    "SEARCH_WINDOW",
    "OperationStats",
    "SpanFilter",
    "TraceRow",
    "list_traces",
    "operation_stats",
    "search_floor",
    "trace_spans",
    "window_clause",
]


@dataclass(frozen=True, slots=True)
class SpanFilter:
    """Which spans make a trace listed (see the module docstring)."""

    service: str | None = None
    operation: str | None = None
    status: str | None = None
    min_ms: float | None = None
    since: int | None = None
    until: int | None = None
    text: str | None = None

    def sql(self) -> tuple[list[str], list[object]]:
        """The WHERE clauses and their parameters."""
        where: list[str] = []
        params: list[object] = []
        if self.service:
            where.append("service_name = ?")
            params.append(self.service)
        if self.operation:
            where.append(_name_clause("name", self.operation))
            params.append(self.operation)
        if self.status:
            where.append("status = ?")
            params.append(self.status)
            if self.status == "error":
                where.append("is_error = 1")  # lets SQLite use the partial errors index
        if self.min_ms is not None:
            where.append("duration_ms >= ?")
            params.append(self.min_ms)
        _time_window(where, params, self.since, self.until)
        if self.text:
            # Every searched field is in `data` JSON-encoded, character by character: a plain
            # LIKE over it first drops most rows without parsing any JSON.
            raw = _like(self.text)
            encoded = _like(json.dumps(self.text, ensure_ascii=False)[1:-1])
            where.append(
                "data LIKE ? ESCAPE '\\' AND (name LIKE ? ESCAPE '\\' "
                "OR json_extract(data, '$.status_message') LIKE ? ESCAPE '\\' "
                "OR json_extract(data, '$.attributes') LIKE ? ESCAPE '\\' "
                "OR json_extract(data, '$.events') LIKE ? ESCAPE '\\')"
            )
            params += [encoded, raw, raw, encoded, encoded]
        return where, params


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One line of the traces list."""

    trace_id: str
    start_ns: int
    duration_ms: float
    span_count: int
    error_count: int
    root_name: str
    root_service: str | None
    root_status: str
    services: tuple[str, ...] = ()


SEARCH_WINDOW = 100_000
"""Spans one text-search request reads at most (65-110 ms on the 1M-span benchmark store)."""


def list_traces(
    reader: SQLiteStore,
    flt: SpanFilter,
    *,
    before: Cursor | None = None,
    limit: int = 50,
    window: int | None = None,
) -> Page[TraceRow]:
    """Return a page of traces, newest matching span first (see the module docstring).

    A text search reads at most `window` spans (default `SEARCH_WINDOW`; see `_store_browse`).
    """
    where, params = flt.sql()
    scan_where, scan_params = list(where), list(params)
    source = "traces"
    floor: Cursor | None = None
    if flt.min_ms is not None and (slow := _slow_spans_index(reader, flt.min_ms)) is not None:
        # Few spans are that slow: read them by duration and sort them, instead of walking
        # every span by time to find them (bounded already: no search window needed).
        index, terms, values = slow
        source = f"traces INDEXED BY {index}"
        scan_where += terms
        scan_params += values
    elif flt.text:
        floor = search_floor(reader, flt, before, window)
        window_clause(scan_where, scan_params, floor)
    found: dict[str, Cursor] = {}
    seen: set[str] = set()
    batch = (limit + 1) * 8
    position = before
    while len(found) <= limit:
        batch_where, batch_params = list(scan_where), list(scan_params)
        _before(batch_where, batch_params, position)
        rows = reader.select(
            f"SELECT trace_id, timestamp, seq FROM {source}{_where_sql(batch_where)} "  # noqa: S608 - fixed identifiers
            "ORDER BY timestamp DESC, seq DESC LIMIT ?",
            [*batch_params, batch],
        )
        fresh: dict[str, Cursor] = {}
        for trace_id, timestamp, seq in rows:
            if trace_id not in seen:
                seen.add(trace_id)
                fresh[trace_id] = Cursor(timestamp, seq)
        _accept(reader, found, fresh, limit, (where, params, before))
        if len(rows) < batch:
            break
        position = Cursor(rows[-1][1], rows[-1][2])
        batch = min(batch * 4, 200_000)
    ids = list(found)
    if len(ids) > limit:
        ids = ids[:limit]
        return Page(_trace_rows(reader, ids), found[ids[-1]])
    if floor is not None:
        return Page(_trace_rows(reader, ids), floor, searched_to=floor.timestamp)
    return Page(_trace_rows(reader, ids))


def search_floor(
    reader: SQLiteStore, flt: SpanFilter, before: Cursor | None, window: int | None = None
) -> Cursor | None:
    """The oldest span of a text search's window; None when the window reaches the oldest span.

    The window is the `window` (default `SEARCH_WINDOW`) newest spans older than `before` and
    within `since`/`until`, whatever the other filters: counting them walks the timestamp index
    only.
    """
    if window is None:
        window = SEARCH_WINDOW
    where: list[str] = []
    params: list[object] = []
    _time_window(where, params, flt.since, flt.until)
    _before(where, params, before)
    rows = reader.select(
        "SELECT timestamp, seq FROM traces INDEXED BY ix_traces_timestamp"  # noqa: S608 - fixed identifiers
        f"{_where_sql(where)} ORDER BY timestamp DESC, seq DESC LIMIT 2 OFFSET ?",
        [*params, max(0, window - 1)],
    )
    # the window's oldest span, unless it is the oldest of all (then the search is complete)
    return Cursor(int(rows[0][0]), int(rows[0][1])) if len(rows) == 2 else None  # noqa: PLR2004


def window_clause(where: list[str], params: list[object], floor: Cursor | None) -> None:
    """Restrict a query to the spans at or after `floor` (the search window), if any."""
    if floor is not None:
        where.append("timestamp >= ? AND NOT (timestamp = ? AND seq < ?)")
        params += [floor.timestamp, floor.timestamp, floor.seq]


_Shown = tuple[list[str], list[object], "Cursor | None"]


def _accept(
    reader: SQLiteStore,
    found: dict[str, Cursor],
    fresh: dict[str, Cursor],
    limit: int,
    shown: _Shown,
) -> None:
    """Add `fresh` traces to `found` (in order, up to `limit` + 1), skipping earlier pages' ones."""
    where, params, before = shown
    candidates = list(fresh)
    while candidates and len(found) <= limit:
        chunk, candidates = (
            candidates[: limit + 1 - len(found)],
            candidates[limit + 1 - len(found) :],
        )
        listed = _listed_before(reader, chunk, where, params, before) if before else set()
        found.update((trace_id, fresh[trace_id]) for trace_id in chunk if trace_id not in listed)


_SLOW_SPANS_SORTED = 20_000
_AT_LEAST_BUCKET = f"{duration_bucket('duration_ms')} >= ?"


def _slow_spans_index(
    reader: SQLiteStore, min_ms: float
) -> tuple[str, list[str], list[object]] | None:
    """The index (and the WHERE terms it needs) to read spans of at least `min_ms` by, or None.

    None when `_SLOW_SPANS_SORTED` or more may be that slow. Version 3 indexes a duration
    bucket: counting the entries from `min_ms`'s bucket on (an upper bound: that bucket may hold
    faster spans too) bounds the rows the list then reads.
    """
    if reader.schema_version >= 3:  # noqa: PLR2004 - the version of the bucket index
        index, where = "ix_traces_duration_bucket", _AT_LEAST_BUCKET
        bound: object = duration_bucket_of(min_ms)
        terms, params = [where], [bound]
    else:
        index, where, bound = "ix_traces_duration_ms", "duration_ms >= ?", min_ms
        terms, params = [], []
    rows = reader.select(
        f"SELECT count(*) FROM (SELECT 1 FROM traces INDEXED BY {index} WHERE {where} LIMIT ?)",  # noqa: S608 - fixed SQL
        (bound, _SLOW_SPANS_SORTED),
    )
    return (index, terms, params) if int(rows[0][0]) < _SLOW_SPANS_SORTED else None


def _listed_before(
    reader: SQLiteStore, ids: list[str], where: list[str], params: list[object], before: Cursor
) -> set[str]:
    """The traces among `ids` with a matching span at or after `before`: an earlier page's."""
    newer = [
        *where,
        f"trace_id IN ({_in(ids)})",
        "(timestamp > ? OR (timestamp = ? AND seq >= ?))",
    ]
    rows = reader.select(
        f"SELECT DISTINCT trace_id FROM traces{_where_sql(newer)}",  # noqa: S608 - fixed identifiers
        [*params, *ids, before.timestamp, before.timestamp, before.seq],
    )
    return {row[0] for row in rows}


def _trace_rows(reader: SQLiteStore, ids: list[str]) -> list[TraceRow]:
    if not ids:
        return []
    aggregates = {
        row[0]: row[1:]
        for row in reader.select(
            "SELECT trace_id, count(*), sum(is_error), min(timestamp), "  # noqa: S608 - placeholders
            "max(timestamp + coalesce(duration_ms, 0) * 1000000), "
            "json_group_array(DISTINCT service_name) "
            f"FROM traces WHERE trace_id IN ({_in(ids)}) GROUP BY trace_id",
            ids,
        )
    }
    roots: dict[str, tuple[Any, ...]] = {}
    for row in reader.select(
        "SELECT trace_id, name, service_name, status FROM traces "  # noqa: S608 - placeholders
        f"WHERE trace_id IN ({_in(ids)}) AND parent_span_id IS NULL "
        "ORDER BY timestamp DESC",
        ids,
    ):
        roots[row[0]] = row[1:]  # the earliest root wins (rows come newest first)
    for trace_id in (trace_id for trace_id in ids if trace_id not in roots):
        earliest = reader.select(
            "SELECT name, service_name, status FROM traces WHERE trace_id = ? "
            "ORDER BY timestamp, seq LIMIT 1",
            (trace_id,),
        )
        if earliest:
            roots[trace_id] = earliest[0]
    rows: list[TraceRow] = []
    for trace_id in ids:
        if trace_id not in aggregates or trace_id not in roots:
            continue  # deleted by retention meanwhile
        count, errors, start, end, services = aggregates[trace_id]
        name, service, status = roots[trace_id]
        rows.append(
            TraceRow(
                trace_id=trace_id,
                start_ns=int(start),
                duration_ms=max(0.0, (float(end) - start) / 1e6),
                span_count=int(count),
                error_count=int(errors or 0),
                root_name=name,
                root_service=service,
                root_status=status,
                services=tuple(sorted(s for s in json.loads(services) if s is not None)),
            )
        )
    return rows


def trace_spans(reader: SQLiteStore, trace_id: str, *, limit: int = 5000) -> list[FlextTrace]:
    """Return the spans of one trace by start time (at most `limit`)."""
    table = table_for("traces")
    rows = reader.select(
        "SELECT seq, data FROM traces WHERE trace_id = ? ORDER BY timestamp, seq LIMIT ?",
        (trace_id.lower(), limit),
    )
    return [span for span in decode_rows(table, rows) if isinstance(span, FlextTrace)]


@dataclass(slots=True)
class OperationStats:
    """Counts, errors and latency percentiles of one (service, operation)."""

    service: str | None
    operation: str
    count: int = 0
    errors: int = 0
    durations: list[float] = field(default_factory=list[float])

    @property
    def error_rate(self) -> float:
        """Errors / count."""
        return self.errors / self.count if self.count else 0.0

    def percentile(self, q: float) -> float | None:
        """The nearest-rank percentile `q` (0-100) of the finished spans' durations."""
        if not self.durations:
            return None
        ordered = sorted(self.durations)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1]


def operation_stats(
    reader: SQLiteStore, *, since: int | None = None, sample: int = 20_000
) -> tuple[list[OperationStats], int]:
    """Per-operation statistics over the newest `sample` spans since `since`.

    Returns the statistics (busiest first) and how many spans they cover.
    """
    where = "WHERE timestamp >= ?" if since is not None else ""
    params: list[object] = [since] if since is not None else []
    rows = reader.select(
        f"SELECT service_name, name, duration_ms, is_error FROM traces {where} "  # noqa: S608 - fixed identifiers
        "ORDER BY timestamp DESC LIMIT ?",
        [*params, sample],
    )
    stats: dict[tuple[str | None, str], OperationStats] = {}
    for service, name, duration, is_error in rows:
        entry = stats.get((service, name))
        if entry is None:
            entry = stats[service, name] = OperationStats(service, name)
        entry.count += 1
        entry.errors += int(is_error)
        if duration is not None:
            entry.durations.append(float(duration))
    ordered = sorted(stats.values(), key=lambda s: (-s.count, s.operation, s.service or ""))
    return ordered, len(rows)
