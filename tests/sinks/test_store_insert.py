"""The store writes a batch in a few multi-row INSERTs: the same rows as one INSERT per row.

Why it matters: the sqlite3 module releases the GIL around every statement step, and a busy
application thread then keeps the GIL for a whole switch interval (5 ms) before the writer gets
it back. With `executemany` (one step per row) a 512-row batch took seconds on a loaded process
and the pipeline's queue filled up. The statement count is what these tests pin (no timing):
a regression to one statement per row fails them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _helpers import entities
from flext_observability.models import Entity, FlextLogEntry
from flext_observability.sinks import SQLiteStore
from flext_observability.sinks import _store_db as db
from flext_observability.sinks._store_schema import TABLES, Table, table_for_entity

NOW_NS = 1_764_000_000_123_456_789


def _grouped(batch: list[Entity]) -> dict[Table, list[tuple[object, ...]]]:
    grouped: dict[Table, list[tuple[object, ...]]] = {}
    for entity in batch:
        table = table_for_entity(entity)
        grouped.setdefault(table, []).append(table.encode_row(entity, NOW_NS))
    return grouped


def _dump(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows in `seq` order, every column."""
    return {
        table.name: conn.execute(f"SELECT * FROM {table.name} ORDER BY seq").fetchall()
        for table in TABLES
    }


@pytest.fixture
def writers(tmp_path: Path) -> Iterator[tuple[sqlite3.Connection, sqlite3.Connection]]:
    """Two fresh store files: one for `insert_batch`, one for the row-by-row reference."""
    conns = [
        db.open_writer(tmp_path / f"{name}.db", lock_timeout=5.0, max_page_count=None)
        for name in ("batched", "reference")
    ]
    yield conns[0], conns[1]
    for conn in conns:
        conn.close()


def _batch(pool: list[Entity], count: int) -> list[Entity]:
    """`count` entities cycling through `pool` (kinds interleaved as the pool has them)."""
    return [pool[index % len(pool)] for index in range(count)]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pool=st.lists(entities(), min_size=1, max_size=5),
    count=st.one_of(st.integers(0, 40), st.integers(250, 700)),
    variables=st.sampled_from([None, 23, 64, 999]),
)
def test_a_batch_stores_exactly_what_one_insert_per_row_stores(
    writers: tuple[sqlite3.Connection, sqlite3.Connection],
    pool: list[Entity],
    count: int,
    variables: int | None,
) -> None:
    """Any entities, any batch size, any SQLite parameter limit: equal tables, same order."""
    batched, reference = writers
    for conn in writers:
        for table in TABLES:
            conn.execute(f"DELETE FROM {table.name}")
    if variables is not None:  # real builds allow at least 999; 23 is about two rows
        batched.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variables)
    grouped = _grouped(_batch(pool, count))
    db.insert_batch(batched, grouped, lock_timeout=5.0)
    reference.execute("BEGIN")
    for table, rows in grouped.items():
        reference.executemany(table.insert_sql, rows)
    reference.execute("COMMIT")
    # `seq` is assigned per file: equal files hold equal rows in the same order.
    assert _dump(batched) == _dump(reference)
    assert sum(len(rows) for rows in _dump(batched).values()) == count


@pytest.mark.parametrize(
    ("count", "inserts"),
    [(1, 1), (2, 1), (3, 2), (255, 8), (256, 1), (257, 2), (512, 2), (1000, 7)],
)
def test_a_batch_takes_a_few_statements_not_one_per_row(
    tmp_path: Path, count: int, inserts: int
) -> None:
    """One kind, `count` rows: BEGIN, power-of-two INSERT chunks of at most 256 rows, COMMIT."""
    store = SQLiteStore(tmp_path / "s.db")
    template = next(iter(_sample_logs(1)))
    executed: list[str] = []
    conn = store._connection()
    conn.set_trace_callback(executed.append)
    try:
        store.write([template] * count)
    finally:
        conn.set_trace_callback(None)
    assert [sql.split(" ", 2)[:2] for sql in executed] == [
        ["BEGIN", "IMMEDIATE"],
        *[["INSERT", "INTO"]] * inserts,
        ["COMMIT"],
    ]
    assert len(store.query("logs", limit=2000)) == count
    store.close()


def test_rows_per_statement_follow_the_connection_parameter_limit(tmp_path: Path) -> None:
    """A limit of 3 rows' parameters: chunks of 2 and 1, every row still written once."""
    store = SQLiteStore(tmp_path / "s.db")
    logs = list(_sample_logs(5))
    conn = store._connection()
    width = table_for_entity(logs[0]).width
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, width * 3)
    executed: list[str] = []
    conn.set_trace_callback(executed.append)
    store.write(logs)
    conn.set_trace_callback(None)
    rows_per_insert = [sql.count("),") + 1 for sql in executed if sql.startswith("INSERT")]
    assert rows_per_insert == [2, 2, 1]
    assert sorted(entry.id for entry in store.query("logs")) == sorted(entry.id for entry in logs)
    store.close()


def _sample_logs(count: int) -> Iterator[FlextLogEntry]:
    from flext_observability import flext_create_log_entry  # noqa: PLC0415

    for index in range(count):
        yield flext_create_log_entry("INFO", f"line {index}").unwrap()
