"""Every store and viewer query uses the index it is meant to, and every index serves a query.

Each query shape (the store's `query` filters, the viewer's pages, retention) runs against a
populated store, before and after ANALYZE (closing a writer may run it); `EXPLAIN QUERY PLAN`
of every statement it issued must name the expected index and never scan a table unindexed,
unless the case says why a scan is fine (by rowid under a LIMIT, or a sort of everything). The
union of the indexes the plans use is the schema's whole index set: an unused index fails here.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flext_observability.models import (
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.models._types import (
    AlertSeverity,
    HealthStatus,
    LogLevel,
    TraceStatus,
)
from flext_observability.sinks import SQLiteStore
from flext_observability.sinks import _store_browse as browse
from flext_observability.sinks import _store_traces as traces
from flext_observability.sinks._store_schema import TABLES

T0 = datetime(2026, 3, 1, tzinfo=UTC)
_PLAN_LINE = re.compile(r"^(SCAN|SEARCH) (\w+)(?: USING (?:COVERING )?INDEX (\w+))?")


def _tid(n: int) -> str:
    return hashlib.blake2b(str(n).encode(), digest_size=16).hexdigest()


def _sid(n: int) -> str:
    return hashlib.blake2b(str(n).encode(), digest_size=8).hexdigest()


def _entities() -> Iterator[list[Any]]:
    """Batches shaped like a live service: spans, logs (mostly info), metrics, a few events."""
    levels = [LogLevel.INFO] * 7 + [LogLevel.DEBUG, LogLevel.WARNING, LogLevel.ERROR]
    batch: list[Any] = []
    for t in range(1500):
        at = T0 + timedelta(seconds=t)
        failing = t % 97 == 0
        batch += [
            FlextTrace(
                trace_id=_tid(t),
                span_id=_sid(t * 4 + s),
                parent_span_id=None if s == 0 else _sid(t * 4),
                operation_name=("GET /a", "GET /b", "db.query", "render")[(t + s) % 4],
                service_name=("shop", "billing")[t % 2],
                start_time=at + timedelta(milliseconds=s),
                duration_ms=(t * 7 + s * 13) % 300 / 3 + (900 if t % 500 == 0 else 0),
                status=TraceStatus.ERROR if failing and s == 0 else TraceStatus.OK,
            )
            for s in range(4)
        ]
        batch.append(
            FlextLogEntry(
                message=f"request {t}",
                level=levels[t % len(levels)],
                logger_name=f"app.part{t % 3}",
                service_name="shop",
                trace_id=_tid(t) if t % 2 else None,
                timestamp=at,
            )
        )
        if t % 5 == 0:
            batch += [
                FlextMetric(name=f"m.{n}", value=t, tags={"k": t % 3}, timestamp=at)
                for n in range(4)
            ]
        if t % 30 == 0:
            batch.append(
                FlextAlert(
                    name="cpu",
                    message="high",
                    severity=AlertSeverity.ERROR if t % 60 else AlertSeverity.WARNING,
                    trace_id=_tid(t) if t % 90 == 0 else None,
                    timestamp=at,
                )
            )
            batch.append(
                FlextHealthCheck(
                    name=f"dep{t % 3}",
                    status=HealthStatus.UNHEALTHY if t % 150 == 0 else HealthStatus.HEALTHY,
                    timestamp=at,
                )
            )
        if len(batch) >= 500:
            yield batch
            batch = []
    yield batch


class _Recording(SQLiteStore):
    """A read-only store that keeps every SELECT it runs (the real queries, run for real)."""

    statements: list[tuple[str, list[object]]]

    def select(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        if not sql.startswith(("PRAGMA", "EXPLAIN")):
            self.statements.append((sql, list(params)))
        return super().select(sql, params)


@pytest.fixture(scope="module", params=[False, True], ids=["no-stats", "analyzed"])
def store_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A populated store file, with or without ANALYZE's statistics."""
    path = tmp_path_factory.mktemp("plans") / "t.db"
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        for batch in _entities():
            store.write(batch)
        assert store.dropped == {}
    if request.param:
        conn = sqlite3.connect(path)
        conn.execute("ANALYZE")
        conn.close()
    return path


_Run = Callable[[SQLiteStore], object]
_NOW = int((T0 + timedelta(hours=1)).timestamp() * 1e9)
_SINCE = int(T0.timestamp() * 1e9) + 600 * 10**9


def _older_page(reader: SQLiteStore) -> object:
    first = traces.list_traces(reader, traces.SpanFilter(), limit=5)
    return traces.list_traces(reader, traces.SpanFilter(), before=first.next, limit=5)


@dataclass(frozen=True)
class Case:
    """A query shape: what runs it, the indexes its plans must name, why it may scan a table."""

    name: str
    run: _Run
    indexes: frozenset[str]
    scans: str = ""
    """Why an unindexed scan is fine here (empty: it is not)."""


def _case(name: str, run: _Run, *indexes: str, scans: str = "") -> Case:
    return Case(name, run, frozenset(indexes), scans)


_NEWEST_BY_SEQ = "newest rows by rowid, under a LIMIT"


CASES: list[Case] = [
    _case("traces since", lambda r: r.query("traces", since=T0), "ix_traces_timestamp"),
    _case(
        "traces newest", lambda r: r.query("traces", order="desc", limit=5), "ix_traces_timestamp"
    ),
    _case("a trace", lambda r: r.trace(_tid(7)), "ix_traces_trace_id"),
    _case("traces by name", lambda r: r.query("traces", name="render"), "ix_traces_name"),
    _case("traces by glob", lambda r: r.query("traces", name="GET *"), "ix_traces_name"),
    _case(
        "traces by service", lambda r: r.query("traces", service="shop"), "ix_traces_service_name"
    ),
    _case(
        "traces by duration",
        lambda r: r.query("traces", order_by="duration", order="desc", limit=5),
        scans="a sort of every span by duration (never indexed)",
    ),
    _case("traces errors", lambda r: r.query("traces", errors_only=True), "ix_traces_errors"),
    _case("traces status error", lambda r: r.query("traces", status="error"), "ix_traces_errors"),
    _case("logs warning+", lambda r: r.query("logs", level="warning"), "ix_logs_warnings"),
    _case("logs error+", lambda r: r.query("logs", level="error"), "ix_logs_errors"),
    _case("logs of a trace", lambda r: r.query("logs", trace_id=_tid(7)), "ix_logs_traced"),
    _case("logs by logger", lambda r: r.query("logs", name="app.part1"), "ix_logs_name"),
    _case("logs by service", lambda r: r.query("logs", service="shop"), "ix_logs_service_name"),
    _case("metrics by name", lambda r: r.query("metrics", name="m.1"), "ix_metrics_name"),
    _case(
        "metrics by service", lambda r: r.query("metrics", service="x"), "ix_metrics_service_name"
    ),
    _case("metrics since", lambda r: r.query("metrics", since=T0), "ix_metrics_timestamp"),
    _case("metrics errors", lambda r: r.query("metrics", errors_only=True), "ix_metrics_errors"),
    _case("alerts of a trace", lambda r: r.query("alerts", trace_id=_tid(90)), "ix_alerts_traced"),
    _case("alerts error+", lambda r: r.query("alerts", level="error"), "ix_alerts_errors"),
    _case("alerts by name", lambda r: r.query("alerts", name="cpu"), "ix_alerts_name"),
    _case("alerts by service", lambda r: r.query("alerts", service="x"), "ix_alerts_service_name"),
    _case("alerts since", lambda r: r.query("alerts", since=T0), "ix_alerts_timestamp"),
    _case(
        "health by status", lambda r: r.query("health", status="healthy"), "ix_health_checks_status"
    ),
    _case(
        "health errors",
        lambda r: r.query("health", errors_only=True),
        "ix_health_checks_errors",
    ),
    _case(
        "health by service",
        lambda r: r.query("health", service="x"),
        "ix_health_checks_service_name",
    ),
    _case("health since", lambda r: r.query("health", since=T0), "ix_health_checks_timestamp"),
    _case("ui: trace logs", lambda r: browse.trace_logs(r, _tid(7)), "ix_logs_traced"),
    _case("ui: logs page", lambda r: browse.list_logs(r, browse.LogFilter()), "ix_logs_timestamp"),
    _case(
        "ui: logs warning+",
        lambda r: browse.list_logs(r, browse.LogFilter(level="warning")),
        "ix_logs_warnings",
    ),
    _case(
        "ui: logs error+",
        lambda r: browse.list_logs(r, browse.LogFilter(level="error")),
        "ix_logs_errors",
    ),
    _case(
        "ui: logs by logger",
        lambda r: browse.list_logs(r, browse.LogFilter(logger="app.part2")),
        "ix_logs_name",
    ),
    _case(
        "ui: logs by service",
        lambda r: browse.list_logs(r, browse.LogFilter(service="x")),
        "ix_logs_service_name",
    ),
    _case(
        "ui: logs of a trace",
        lambda r: browse.list_logs(r, browse.LogFilter(trace_id=_tid(9))),
        "ix_logs_traced",
    ),
    _case("ui: loggers", lambda r: browse.distinct_values(r, "logs", "name"), "ix_logs_name"),
    _case(
        "ui: operations", lambda r: browse.distinct_values(r, "traces", "name"), "ix_traces_name"
    ),
    _case(
        "ui: services",
        lambda r: browse.distinct_values(r, "traces", "service_name"),
        "ix_traces_service_name",
    ),
    _case(
        "ui: metric names",
        lambda r: browse.distinct_values(r, "metrics", "name"),
        "ix_metrics_name",
    ),
    _case("ui: health names", browse.health_names, "ix_health_checks_name"),
    _case(
        "ui: health history", lambda r: browse.health_history(r, "dep1"), "ix_health_checks_name"
    ),
    _case("ui: latest", lambda r: browse.latest_timestamp(r, "traces"), "ix_traces_timestamp"),
    _case("ui: versions", browse.versions, scans="max(seq): the rowid's last page"),
    _case(
        "ui: chart", lambda r: browse.metric_series(r, since=_SINCE, name="m.2"), "ix_metrics_name"
    ),
    _case("ui: charts", lambda r: browse.metric_series(r, since=_SINCE), "ix_metrics_timestamp"),
    _case("ui: alerts", lambda r: browse.alerts_since(r, since=_SINCE), scans=_NEWEST_BY_SEQ),
    _case(
        "ui: traces",
        lambda r: traces.list_traces(r, traces.SpanFilter()),
        "ix_traces_timestamp",
        "ix_traces_trace_id",
    ),
    _case("ui: older traces", _older_page, "ix_traces_timestamp", "ix_traces_trace_id"),
    _case(
        "ui: failed traces",
        lambda r: traces.list_traces(r, traces.SpanFilter(status="error")),
        "ix_traces_errors",
    ),
    _case(
        "ui: traces of a service",
        lambda r: traces.list_traces(r, traces.SpanFilter(service="billing")),
        "ix_traces_service_name",
    ),
    _case(
        "ui: traces of an operation",
        lambda r: traces.list_traces(r, traces.SpanFilter(operation="render")),
        "ix_traces_name",
    ),
    _case(
        "ui: slow traces",
        lambda r: traces.list_traces(r, traces.SpanFilter(min_ms=500)),
        "ix_traces_duration_bucket",
    ),
    _case(
        "ui: text search",
        lambda r: traces.list_traces(r, traces.SpanFilter(text="db")),
        "ix_traces_timestamp",
    ),
    _case("ui: a trace's spans", lambda r: traces.trace_spans(r, _tid(3)), "ix_traces_trace_id"),
    _case(
        "ui: operation stats",
        lambda r: traces.operation_stats(r, since=_SINCE),
        "ix_traces_timestamp",
    ),
]


def _plan(reader: SQLiteStore, sql: str, params: list[object]) -> list[tuple[str, str, str | None]]:
    rows = reader.select(f"EXPLAIN QUERY PLAN {sql}", params)
    lines = [str(row[3]) for row in rows]
    return [(match[1], match[2], match[3]) for line in lines if (match := _PLAN_LINE.match(line))]


def _used(path: Path, run: _Run) -> tuple[set[str], list[str]]:
    """Run `run` on a recording reader; the indexes its plans use and its unindexed scans."""
    reader = _Recording.open_readonly(path)
    reader.statements = []
    try:
        run(reader)
        assert reader.statements, "the case ran no query"
        used: set[str] = set()
        unindexed: list[str] = []
        for sql, params in list(reader.statements):
            for verb, table, index in _plan(reader, sql, params):
                if index is not None:
                    used.add(index)
                elif table in {t.name for t in TABLES}:
                    unindexed.append(f"{verb} {table}: {sql[:80]}")
    finally:
        reader.close()
    return used, unindexed


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_query_uses_its_index(store_path: Path, case: Case) -> None:
    """The query's plans name the expected index and scan no table without one."""
    used, unindexed = _used(store_path, case.run)
    assert case.indexes <= used, f"{case.name}: plans use {sorted(used)}"
    if not case.scans:
        assert unindexed == [], case.name


def test_retention_deletes_by_the_timestamp_indexes(store_path: Path, tmp_path: Path) -> None:
    """Deleting by age walks each table's timestamp index."""
    path = tmp_path / "copy.db"
    source = sqlite3.connect(store_path)
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    statements: list[str] = []
    with SQLiteStore(path, clock=lambda: _NOW / 1e9, retention_hours=0.5, max_mb=None) as store:
        store._connection().set_trace_callback(statements.append)
        deleted = store.maintain()
        conn = store._connection()
        conn.set_trace_callback(None)
        deletes = [sql for sql in statements if sql.startswith("DELETE")]
        plans = {
            sql: [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            for sql in deletes
        }
    assert deleted["age"] > 0
    assert len(deletes) == len(TABLES)
    for table in TABLES:
        (sql,) = [sql for sql in deletes if f"FROM {table.name} " in sql]
        assert [_PLAN_LINE.match(line) is not None for line in plans[sql]] == [True], sql
        assert _PLAN_LINE.findall(plans[sql][0]) == [
            ("SEARCH", table.name, f"ix_{table.name}_timestamp")
        ], sql


def test_every_index_serves_a_query(store_path: Path) -> None:
    """The indexes the cases' plans use (and retention's) are exactly the schema's indexes."""
    used: set[str] = set()
    for case in CASES:
        used |= _used(store_path, case.run)[0]
    used |= {f"ix_{table.name}_timestamp" for table in TABLES}  # retention (tested above)
    declared = {index.name for table in TABLES for index in table.indexes}
    assert used == declared
