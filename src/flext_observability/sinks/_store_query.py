"""The embedded store's read side: filters → SQL, rows → validated entities.

Filter semantics (documented for the CLI):

- `since` is inclusive and `until` exclusive, compared with the entity's `timestamp` (a span's
  start); naive datetimes are taken as UTC.
- `name` matches a span's `operation_name`, a log's `logger_name`, otherwise the entity's `name`;
  a value containing `*`, `?` or `[` is a glob (SQLite GLOB, case-sensitive), else exact.
- `service` matches `service_name` exactly; `trace_id` applies to traces, logs and alerts.
- `level` means "at or above": log level for logs, severity for alerts (`warn`/`fatal` accepted).
- `status` is exact: span status for traces, alert status, health status.
- `errors_only`: spans with status `error`, logs at `error` or above, alerts of severity `error`
  or `critical`, health checks `unhealthy` (metrics never match).
- `order_by="duration"` (traces and health only) sorts entries without a duration last.

A filter that does not apply to the kind raises `ValueError` naming the filter and the kinds it
applies to; so do an unknown kind, order or a negative limit.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Literal

from flext_observability._internal.time import datetime_to_ns
from flext_observability.exceptions import StoreError
from flext_observability.models import Entity
from flext_observability.models._types import LogLevel, level_before, normalize_enum
from flext_observability.sinks._store_schema import TABLES, Table

__all__ = ["Order", "OrderBy", "build_query", "decode_rows"]

Order = Literal["asc", "desc"]
OrderBy = Literal["timestamp", "duration"]
_GLOB_CHARS = frozenset("*?[")


def _kinds_with(flag: str) -> str:
    return ", ".join(table.kind for table in TABLES if getattr(table, flag))


def _not_applicable(what: str, table: Table, flag: str) -> ValueError:
    return ValueError(
        f"store query: the {what} filter does not apply to {table.kind} "
        f"(it applies to: {_kinds_with(flag)})"
    )


def _level_rank(table: Table, level: object) -> int:
    enum = table.level_enum
    if enum is None:
        raise _not_applicable("level", table, "level_enum")
    if enum is LogLevel:
        member = level_before(level)
    else:
        member = normalize_enum(level, enum, "store query: invalid level")
    return list(enum).index(member)  # type: ignore[arg-type]  # member is an enum member


def _order_sql(table: Table, order: str, order_by: str) -> str:
    if order not in {"asc", "desc"}:
        msg = f"store query: order must be 'asc' or 'desc', got {order!r}"
        raise ValueError(msg)
    direction = order.upper()
    if order_by == "timestamp":
        return f"timestamp {direction}, seq {direction}"
    if order_by == "duration":
        if not table.has_duration:
            raise _not_applicable("order_by='duration'", table, "has_duration")
        return f"duration_ms IS NULL, duration_ms {direction}, seq {direction}"
    msg = f"store query: order_by must be 'timestamp' or 'duration', got {order_by!r}"
    raise ValueError(msg)


def build_query(  # noqa: C901, PLR0912 - one branch per documented filter
    table: Table,
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
) -> tuple[str, list[object]]:
    """Return the SELECT (of the `data` column) and its parameters for the given filters."""
    where: list[str] = []
    params: list[object] = []
    if since is not None:
        where.append("timestamp >= ?")
        params.append(datetime_to_ns(since))
    if until is not None:
        where.append("timestamp < ?")
        params.append(datetime_to_ns(until))
    if trace_id is not None:
        if not table.has_trace_id:
            raise _not_applicable("trace_id", table, "has_trace_id")
        where.append("trace_id = ?")
        params.append(trace_id.lower())
    if name is not None:
        where.append("name GLOB ?" if _GLOB_CHARS & set(name) else "name = ?")
        params.append(name)
    if service is not None:
        where.append("service_name = ?")
        params.append(service)
    if level is not None:
        terms, values = table.level_terms(_level_rank(table, level))
        where += terms
        params += values
    if status is not None:
        if table.status_enum is None:
            raise _not_applicable("status", table, "status_enum")
        member = normalize_enum(status, table.status_enum, "store query: invalid status")
        where.append("status = ?")
        params.append(str(member))
        if str(member) == table.error_status:
            where.append("is_error = 1")  # the partial errors index
    if errors_only:
        where.append("is_error = 1")
    order_sql = _order_sql(table, order, order_by)
    sql = f"SELECT seq, data FROM {table.name}"  # noqa: S608 - fixed identifiers, values bound
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order_sql}"
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            msg = f"store query: limit must be a non-negative integer or None, got {limit!r}"
            raise ValueError(msg)
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def decode_rows(table: Table, rows: list[sqlite3.Row] | list[tuple[int, str]]) -> list[Entity]:
    """Validate each stored JSON back into its entity; a row that does not is a `StoreError`."""
    entities: list[Entity] = []
    for seq, data in rows:
        try:
            entities.append(table.model.model_validate_json(data))
        except ValueError as exc:
            raise StoreError(
                f"the store's {table.name} row {seq} does not validate as "
                f"{table.model.__name__}: {exc}"
            ) from exc
    return entities
