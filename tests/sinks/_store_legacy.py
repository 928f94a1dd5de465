"""Store files as schema versions 1 and 2 wrote them, for the upgrade and old-file read tests.

The DDL below is frozen: it is what those versions created, whatever the current schema says.
Rows hold the full `model_dump_json()` (what both versions stored in `data`); their indexed
columns mean what they still mean, so they come from the current `Table.row`. Version 1 had no
`metrics.series`, `metrics.value` or `alerts.recorded` and no series index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from flext_observability.models import Entity
from flext_observability.sinks._store_schema import table_for_entity

__all__ = ["V1_INDEXES", "V2_INDEXES", "write_legacy"]

_COMMON = (
    "seq INTEGER PRIMARY KEY, id TEXT NOT NULL, timestamp INTEGER NOT NULL, service_name TEXT, "
    "name TEXT, is_error INTEGER NOT NULL, data TEXT NOT NULL"
)
_TABLES_V1 = {
    "traces": "trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, "
    "status TEXT NOT NULL, duration_ms REAL",
    "metrics": "metric_type TEXT NOT NULL",
    "logs": "trace_id TEXT, level TEXT NOT NULL, level_rank INTEGER",
    "alerts": "trace_id TEXT, severity TEXT NOT NULL, severity_rank INTEGER NOT NULL, "
    "status TEXT NOT NULL, fingerprint TEXT NOT NULL",
    "health_checks": "status TEXT NOT NULL, duration_ms REAL",
}
_ADDED_IN_2 = {"metrics": ("series TEXT", "value REAL"), "alerts": ("recorded INTEGER",)}

V2_INDEXES = {
    "ix_traces_timestamp": "traces (timestamp)",
    "ix_traces_name": "traces (name, timestamp)",
    "ix_traces_service_name": "traces (service_name, timestamp)",
    "ix_traces_trace_id": "traces (trace_id)",
    "ix_traces_duration_ms": "traces (duration_ms)",
    "ix_traces_errors": "traces (timestamp) WHERE is_error = 1",
    "ix_metrics_timestamp": "metrics (timestamp)",
    "ix_metrics_name": "metrics (name, timestamp)",
    "ix_metrics_service_name": "metrics (service_name, timestamp)",
    "ix_metrics_name_series_timestamp": "metrics (name, series, timestamp)",
    "ix_metrics_errors": "metrics (timestamp) WHERE is_error = 1",
    "ix_logs_timestamp": "logs (timestamp)",
    "ix_logs_name": "logs (name, timestamp)",
    "ix_logs_service_name": "logs (service_name, timestamp)",
    "ix_logs_trace_id": "logs (trace_id)",
    "ix_logs_level_rank": "logs (level_rank, timestamp)",
    "ix_logs_errors": "logs (timestamp) WHERE is_error = 1",
    "ix_alerts_timestamp": "alerts (timestamp)",
    "ix_alerts_name": "alerts (name, timestamp)",
    "ix_alerts_service_name": "alerts (service_name, timestamp)",
    "ix_alerts_trace_id": "alerts (trace_id)",
    "ix_alerts_fingerprint": "alerts (fingerprint)",
    "ix_alerts_errors": "alerts (timestamp) WHERE is_error = 1",
    "ix_health_checks_timestamp": "health_checks (timestamp)",
    "ix_health_checks_name": "health_checks (name, timestamp)",
    "ix_health_checks_service_name": "health_checks (service_name, timestamp)",
    "ix_health_checks_status": "health_checks (status, timestamp)",
    "ix_health_checks_errors": "health_checks (timestamp) WHERE is_error = 1",
}
V1_INDEXES = {k: v for k, v in V2_INDEXES.items() if k != "ix_metrics_name_series_timestamp"}


def _schema(version: int) -> list[str]:
    tables = [
        f"CREATE TABLE {table} ({_COMMON}, {extra}"
        + ("".join(f", {column}" for column in _ADDED_IN_2.get(table, ())) if version > 1 else "")
        + ")"
        for table, extra in _TABLES_V1.items()
    ]
    indexes = V1_INDEXES if version == 1 else V2_INDEXES
    return [*tables, *(f"CREATE INDEX {name} ON {on}" for name, on in indexes.items())]


def write_legacy(path: Path, version: int, entities: Sequence[Entity], *, now_ns: int = 0) -> None:
    """Create `path` as schema `version` (1 or 2) wrote it, holding `entities`."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN")
        for statement in _schema(version):
            conn.execute(statement)
        for entity in entities:
            table = table_for_entity(entity)
            columns = ["id", "timestamp", "service_name", "name", "is_error", "data"]
            columns += [column for column, _ in table.extra]
            values = list(table.row(entity, now_ns))
            values[5] = entity.model_dump_json()  # versions 1 and 2 stored the full JSON
            row = dict(zip(columns, values, strict=True))
            if version == 1:
                for column in _ADDED_IN_2.get(table.name, ()):
                    del row[column.split()[0]]
            marks = ", ".join("?" for _ in row)
            conn.execute(
                f"INSERT INTO {table.name} ({', '.join(row)}) VALUES ({marks})",
                list(row.values()),
            )
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    finally:
        conn.close()
