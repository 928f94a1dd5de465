"""Old schema versions: read as they are, upgraded in place by the first writer; browse queries."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from _store_legacy import V1_INDEXES, V2_INDEXES, write_legacy

from _ui_store import T0, Known, fill, span
from flext_observability.models import Entity, FlextMetric
from flext_observability.sinks import STORE_KINDS, SQLiteStore
from flext_observability.sinks._store_browse import (
    Cursor,
    metric_series,
)
from flext_observability.sinks._store_schema import SCHEMA_VERSION, series_key
from flext_observability.sinks._store_traces import SpanFilter, list_traces, operation_stats


def _stored(tmp_path: Path) -> tuple[Known, list[Entity]]:
    """The viewer's known dataset: what `fill` says, and every entity as the store gives it."""
    with SQLiteStore(tmp_path / "known.db", retention_hours=None, max_mb=None) as store:
        known = fill(store)
        return known, [entity for kind in STORE_KINDS for entity in store.query(kind)]


def _indexes(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


def _reads(path: Path) -> tuple[dict[str, list[Entity]], list[object], list[str]]:
    """What a reader gets from `path`: each kind, the chart series, the traces of 400+ ms."""
    reader = SQLiteStore.open_readonly(path)
    try:
        kinds = {kind: reader.query(kind) for kind in STORE_KINDS}
        series, _ = metric_series(reader)
        slow = list_traces(reader, SpanFilter(min_ms=400)).items
    finally:
        reader.close()
    return kinds, [(s.name, s.tags, s.values[:3]) for s in series], [row.trace_id for row in slow]


@pytest.mark.parametrize(("version", "indexes"), [(1, V1_INDEXES), (2, V2_INDEXES)])
def test_an_old_file_is_read_then_upgraded_in_place(
    tmp_path: Path, version: int, indexes: dict[str, str]
) -> None:
    """Readers read a version 1/2 file as is; the first writer upgrades it to the current schema.

    The upgrade backfills version 1's metric columns, leaves exactly a fresh file's indexes and
    changes nothing a reader sees; old rows (the full JSON) and new rows (compact) read alike.
    """
    known, entities = _stored(tmp_path)
    path = tmp_path / "old.db"
    write_legacy(path, version, entities, now_ns=1_800_000_000 * 10**9)
    assert set(_indexes(path)) == set(indexes)
    reader = SQLiteStore.open_readonly(path)
    try:
        assert reader.schema_version == version
    finally:
        reader.close()
    before = _reads(path)
    assert sum(len(kind) for kind in before[0].values()) == len(entities)
    assert len(before[1]) == 3
    assert before[2] == [known.billing_trace]
    with SQLiteStore(path, retention_hours=None, max_mb=None) as writer:
        later = T0 + timedelta(hours=1)
        writer.write(
            [FlextMetric(name="shop.queue", value=7, timestamp=later, service_name="shop")]
        )
        assert writer.dropped == {}
    with SQLiteStore(tmp_path / "fresh.db") as fresh:
        fresh.maintain()
    assert _indexes(path) == _indexes(tmp_path / "fresh.db")
    reader = SQLiteStore.open_readonly(path)
    try:
        assert reader.schema_version == SCHEMA_VERSION
        assert reader.select("PRAGMA integrity_check") == [("ok",)]
        rows = reader.select("SELECT count(*) FROM metrics WHERE series IS NULL OR value IS NULL")
        assert rows == [(0,)]
        keys = reader.select("SELECT DISTINCT series FROM metrics WHERE name = 'shop.orders'")
        assert keys == [(series_key({"route": "/checkout"}),)]
    finally:
        reader.close()
    kinds, charts, slow = _reads(path)
    added = kinds["metrics"].pop()
    assert isinstance(added, FlextMetric)
    assert (added.name, kinds, charts, slow) == ("shop.queue", *before)


def test_alerts_record_their_write_time(tmp_path: Path) -> None:
    """`alerts.recorded` is the store clock at write time (an escalation keeps the timestamp)."""
    path = tmp_path / "a.db"
    with SQLiteStore(path, clock=lambda: 1_800_000_000.0) as store:
        fill(store, products=1)
        rows = store.select("SELECT recorded FROM alerts")
    assert rows == [(1_800_000_000 * 10**9,)] * 3


def test_trace_pages_do_not_repeat_a_trace_split_by_the_cursor(tmp_path: Path) -> None:
    """A trace whose spans straddle a page boundary is listed once, on the newer page."""
    path = tmp_path / "p.db"
    with SQLiteStore(path) as store:
        long = "1" * 32
        store.write([span(long, 1, "root", 0, 5000), span(long, 2, "late", 4000, 1, parent=1)])
        store.write([span(f"{i:032x}", 10 + i, "short", 1000 + i, 1) for i in range(2, 5)])
        first = list_traces(store, SpanFilter(), limit=2)
        assert next(row.trace_id for row in first.items) == long
        assert isinstance(first.next, Cursor)
        rest = list_traces(store, SpanFilter(), before=first.next, limit=10)
    listed = [row.trace_id for row in first.items + rest.items]
    assert sorted(listed) == sorted({long, *(f"{i:032x}" for i in range(2, 5))})
    assert len(listed) == 4


def test_operation_stats_percentiles(tmp_path: Path) -> None:
    """p50/p95 are nearest-rank over finished spans; errors count per operation."""
    with SQLiteStore(tmp_path / "s.db") as store:
        store.write(
            [
                span(
                    f"{i + 1:032x}",
                    i + 1,
                    "op",
                    0,
                    float(i + 1),
                    status="error" if i < 10 else "ok",
                )
                for i in range(100)
            ]
        )
        stats, covered = operation_stats(store)
    assert covered == 100
    (only,) = stats
    assert (only.count, only.errors, only.percentile(50), only.percentile(95)) == (
        100,
        10,
        50.0,
        95.0,
    )
    assert only.error_rate == pytest.approx(0.1)


def test_cursor_round_trip_and_errors() -> None:
    """A cursor survives its URL form; garbage names the parameter."""
    assert Cursor.decode(Cursor(12, 3).encode()) == Cursor(12, 3)
    with pytest.raises(ValueError, match="before: expected a cursor"):
        Cursor.decode("x.y")


def test_trace_rows_with_a_remote_parent_and_filters(tmp_path: Path) -> None:
    """A trace under a remote parent is named by its earliest span; filters narrow logs/metrics."""
    from flext_observability.models import FlextLogEntry  # noqa: PLC0415 - one test
    from flext_observability.sinks._store_browse import LogFilter, list_logs  # noqa: PLC0415

    with SQLiteStore(tmp_path / "r.db") as store:
        remote = "2" * 32
        store.write(
            [
                span(remote, 5, "downstream", 0, 4, parent=99, service="api"),
                span(remote, 6, "inner", 1, 1, parent=5, service="db"),
            ]
        )
        store.write(
            [FlextLogEntry(message="m", logger_name="a.b", service_name="api", timestamp=T0)]
        )
        store.write(
            [
                FlextMetric(name="x.y", value=1, timestamp=T0, service_name="api"),
                FlextMetric(name="x.z", value=2, timestamp=T0, service_name="db"),
            ]
        )
        (row,) = list_traces(store, SpanFilter()).items
        assert (row.root_name, row.root_service, row.services, row.span_count) == (
            "downstream",
            "api",
            ("api", "db"),
            2,
        )
        assert row.duration_ms == pytest.approx(4.0)
        logs = list_logs(store, LogFilter(service="api", logger="a.*", until=0)).items
        assert logs == []
        assert len(list_logs(store, LogFilter(service="api", logger="a.*")).items) == 1
        series, capped = metric_series(store, name="x.*", service="db")
        assert ([s.name for s in series], capped) == (["x.z"], False)
        series, capped = metric_series(store, max_rows=1)
        assert capped
