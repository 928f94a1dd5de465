"""The embedded store's schema: one table per entity kind, the entity JSON plus indexed columns.

Every table has `seq` (insertion order), `id`, `timestamp` (UTC epoch nanoseconds, so it sorts
and compares as an integer), `service_name`, `name` (a span's `operation_name`, a log's
`logger_name`, otherwise the entity's `name`), `is_error` and `data` (the exact
`model_dump_json()`, which is what reads validate back). Kind-specific columns follow. The schema
version lives in `PRAGMA user_version`.

Version 2 (the viewer's) adds columns and indexes only, so a version 1 file is upgraded in place
by `migration_sql(1)` (and still readable without it): `metrics.series` (the point's tags as
canonical JSON, sorted keys: with `name` and `service_name` it identifies a series), `metrics.value`
(the value as a REAL, a histogram's sum) with an index on (name, series, timestamp) for charts,
and `alerts.recorded` (epoch ns when the notification was stored: an escalation keeps the
activation's `timestamp`, so this is when it happened).
"""

from __future__ import annotations

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
    TraceStatus,
)

__all__ = [
    "KINDS",
    "MIN_READ_VERSION",
    "SCHEMA_VERSION",
    "TABLES",
    "Table",
    "create_schema_sql",
    "migration_sql",
    "series_key",
    "table_for",
    "table_for_entity",
]

SCHEMA_VERSION = 2
MIN_READ_VERSION = 1
"""The oldest schema version readers accept (upgraded in place by the first writer)."""

_ERROR_SEVERITIES = frozenset({AlertSeverity.ERROR, AlertSeverity.CRITICAL})


_LOG_RANK = {member: rank for rank, member in enumerate(LogLevel)}
_SEVERITY_RANK = {member: rank for rank, member in enumerate(AlertSeverity)}


@dataclass(frozen=True, slots=True)
class Table:
    """How one entity kind is stored and filtered."""

    kind: str
    """The public kind name used by `query()` ("traces", "metrics", "logs", "alerts", "health")."""
    name: str
    """The SQL table name."""
    model: type[Entity]
    extra: tuple[tuple[str, str], ...]
    """Kind-specific columns as (name, SQL type), in `values()` order after the common ones."""
    values: Callable[[Any], tuple[object, ...]]
    """Entity → (name, is_error, *extra values)."""
    indexes: tuple[str, ...] = ()
    level_column: str | None = None
    level_enum: type[StrEnum] | None = None
    status_enum: type[StrEnum] | None = None
    has_trace_id: bool = False
    has_duration: bool = False
    records_time: bool = False
    """The last column is `recorded`: the store's clock at write time (epoch ns)."""

    insert_sql: str = field(init=False)
    """The parametrised INSERT for one row."""

    def __post_init__(self) -> None:
        """Build the INSERT statement once."""
        columns = ["id", "timestamp", "service_name", "name", "is_error", "data"]
        columns += [column for column, _ in self.extra]
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed identifiers
        object.__setattr__(self, "insert_sql", sql)  # frozen dataclass: set once, here

    def row(self, entity: Entity, now_ns: int = 0) -> tuple[object, ...]:
        """Return the INSERT parameters for `entity` (`now_ns`: the write time)."""
        name, is_error, *extra = self.values(entity)
        common = (entity.id, datetime_to_ns(entity.timestamp), entity.service_name, name, is_error)
        if self.records_time:
            extra.append(now_ns)
        return (*common, entity.model_dump_json(), *extra)


def series_key(tags: dict[str, Any]) -> str:
    """Return a metric point's tags as canonical JSON (sorted keys): its series identity."""
    return json.dumps(tags, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _trace_values(span: FlextTrace) -> tuple[object, ...]:
    return (
        span.operation_name,
        int(span.status is TraceStatus.ERROR),
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.status.value,
        span.duration_ms,
    )


def _metric_values(metric: FlextMetric) -> tuple[object, ...]:
    return (
        metric.name,
        0,
        metric.metric_type.value,
        series_key(metric.tags),
        float(metric.value),
    )


def _log_values(entry: FlextLogEntry) -> tuple[object, ...]:
    rank = _LOG_RANK[entry.level]
    is_error = int(rank >= _LOG_RANK[LogLevel.ERROR])
    return (entry.logger_name, is_error, entry.trace_id, entry.level.value, rank)


def _alert_values(alert: FlextAlert) -> tuple[object, ...]:
    return (
        alert.name,
        int(alert.severity in _ERROR_SEVERITIES),
        alert.trace_id,
        alert.severity.value,
        _SEVERITY_RANK[alert.severity],
        alert.status.value,
        alert.fingerprint,
    )


def _health_values(check: FlextHealthCheck) -> tuple[object, ...]:
    return (
        check.name,
        int(check.status is HealthStatus.UNHEALTHY),
        check.status.value,
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
        values=_trace_values,
        indexes=("trace_id", "duration_ms"),
        status_enum=TraceStatus,
        has_trace_id=True,
        has_duration=True,
    ),
    Table(
        kind="metrics",
        name="metrics",
        model=FlextMetric,
        extra=(("metric_type", "TEXT NOT NULL"), ("series", "TEXT"), ("value", "REAL")),
        values=_metric_values,
        indexes=("name, series, timestamp",),
    ),
    Table(
        kind="logs",
        name="logs",
        model=FlextLogEntry,
        extra=(("trace_id", "TEXT"), ("level", "TEXT NOT NULL"), ("level_rank", "INTEGER")),
        values=_log_values,
        indexes=("trace_id", "level_rank, timestamp"),
        level_column="level_rank",
        level_enum=LogLevel,
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
        values=_alert_values,
        indexes=("trace_id", "fingerprint"),
        records_time=True,
        level_column="severity_rank",
        level_enum=AlertSeverity,
        status_enum=AlertStatus,
        has_trace_id=True,
    ),
    Table(
        kind="health",
        name="health_checks",
        model=FlextHealthCheck,
        extra=(("status", "TEXT NOT NULL"), ("duration_ms", "REAL")),
        values=_health_values,
        indexes=("status, timestamp",),
        status_enum=HealthStatus,
        has_duration=True,
    ),
)

KINDS: tuple[str, ...] = tuple(table.kind for table in TABLES)
"""The kinds `query()` accepts, in table order."""

_BY_KIND = {table.kind: table for table in TABLES} | {"health_checks": TABLES[-1]}
_BY_MODEL: dict[type[Any], Table] = {table.model: table for table in TABLES}


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
        statements += _index_sql(table)
    return statements


def _index_name(columns_sql: str) -> str:
    parts = [part.strip() for part in columns_sql.split(",")]
    # Version 1 named an index by its first column; a second index on the same first column
    # (metrics: name, series, timestamp) takes the names of all its columns.
    if parts[0] == "name" and len(parts) > 2:  # noqa: PLR2004 - name, series, timestamp
        return "_".join(parts)
    return parts[0]


def _index_sql(table: Table) -> list[str]:
    columns = ("timestamp", "name, timestamp", "service_name, timestamp", *table.indexes)
    statements = [
        f"CREATE INDEX IF NOT EXISTS ix_{table.name}_{_index_name(columns_sql)} "
        f"ON {table.name} ({columns_sql})"
        for columns_sql in columns
    ]
    statements.append(
        f"CREATE INDEX IF NOT EXISTS ix_{table.name}_errors "
        f"ON {table.name} (timestamp) WHERE is_error = 1"
    )
    return statements


_ADDED_IN_2 = {"metrics": ("series", "value"), "alerts": ("recorded",)}


def migration_sql(version: int) -> list[str]:
    """Return the statements that upgrade a file of schema `version` to `SCHEMA_VERSION`.

    Version 1 → 2 adds nullable columns and indexes; the new metric columns are then filled from
    each row's JSON by `backfill_metric_rows` (run by the writer in the same transaction).
    """
    statements: list[str] = []
    if version < 2:  # noqa: PLR2004 - the version that added the columns
        for table in TABLES:
            types = dict(table.extra)
            statements += [
                f"ALTER TABLE {table.name} ADD COLUMN {column} {types[column]}"
                for column in _ADDED_IN_2.get(table.name, ())
            ]
            statements += _index_sql(table)
    return statements
