"""The `data` column and the duration bucket: any entity reads back equal, old rows included.

The store writes each entity's JSON without its null fields; files of schema versions 1 and 2
hold the full `model_dump_json()`. Both must read back as entities equal to what was written,
for every valid entity of every kind (Hypothesis over the models' own strategies).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _store_legacy import write_legacy
from hypothesis import given, settings
from hypothesis import strategies as st

from _helpers import entities
from flext_observability._internal.time import datetime_to_ns
from flext_observability.models import Entity
from flext_observability.sinks import STORE_KINDS, SQLiteStore
from flext_observability.sinks._store_schema import (
    duration_bucket,
    duration_bucket_of,
    encode,
    series_key,
    table_for,
    table_for_entity,
)


def _by_kind(batch: list[Entity]) -> dict[str, list[Entity]]:
    """What `query(kind)` must return: each kind's entities by timestamp (ties: written order)."""
    return {
        kind: sorted(
            (entity for entity in batch if table_for_entity(entity) is table_for(kind)),
            key=lambda entity: datetime_to_ns(entity.timestamp),
        )
        for kind in STORE_KINDS
    }


def _read_all(path: Path) -> dict[str, list[Entity]]:
    reader = SQLiteStore.open_readonly(path)
    try:
        return {kind: reader.query(kind) for kind in STORE_KINDS}
    finally:
        reader.close()


@settings(max_examples=150, deadline=None)
@given(batch=st.lists(entities(), min_size=1, max_size=4))
def test_any_entities_read_back_equal_compact_or_as_old_versions_wrote_them(
    batch: list[Entity],
) -> None:
    """Written by the store (compact JSON) or into a version 1/2 file: read back equal."""
    expected = _by_kind(batch)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "new.db"
        with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
            store.write(batch)
            assert store.dropped == {}
        assert _read_all(path) == expected
        for version in (1, 2):
            old = Path(tmp) / f"v{version}.db"
            write_legacy(old, version, batch)
            assert _read_all(old) == expected


@settings(max_examples=150, deadline=None)
@given(entity=entities())
def test_the_data_column_is_the_json_without_nulls(entity: Entity) -> None:
    """`encode` drops exactly the null fields of `model_dump_json()` and keeps the rest as is."""
    full: dict[str, Any] = json.loads(entity.model_dump_json())
    compact: dict[str, Any] = json.loads(encode(entity))
    assert compact == {key: value for key, value in full.items() if value is not None}
    assert type(entity).model_validate_json(encode(entity)) == entity


@pytest.fixture(scope="module")
def sql() -> Iterator[sqlite3.Connection]:
    """An in-memory SQLite connection to evaluate the bucket expression with."""
    conn = sqlite3.connect(":memory:")
    yield conn
    conn.close()


def _sql_bucket(conn: sqlite3.Connection, ms: float) -> int:
    row = conn.execute(f"SELECT {duration_bucket('x')} FROM (SELECT ? AS x)", (ms,)).fetchone()
    return int(row[0])


_durations = st.floats(min_value=0, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(a=_durations, b=_durations)
def test_the_duration_bucket_never_hides_a_slower_span(
    sql: sqlite3.Connection, a: float, b: float
) -> None:
    """Every duration at least `min_ms` is in a bucket at least `duration_bucket_of(min_ms)`.

    So `bucket >= duration_bucket_of(min_ms) AND duration_ms >= min_ms` finds every slow span;
    the Python bucket of a positive duration is SQLite's.
    """
    low, high = sorted((a, b))
    assert _sql_bucket(sql, high) >= duration_bucket_of(low)
    assert _sql_bucket(sql, high) >= _sql_bucket(sql, low)
    if low > 0:
        assert duration_bucket_of(low) == _sql_bucket(sql, low)


@pytest.mark.parametrize(
    ("ms", "bucket"),
    [(0.0, 10), (0.004, 10), (0.01, 11), (0.5, 25), (7.4, 37), (74.0, 47), (79.99, 47),
     (80.0, 48), (100.0, 51), (1e300, 199)],
)  # fmt: skip
def test_duration_buckets_are_digits_then_the_leading_digit(
    sql: sqlite3.Connection, ms: float, bucket: int
) -> None:
    """A bucket is the digit count of the duration in 10 µs units, then its leading digit."""
    assert _sql_bucket(sql, ms) == bucket


_TAG_VALUES = st.one_of(
    st.text(),
    st.integers(),
    st.floats(),  # NaN and infinities included: json writes them as bare words
    st.booleans(),
    st.none(),
    st.lists(st.one_of(st.text(), st.integers(), st.floats())),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), _TAG_VALUES, max_size=8))
def test_series_key_is_the_canonical_json_of_the_tags(tags: dict[str, Any]) -> None:
    """The series column is `json.dumps` of the tags, sorted, compact, unescaped; any tags.

    Files written before hold keys built by `json.dumps` itself (and the upgrade from version 1
    fills them that way): the same series must keep the same key.
    """
    expected = json.dumps(
        tags, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    assert series_key(tags) == expected
    assert series_key(dict(reversed(tags.items()))) == expected
