"""SQLiteStore: exact round trips, query filters, retention, drop accounting, reader errors."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from flext_observability.exceptions import ConfigurationError, StoreError
from flext_observability.models import (
    AlertSeverity,
    AlertStatus,
    ExceptionInfo,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    HistogramData,
    LogLevel,
    MetricType,
    SpanEvent,
)
from flext_observability.sinks import STORE_KINDS, Entity, Sink, SQLiteStore
from flext_observability.sinks._store_db import drop_reason
from flext_observability.sinks._store_schema import SCHEMA_VERSION
from flext_observability.testing import FakeClock

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TRACE_A = "a" * 32
TRACE_B = "b" * 32


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def clock() -> FakeClock:
    """A clock standing at T0."""
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SQLiteStore]:
    """A fresh store in a not-yet-existing directory, closed after the test."""
    with SQLiteStore(tmp_path / "sub" / "dir" / "t.db", clock=clock) as opened:
        yield opened


def _span(
    op: str, minute: float, *, trace_id: str = TRACE_A, span_id: str = "1" * 16, **kw: object
) -> FlextTrace:
    data: dict[str, object] = {
        "operation_name": op,
        "trace_id": trace_id,
        "span_id": span_id,
        "start_time": _at(minute),
        "service_name": "api",
    }
    data.update(kw)
    return FlextTrace.model_validate(data)


def _dataset() -> dict[str, list[Entity]]:
    """One entity list per kind, with varied fields, in timestamp order."""
    traces: list[Entity] = [
        _span("GET /", 0, duration_ms=12.5, status="ok", kind="server"),
        _span(
            "db.query",
            1,
            span_id="2" * 16,
            parent_span_id="1" * 16,
            duration_ms=80.0,
            status="error",
            status_message="timeout",
            attributes={"db.system": "sqlite", "rows": [1, 2]},
            events=[SpanEvent(name="retry", timestamp=_at(1.5), attributes={"n": 1})],
            context={"user": "u1"},
            scope="tests",
        ),
        _span("GET /health", 2, trace_id=TRACE_B, service_name="worker", status="unset"),
    ]
    metrics: list[Entity] = [
        FlextMetric(
            name="requests_total", value=3, metric_type=MetricType.COUNTER, timestamp=_at(0)
        ),
        FlextMetric(name="price", value=Decimal("19.990"), tags={"cur": "EUR"}, timestamp=_at(1)),
        FlextMetric(
            name="latency",
            value=1.5,
            unit="s",
            metric_type=MetricType.HISTOGRAM,
            histogram=HistogramData(
                count=2, sum=1.5, min=0.5, max=1.0, bounds=[1.0], bucket_counts=[1, 1]
            ),
            start_time=_at(-1),
            timestamp=_at(2),
            service_name="worker",
        ),
    ]
    logs: list[Entity] = [
        FlextLogEntry(level=LogLevel.DEBUG, message="d", logger_name="app.db", timestamp=_at(0)),
        FlextLogEntry(
            level=LogLevel.WARNING,
            message="w",
            logger_name="app.web",
            trace_id=TRACE_A,
            span_id="1" * 16,
            timestamp=_at(1),
            service_name="api",
        ),
        FlextLogEntry(
            level=LogLevel.CRITICAL,
            message="boom",
            logger_name="app.web",
            exception=ExceptionInfo(type="KeyError", message="'k'", stacktrace="tb"),
            context={"attempt": 2},
            correlation_id="c-1",
            timestamp=_at(2),
        ),
    ]
    alerts: list[Entity] = [
        FlextAlert(name="cpu", message="high", severity=AlertSeverity.WARNING, timestamp=_at(0)),
        FlextAlert(
            name="errors",
            message="error ratio",
            severity=AlertSeverity.CRITICAL,
            status=AlertStatus.ACKNOWLEDGED,
            trace_id=TRACE_A,
            value=0.5,
            threshold=0.1,
            labels={"op": "GET /"},
            details={"k": "v"},
            timestamp=_at(1),
        ),
    ]
    health: list[Entity] = [
        FlextHealthCheck(name="db", status=HealthStatus.HEALTHY, duration_ms=3.0, timestamp=_at(0)),
        FlextHealthCheck(
            name="cache",
            status=HealthStatus.UNHEALTHY,
            message="down",
            details={"x": 1},
            timestamp=_at(1),
        ),
    ]
    return {"traces": traces, "metrics": metrics, "logs": logs, "alerts": alerts, "health": health}


def _fill(store: SQLiteStore) -> dict[str, list[Entity]]:
    data = _dataset()
    mixed = [entity for kind in STORE_KINDS for entity in data[kind]]
    store.write(mixed[:5])
    store.write(mixed[5:])
    return data


def test_store_is_a_sink_and_creates_its_directory(store: SQLiteStore) -> None:
    """The store satisfies Sink; the first write creates directory, file and WAL mode."""
    assert isinstance(store, Sink)
    assert not store.path.parent.exists()
    _fill(store)
    assert store.path.is_file()
    with sqlite3.connect(store.path) as conn:
        pragmas = [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("journal_mode",)]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    assert (pragmas, version) == (["wal"], SCHEMA_VERSION)
    assert store.dropped == {}
    assert store.written == 13


def test_every_kind_round_trips_exactly(store: SQLiteStore) -> None:
    """Each kind (by name or by class) comes back equal to what was written, in order."""
    data = _fill(store)
    assert {kind: store.query(kind) for kind in STORE_KINDS} == data
    assert store.query(FlextMetric) == data["metrics"]
    assert store.counts() == {"traces": 3, "metrics": 3, "logs": 3, "alerts": 2, "health": 2}
    assert store.size_bytes() > 0
    assert store.flush(1.0) is True


def test_query_filters(store: SQLiteStore) -> None:
    """Every documented filter selects exactly the expected entities."""
    d = _fill(store)
    tr, me, lo, al, he = (d[k] for k in STORE_KINDS)
    assert store.query("traces", since=_at(1)) == tr[1:]
    assert store.query("traces", until=_at(1)) == tr[:1]
    assert store.query("traces", since=_at(0.5), until=_at(2)) == [tr[1]]
    assert store.query("traces", since=_at(1).replace(tzinfo=None)) == tr[1:]
    assert store.query("traces", trace_id=TRACE_B) == [tr[2]]
    assert store.query("logs", trace_id=TRACE_A) == [lo[1]]
    assert store.query("alerts", trace_id=TRACE_A) == [al[1]]
    assert store.query("traces", name="GET /") == [tr[0]]
    assert store.query("traces", name="GET *") == [tr[0], tr[2]]
    assert store.query("logs", name="app.web") == lo[1:]
    assert store.query("metrics", name="price") == [me[1]]
    assert store.query("traces", service="worker") == [tr[2]]
    assert store.query("metrics", service="worker") == [me[2]]
    assert store.query("logs", level="WARNING") == lo[1:]
    assert store.query("logs", level="critical") == [lo[2]]
    assert store.query("alerts", level="error") == [al[1]]
    assert store.query("traces", status="error") == [tr[1]]
    assert store.query("alerts", status=AlertStatus.ACKNOWLEDGED) == [al[1]]
    assert store.query("health", status="healthy") == [he[0]]
    assert store.query("traces", errors_only=True) == [tr[1]]
    assert store.query("logs", errors_only=True) == [lo[2]]
    assert store.query("alerts", errors_only=True) == [al[1]]
    assert store.query("health", errors_only=True) == [he[1]]
    assert store.query("metrics", errors_only=True) == []
    assert store.query("traces", order="desc") == tr[::-1]
    assert store.query("traces", order_by="duration") == [tr[0], tr[1], tr[2]]
    assert store.query("traces", order_by="duration", order="desc", limit=2) == [tr[1], tr[0]]
    assert store.query("health", order_by="duration") == [he[0], he[1]]
    assert store.query("logs", order="desc", limit=1) == [lo[2]]
    assert store.query("logs", limit=0) == []
    assert store.trace(TRACE_A) == tr[:2]
    assert store.trace("c" * 32) == []


@pytest.mark.parametrize(
    ("kind", "filters", "message"),
    [
        ("spans", {}, "store kind: expected one of traces, metrics, logs, alerts, health"),
        ("metrics", {"trace_id": TRACE_A}, "trace_id filter does not apply to metrics"),
        ("traces", {"level": "info"}, "level filter does not apply to traces"),
        ("logs", {"status": "ok"}, "status filter does not apply to logs"),
        ("logs", {"order_by": "duration"}, "does not apply to logs"),
        ("logs", {"order": "up"}, "order must be 'asc' or 'desc'"),
        ("logs", {"order_by": "size"}, "order_by must be 'timestamp' or 'duration'"),
        ("logs", {"limit": -1}, "limit must be a non-negative integer"),
        ("logs", {"level": "loud"}, "Invalid log level"),
        ("traces", {"status": "broken"}, "invalid status"),
    ],
)
def test_query_rejects_inapplicable_filters(
    store: SQLiteStore, kind: str, filters: dict[str, object], message: str
) -> None:
    """A bad kind or a filter that does not apply raises ValueError saying so."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        store.query(kind, **filters)  # type: ignore[arg-type]  # parametrised filters


def test_retention_by_age_with_an_injected_clock(tmp_path: Path, clock: FakeClock) -> None:
    """Entities older than retention_hours go at maintenance, by the injected clock only."""
    with SQLiteStore(tmp_path / "t.db", retention_hours=1, clock=clock) as store:
        old = FlextMetric(name="old", value=1, timestamp=T0 - timedelta(hours=2))
        edge = FlextMetric(name="edge", value=2, timestamp=T0 - timedelta(minutes=30))
        new = FlextMetric(name="new", value=3, timestamp=T0)
        store.write([old, edge, new])
        assert store.query("metrics") == [old, edge, new]  # not yet: no maintenance due
        assert store.maintain() == {"age": 1, "size": 0}
        assert store.query("metrics") == [edge, new]
        clock.now += 3600  # one hour later the write triggers maintenance (interval 60 s)
        late = FlextMetric(name="late", value=4, timestamp=T0 + timedelta(hours=1))
        store.write([late])
        assert store.query("metrics") == [new, late]


def test_retention_by_size_drops_the_oldest_across_tables(tmp_path: Path, clock: FakeClock) -> None:
    """Past max_mb the oldest rows of every table go and the file shrinks under the limit."""
    path = tmp_path / "t.db"
    limit_mb = 0.25
    with SQLiteStore(path, max_mb=limit_mb, maintenance_every=1, clock=clock) as store:
        written: list[Entity] = []
        for batch in range(20):
            entities: list[Entity] = []
            for i in range(20):
                n = batch * 20 + i
                when = _at(n)
                if i % 2:
                    entities.append(FlextLogEntry(message="x" * 1500, timestamp=when))
                else:
                    entities.append(
                        FlextMetric(name="m", value=n, tags={"p": "y" * 1500}, timestamp=when)
                    )
            store.write(entities)
            written.extend(entities)
        kept = sorted([*store.query("metrics"), *store.query("logs")], key=lambda e: e.timestamp)
        assert 0 < len(kept) < len(written)
        assert kept == written[-len(kept) :]  # exactly the newest survive, across both tables
        assert store.dropped == {}
    assert path.stat().st_size <= limit_mb * 1024 * 1024


def test_disk_full_drops_and_counts_without_raising(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A write past the page ceiling (SQLITE_FULL) is dropped, counted and warned about once."""
    big = [FlextLogEntry(message="z" * 4000, timestamp=T0) for _ in range(50)]
    small = FlextLogEntry(message="ok", timestamp=T0)
    with SQLiteStore(tmp_path / "t.db", max_page_count=40, max_mb=None, clock=clock) as store:
        store.write([small])
        with caplog.at_level(logging.WARNING, logger="flext_observability"):
            store.write(big)
            store.write(big)
            clock.now += 61
            store.write(big[:3] * 20)
        assert store.dropped == {"disk_full": 160}
        assert store.query("logs") == [small]  # the failed transactions left nothing behind
        # Only this store's warnings: threads left by earlier tests may log meanwhile.
        mine = [r.getMessage() for r in caplog.records if str(tmp_path) in r.getMessage()]
        assert len(mine) == 2
        assert "dropped 50 entities (disk_full" in mine[0]


def test_unwritable_path_drops_and_counts(tmp_path: Path) -> None:
    """A path under a regular file (ENOTDIR even as root) drops and counts, never raises."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with SQLiteStore(blocker / "t.db") as store:
        store.write([FlextMetric(name="m", value=1)])
        store.write([FlextMetric(name="m", value=2), FlextMetric(name="m", value=3)])
        assert store.dropped == {"cantopen": 3}
        with pytest.raises(StoreError, match="cannot read the store"):
            store.query("metrics")


def test_readonly_store_counts_writes_as_readonly(store: SQLiteStore) -> None:
    """A store opened read-only (mode=ro) drops writes as `readonly` and still queries."""
    data = _fill(store)
    with SQLiteStore.open_readonly(store.path) as reader:
        reader.write(data["metrics"])
        assert reader.dropped == {"readonly": 3}
        assert reader.maintain() == {"age": 0, "size": 0}
        assert reader.query("metrics") == data["metrics"]
    assert store.counts()["metrics"] == 3


def test_writes_after_close_are_counted(store: SQLiteStore) -> None:
    """A closed store drops (and counts) writes, and refuses queries with StoreError."""
    store.close()
    store.write([FlextMetric(name="m", value=1)])
    store.write([])
    assert store.dropped == {"closed": 1}
    with pytest.raises(StoreError, match="closed"):
        store.counts()


def test_reader_errors_on_missing_corrupt_or_foreign_files(tmp_path: Path) -> None:
    """Readers raise StoreError with a clear message; nothing is created on the way."""
    with pytest.raises(StoreError, match="does not exist"):
        SQLiteStore.open_readonly(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(StoreError, match="not a regular file"):
        SQLiteStore.open_readonly(tmp_path)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 512)
    with pytest.raises(StoreError, match="corrupt or not a SQLite database"):
        SQLiteStore.open_readonly(garbage)
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StoreError, match="without the flext-observability schema"):
        SQLiteStore.open_readonly(foreign)
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        SQLiteStore.open_readonly(newer)


def test_writer_drops_on_a_newer_schema_and_on_a_corrupt_file(tmp_path: Path) -> None:
    """The sink side never raises: a newer schema or garbage file is a counted drop."""
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite" * 512)
    with SQLiteStore(newer) as a, SQLiteStore(garbage) as b:
        a.write([FlextMetric(name="m", value=1)])
        b.write([FlextMetric(name="m", value=1)])
        assert (a.dropped, b.dropped) == ({"schema": 1}, {"corrupt": 1})


def test_a_tampered_row_is_a_store_error(store: SQLiteStore) -> None:
    """A row whose JSON no longer validates makes the reader raise StoreError."""
    _fill(store)
    conn = sqlite3.connect(store.path)
    conn.execute("UPDATE metrics SET data = '{}' WHERE name = 'price'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="metrics row 2 does not validate as FlextMetric"):
        store.query("metrics")


@pytest.mark.parametrize(
    ("option", "value"),
    [("retention_hours", 0), ("max_mb", -1), ("lock_timeout", "x"), ("max_mb", True)],
)
def test_bad_options_are_configuration_errors(tmp_path: Path, option: str, value: object) -> None:
    """Invalid retention/size/timeout values raise ConfigurationError naming the option."""
    with pytest.raises(ConfigurationError, match=f"SQLiteStore {option}"):
        SQLiteStore(tmp_path / "t.db", **{option: value})  # type: ignore[arg-type]  # deliberately wrong


def test_queries_while_another_thread_writes(store: SQLiteStore) -> None:
    """One thread writes batches while another queries the same store object."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for i in range(40):
                store.write([FlextMetric(name="m", value=i, timestamp=_at(i))] * 5)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen = 0
    while not stop.is_set():
        seen = max(seen, len(store.query("metrics", order="desc", limit=1000)))
    thread.join()
    assert (errors, store.counts()["metrics"], store.dropped) == ([], 200, {})


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_lock_timeout_drops_as_locked_and_retention_retries_later(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """While another connection holds the write lock past lock_timeout, writes drop as locked."""
    path = tmp_path / "t.db"
    first = FlextMetric(name="m", value=1, timestamp=T0)
    with SQLiteStore(path, lock_timeout=0.2, clock=clock) as store:
        store.write([first])
        holder = _hold_write_lock(path)
        try:
            with caplog.at_level(logging.WARNING, logger="flext_observability"):
                store.write([FlextMetric(name="m", value=2, timestamp=T0)])
                assert store.maintain() == {"age": 0, "size": 0}
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.dropped == {"locked": 1}
        # Only this store's warnings: threads left by earlier tests may log meanwhile.
        messages = [r.getMessage() for r in caplog.records if str(path) in r.getMessage()]
        assert len(messages) == 2
        assert "dropped 1 entities (locked: OperationalError)" in messages[0]
        assert "retention failed (locked: OperationalError); will retry" in messages[1]
        assert store.query("metrics") == [first]


def test_write_waits_for_a_lock_released_in_time(tmp_path: Path) -> None:
    """A lock released before lock_timeout delays the write but loses nothing."""
    path = tmp_path / "t.db"
    first = FlextMetric(name="m", value=1, timestamp=T0)
    second = FlextMetric(name="m", value=2, timestamp=T0)
    with SQLiteStore(path, lock_timeout=10.0) as store:
        store.write([first])
        holder = _hold_write_lock(path)

        def commit_and_close() -> None:
            holder.execute("COMMIT")
            holder.close()

        release = threading.Timer(0.1, commit_and_close)
        release.start()
        store.write([second])
        release.join()
        assert (store.query("metrics"), store.dropped) == ([first, second], {})


def test_a_changed_pid_reopens_the_connection(store: SQLiteStore) -> None:
    """If the pid changed without fork hooks (e.g. a raw fork), the store opens a new connection."""
    first = FlextMetric(name="m", value=1, timestamp=T0)
    store.write([first])
    inherited = store._conn
    store._pid = -1
    second = FlextMetric(name="m", value=2, timestamp=T0)
    store.write([second])
    assert store._conn is not inherited
    assert store._pid == os.getpid()
    assert store.query("metrics") == [first, second]


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OSError(errno.ENOSPC, "full"), "disk_full"),
        (OSError(errno.EROFS, "ro"), "readonly"),
        (OSError(errno.ENOTDIR, "nd"), "cantopen"),
        (sqlite3.OperationalError("no code"), "error"),
        (RuntimeError("other"), "error"),
    ],
)
def test_drop_reasons(exc: BaseException, reason: str) -> None:
    """OS and SQLite errors map to the documented drop reasons."""
    assert drop_reason(exc) == reason


def test_schema_creation_failure_is_a_counted_drop(tmp_path: Path) -> None:
    """If even the schema cannot be written (page ceiling), the batch drops as disk_full."""
    with SQLiteStore(tmp_path / "t.db", max_page_count=2) as store:
        store.write([FlextMetric(name="m", value=1, timestamp=T0)])
        assert store.dropped == {"disk_full": 1}


def test_a_limit_below_the_schema_size_keeps_nothing(tmp_path: Path, clock: FakeClock) -> None:
    """A max_mb smaller than the empty schema empties every table and never fails."""
    with SQLiteStore(tmp_path / "t.db", max_mb=0.001, maintenance_every=1, clock=clock) as store:
        store.write([FlextMetric(name="m", value=i, timestamp=_at(i)) for i in range(10)])
        assert (store.counts()["metrics"], store.dropped) == (0, {})
