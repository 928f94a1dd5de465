"""The embedded store's schema: one table per entity kind, the entity JSON plus indexed columns.

Every table has `seq` (insertion order), `id`, `timestamp` (UTC epoch nanoseconds, so it sorts
and compares as an integer), `service_name`, `name` (a span's `operation_name`, a log's
`logger_name`, otherwise the entity's `name`), `is_error` and `data` (the entity's JSON, which is
what reads validate back). Kind-specific columns follow. The schema version lives in
`PRAGMA user_version`.

`data` is `model_dump_json()` without its null fields (`encode`): validating it gives back an
equal entity, since every nullable field defaults to None, and `json_extract` reads a missing key
as NULL just as it read a null one. Files of versions 1 and 2 hold the full `model_dump_json()`,
which validates the same.

Version 2 (the viewer's) added columns and indexes: `metrics.series` (the point's tags as
canonical JSON, sorted keys: with `name` and `service_name` it identifies a series),
`metrics.value` (the value as a REAL, a histogram's sum) and `alerts.recorded` (epoch ns when the
notification was stored: an escalation keeps the activation's `timestamp`, so this is when it
happened). Version 3 keeps only the indexes a query uses (`Index.serves` names it; a test checks
every query's plan): the span duration index became one on an order-preserving duration bucket
(`duration_bucket`: a handful of insertion points instead of one random page per span), trace id
and level indexes became partial (only rows with a trace id, only warnings and worse), the
unused ones went. Each version upgrades older files in place (`migration_sql`); readers accept
every version from `MIN_READ_VERSION` on.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flext_observability._internal.time import datetime_to_ns
from flext_observability.models import (
    Entity,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.models._types import (
    AlertSeverity,
    AlertStatus,
    HealthStatus,
    LogLevel,
    MetricType,
    TraceStatus,
)

__all__ = [
    "KINDS",
    "MIN_READ_VERSION",
    "SCHEMA_VERSION",
    "TABLES",
    "Index",
    "Table",
    "create_schema_sql",
    "duration_bucket",
    "duration_bucket_of",
    "encode",
    "migration_sql",
    "series_key",
    "table_for",
    "table_for_entity",
]

SCHEMA_VERSION = 3
MIN_READ_VERSION = 1
"""The oldest schema version readers accept (upgraded in place by the first writer)."""

_LOG_RANK = {member: rank for rank, member in enumerate(LogLevel)}
_SEVERITY_RANK = {member: rank for rank, member in enumerate(AlertSeverity)}


def duration_bucket(operand: str) -> str:
    """SQL: an order-preserving, coarse bucket of a duration in ms (`operand`: SQL of it).

    The count of digits of the duration in units of 10 µs, then its leading digit: about nine
    buckets a decade (70 to 79.99 ms is one), never decreasing as the duration grows. An index
    on it takes a span at the end of its bucket's entries (a few dozen pages take every insert)
    where an index on the duration itself puts each span on a random page; `duration_ms >= x`
    reads the buckets from `x`'s on, then checks the exact duration.
    """
    scaled = f"CAST({operand} * 100 AS INTEGER)"
    return f"(length({scaled}) * 10 + CAST(substr({scaled}, 1, 1) AS INTEGER))"


_MAX_SCALED = 9.2e18
"""Below SQLite's largest integer, where CAST(real AS INTEGER) saturates (same bucket: 199)."""


def duration_bucket_of(ms: float) -> int:
    """`duration_bucket` of a value, computed here: 0 (below every bucket) when not positive."""
    if not ms > 0:
        return 0
    scaled = str(int(min(ms * 100, _MAX_SCALED)))
    return len(scaled) * 10 + int(scaled[0])


@dataclass(frozen=True, slots=True)
class Index:
    """One index of a table, and the queries that need it."""

    name: str
    columns: str
    """The indexed columns or expression, as SQL."""
    serves: str
    """The queries that use it (checked by the query-plan test)."""
    where: str = ""
    """A partial index's condition (a query must state it to use the index)."""

    def create_sql(self, table: str) -> str:
        """The idempotent CREATE INDEX statement."""
        where = f" WHERE {self.where}" if self.where else ""
        return f"CREATE INDEX IF NOT EXISTS {self.name} ON {table} ({self.columns}){where}"


def _common_indexes(table: str, *, errors: str) -> tuple[Index, ...]:
    """Time order, the name and service filters (and their value lists), the errors filter."""
    return (
        Index(f"ix_{table}_timestamp", "timestamp", "time windows, newest-first pages, retention"),
        Index(f"ix_{table}_name", "name, timestamp", "the name filter; the list of names"),
        Index(
            f"ix_{table}_service_name",
            "service_name, timestamp",
            "the service filter; the list of services",
        ),
        Index(f"ix_{table}_errors", "timestamp", errors, where="is_error = 1"),
    )


def _traced(table: str) -> Index:
    return Index(
        f"ix_{table}_traced",
        "trace_id",
        "a trace's entries (only rows with a trace id)",
        where="trace_id IS NOT NULL",
    )


_WARNING_RANK = _LOG_RANK[LogLevel.WARNING]
"""Log ranks from here on are in the partial `ix_logs_warnings` index."""


@dataclass(frozen=True, slots=True, eq=False)
class Table:
    """How one entity kind is stored and filtered (one constant per table: compared by identity)."""

    kind: str
    """The public kind name used by `query()` ("traces", "metrics", "logs", "alerts", "health")."""
    name: str
    """The SQL table name."""
    model: type[Entity]
    extra: tuple[tuple[str, str], ...]
    """Kind-specific columns as (name, SQL type), in INSERT order after the common ones."""
    encode_row: Callable[[Any, int], tuple[object, ...]]
    """Entity, write time (epoch ns) → its INSERT parameters."""
    indexes: tuple[Index, ...] = ()
    level_column: str | None = None
    level_enum: type[StrEnum] | None = None
    error_rank: int | None = None
    """Levels from this rank on are exactly the rows with `is_error = 1`."""
    warning_rank: int | None = None
    """Levels from this rank on are in the partial warnings index."""
    status_enum: type[StrEnum] | None = None
    error_status: str | None = None
    """The status that is exactly the rows with `is_error = 1`."""
    has_trace_id: bool = False
    has_duration: bool = False

    insert_sql: str = field(init=False)
    """The parametrised INSERT for one row."""
    width: int = field(init=False)
    """Parameters per row (the columns an INSERT writes)."""

    def __post_init__(self) -> None:
        """Build the INSERT statement once."""
        columns = ["id", "timestamp", "service_name", "name", "is_error", "data"]
        columns += [column for column, _ in self.extra]
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed identifiers
        object.__setattr__(self, "insert_sql", sql)  # frozen dataclass: set once, here
        object.__setattr__(self, "width", len(columns))

    def insert_rows_sql(self, count: int) -> str:
        """The INSERT of `count` rows in one statement (`count * width` parameters, row-major)."""
        return _rows_sql(self.insert_sql, count)

    def row(self, entity: Entity, now_ns: int = 0) -> tuple[object, ...]:
        """Return the INSERT parameters for `entity` (`now_ns`: the write time)."""
        return self.encode_row(entity, now_ns)

    def level_terms(self, rank: int) -> tuple[list[str], list[object]]:
        """WHERE terms for "level at or above `rank`" that let SQLite use a partial index."""
        where = [f"{self.level_column} >= ?"]
        params: list[object] = [rank]
        if self.error_rank is not None and rank >= self.error_rank:
            where.append("is_error = 1")  # the partial errors index
        elif self.warning_rank is not None and rank >= self.warning_rank:
            where.append(f"{self.level_column} >= {self.warning_rank}")  # the warnings index
        return where, params


def encode(entity: Entity) -> str:
    """The `data` column: the entity's JSON without its null fields (see the module docstring)."""
    return entity.__pydantic_serializer__.to_json(entity, exclude_none=True).decode()


# `json.dumps` with options builds this same encoder on every call (~0.8 of its ~2.6 µs per point).
_SERIES_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
).encode


def series_key(tags: dict[str, Any]) -> str:
    """Return a metric point's tags as canonical JSON (sorted keys): its series identity."""
    return _SERIES_JSON(tags)


# Enum member → its text, bound as a plain str (a StrEnum member goes through sqlite3's adapter
# lookup first).
_TEXT: dict[object, str] = {
    member: member.value
    for enum in (TraceStatus, MetricType, LogLevel, AlertSeverity, AlertStatus, HealthStatus)
    for member in enum
}
_TRACE_ERROR = TraceStatus.ERROR
_LOG_ERROR_RANK = _LOG_RANK[LogLevel.ERROR]
_SEVERITY_ERROR_RANK = _SEVERITY_RANK[AlertSeverity.ERROR]


def _trace_row(span: FlextTrace, _now_ns: int) -> tuple[object, ...]:
    status = span.status
    return (
        span.id,
        datetime_to_ns(span.timestamp),
        span.service_name,
        span.operation_name,
        int(status is _TRACE_ERROR),
        encode(span),
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        _TEXT[status],
        span.duration_ms,
    )


def _metric_row(metric: FlextMetric, _now_ns: int) -> tuple[object, ...]:
    return (
        metric.id,
        datetime_to_ns(metric.timestamp),
        metric.service_name,
        metric.name,
        0,
        encode(metric),
        _TEXT[metric.metric_type],
        series_key(metric.tags),
        float(metric.value),
    )


def _log_row(entry: FlextLogEntry, _now_ns: int) -> tuple[object, ...]:
    level = entry.level
    rank = _LOG_RANK[level]
    return (
        entry.id,
        datetime_to_ns(entry.timestamp),
        entry.service_name,
        entry.logger_name,
        int(rank >= _LOG_ERROR_RANK),
        encode(entry),
        entry.trace_id,
        _TEXT[level],
        rank,
    )


def _alert_row(alert: FlextAlert, now_ns: int) -> tuple[object, ...]:
    severity = alert.severity
    rank = _SEVERITY_RANK[severity]
    return (
        alert.id,
        datetime_to_ns(alert.timestamp),
        alert.service_name,
        alert.name,
        int(rank >= _SEVERITY_ERROR_RANK),
        encode(alert),
        alert.trace_id,
        _TEXT[severity],
        rank,
        _TEXT[alert.status],
        alert.fingerprint,
        now_ns,
    )


def _health_row(check: FlextHealthCheck, _now_ns: int) -> tuple[object, ...]:
    status = check.status
    return (
        check.id,
        datetime_to_ns(check.timestamp),
        check.service_name,
        check.name,
        int(status is HealthStatus.UNHEALTHY),
        encode(check),
        _TEXT[status],
        check.duration_ms,
    )


TABLES: tuple[Table, ...] = (
    Table(
        kind="traces",
        name="traces",
        model=FlextTrace,
        extra=(
            ("trace_id", "TEXT NOT NULL"),
            ("span_id", "TEXT NOT NULL"),
            ("parent_span_id", "TEXT"),
            ("status", "TEXT NOT NULL"),
            ("duration_ms", "REAL"),
        ),
        encode_row=_trace_row,
        indexes=(
            *_common_indexes("traces", errors="status error / errors only; recent failures"),
            Index(
                "ix_traces_trace_id",
                "trace_id",
                "a trace's spans; the trace list's per-trace aggregates and roots",
            ),
            Index(
                "ix_traces_duration_bucket",
                duration_bucket("duration_ms"),
                "the trace list's minimum duration when few spans are that slow",
            ),
        ),
        status_enum=TraceStatus,
        error_status=TraceStatus.ERROR.value,
        has_trace_id=True,
        has_duration=True,
    ),
    Table(
        kind="metrics",
        name="metrics",
        model=FlextMetric,
        extra=(("metric_type", "TEXT NOT NULL"), ("series", "TEXT"), ("value", "REAL")),
        encode_row=_metric_row,
        # `errors` never holds a row: errors only on metrics answers at once instead of scanning
        indexes=_common_indexes("metrics", errors="errors only (always empty)"),
    ),
    Table(
        kind="logs",
        name="logs",
        model=FlextLogEntry,
        extra=(("trace_id", "TEXT"), ("level", "TEXT NOT NULL"), ("level_rank", "INTEGER")),
        encode_row=_log_row,
        indexes=(
            *_common_indexes("logs", errors="level error or worse; errors only"),
            _traced("logs"),
            Index(
                "ix_logs_warnings",
                "timestamp",
                "level warning (only warnings and worse)",
                where=f"level_rank >= {_WARNING_RANK}",
            ),
        ),
        level_column="level_rank",
        level_enum=LogLevel,
        error_rank=_LOG_ERROR_RANK,
        warning_rank=_WARNING_RANK,
        has_trace_id=True,
    ),
    Table(
        kind="alerts",
        name="alerts",
        model=FlextAlert,
        extra=(
            ("trace_id", "TEXT"),
            ("severity", "TEXT NOT NULL"),
            ("severity_rank", "INTEGER NOT NULL"),
            ("status", "TEXT NOT NULL"),
            ("fingerprint", "TEXT NOT NULL"),
            ("recorded", "INTEGER"),
        ),
        encode_row=_alert_row,
        indexes=(
            *_common_indexes("alerts", errors="severity error or worse; errors only"),
            _traced("alerts"),
        ),
        level_column="severity_rank",
        level_enum=AlertSeverity,
        error_rank=_SEVERITY_ERROR_RANK,
        status_enum=AlertStatus,
        has_trace_id=True,
    ),
    Table(
        kind="health",
        name="health_checks",
        model=FlextHealthCheck,
        extra=(("status", "TEXT NOT NULL"), ("duration_ms", "REAL")),
        encode_row=_health_row,
        indexes=(
            *_common_indexes("health_checks", errors="errors only (unhealthy)"),
            Index("ix_health_checks_status", "status, timestamp", "the status filter"),
        ),
        status_enum=HealthStatus,
        has_duration=True,
    ),
)

KINDS: tuple[str, ...] = tuple(table.kind for table in TABLES)
"""The kinds `query()` accepts, in table order."""

_BY_KIND = {table.kind: table for table in TABLES} | {"health_checks": TABLES[-1]}
_BY_MODEL: dict[type[Any], Table] = {table.model: table for table in TABLES}


@functools.cache
def _rows_sql(one_row: str, count: int) -> str:
    head, _, marks = one_row.partition(" VALUES ")
    return f"{head} VALUES {', '.join([marks] * count)}"


def table_for(kind: str | type[Entity]) -> Table:
    """Return the table of a kind name or entity class; raise ValueError for anything else."""
    table = _BY_MODEL.get(kind) if isinstance(kind, type) else _BY_KIND.get(str(kind))
    if table is None:
        shown = kind.__name__ if isinstance(kind, type) else repr(kind)
        allowed = ", ".join(KINDS)
        msg = f"store kind: expected one of {allowed} (or an entity class), got {shown}"
        raise ValueError(msg)
    return table


def table_for_entity(entity: Entity) -> Table:
    """Return the table an entity is written to."""
    return _BY_MODEL[type(entity)]


def create_schema_sql() -> list[str]:
    """Return the statements that create every table and index (idempotent)."""
    statements: list[str] = []
    for table in TABLES:
        extra = "".join(f", {column} {sql_type}" for column, sql_type in table.extra)
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {table.name} ("
            "seq INTEGER PRIMARY KEY, id TEXT NOT NULL, timestamp INTEGER NOT NULL, "
            "service_name TEXT, name TEXT, is_error INTEGER NOT NULL, data TEXT NOT NULL"
            f"{extra})"
        )
        statements += [index.create_sql(table.name) for index in table.indexes]
    return statements


_ADDED_IN_2 = {"metrics": ("series", "value"), "alerts": ("recorded",)}
_DROPPED_IN_3 = (
    "ix_traces_duration_ms",  # → ix_traces_duration_bucket
    "ix_metrics_name_series_timestamp",  # no query filters by series
    "ix_logs_trace_id",  # → ix_logs_traced (partial)
    "ix_logs_level_rank",  # → ix_logs_warnings (partial); the planner walked time order anyway
    "ix_alerts_trace_id",  # → ix_alerts_traced (partial)
    "ix_alerts_fingerprint",  # no query filters by fingerprint
)


def migration_sql(version: int) -> list[str]:
    """Return the statements that upgrade a file of schema `version` to `SCHEMA_VERSION`.

    Version 1 → 2 adds nullable columns (the new metric columns are then filled from each row's
    JSON by the writer's backfill, in the same transaction); → 3 drops the indexes version 3 no
    longer has. Both end by creating every current index.
    """
    statements: list[str] = []
    if version < 2:  # noqa: PLR2004 - the version that added the columns
        for table in TABLES:
            types = dict(table.extra)
            statements += [
                f"ALTER TABLE {table.name} ADD COLUMN {column} {types[column]}"
                for column in _ADDED_IN_2.get(table.name, ())
            ]
    if version < 3:  # noqa: PLR2004 - the version that changed the indexes
        statements += [f"DROP INDEX IF EXISTS {name}" for name in _DROPPED_IN_3]
    for table in TABLES:
        statements += [index.create_sql(table.name) for index in table.indexes]
    return statements
