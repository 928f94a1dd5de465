"""The JSON API under `/api/`: the same entity JSON as the CLI's `--json` (`model_dump_json`).

Lists are JSON arrays of entities, newest first, at most `limit` (default 100, at most 1000);
when more exist, the `X-Next-Before` header holds the cursor to pass as `before=` for the next
page. Routes: `/api/traces` (spans matching the trace filters), `/api/traces/<trace_id>` (every
span of a trace, by start), `/api/logs`, `/api/metrics` (points; `name`, `service`, `since`),
`/api/alerts` (notifications, oldest first, as `flext-observability alerts --json`),
`/api/health` (latest result per check; `history=1`: every result, newest first), and
`/api/version` (the newest row id per kind, which the pages poll to update live).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from flext_observability.cli.ui._pages_traces import span_filter
from flext_observability.cli.ui._params import Params
from flext_observability.models import Entity, FlextHealthCheck
from flext_observability.sinks._store_browse import (
    Cursor,
    LogFilter,
    alerts_since,
    health_history,
    health_names,
    versions,
)
from flext_observability.sinks._store_query import decode_rows
from flext_observability.sinks._store_schema import table_for
from flext_observability.sinks._store_traces import trace_spans
from flext_observability.sinks.store import SQLiteStore

__all__ = ["dumps", "route", "version"]


def dumps(value: object) -> str:
    """Plain JSON for non-entity answers."""
    return json.dumps(value, ensure_ascii=False)


def entities_json(entities: Sequence[Entity]) -> str:
    """A JSON array of entities, each exactly its `model_dump_json()`."""
    return "[" + ",".join(entity.model_dump_json() for entity in entities) + "]"


def version(reader: SQLiteStore) -> dict[str, int]:
    """The newest row id per kind."""
    return versions(reader)


def _page(
    reader: SQLiteStore, table_kind: str, where: list[str], params: list[object], p: Params
) -> tuple[str, dict[str, str]]:
    limit = p.limit(100, 1000)
    before = p.cursor()
    if before is not None:
        where = [*where, "(timestamp < ? OR (timestamp = ? AND seq < ?))"]
        params = [*params, before.timestamp, before.timestamp, before.seq]
    table = table_for(table_kind)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    rows = reader.select(
        f"SELECT seq, data, timestamp FROM {table.name}{clause} "  # noqa: S608 - fixed identifiers
        "ORDER BY timestamp DESC, seq DESC LIMIT ?",
        [*params, limit + 1],
    )
    entities = decode_rows(table, [(seq, data) for seq, data, _ in rows[:limit]])
    headers: dict[str, str] = {}
    if len(rows) > limit:
        last = rows[limit - 1]
        headers["X-Next-Before"] = Cursor(last[2], last[0]).encode()
    return entities_json(entities), headers


def route(  # noqa: C901, PLR0911 - one branch per API
    reader: SQLiteStore, path: str, p: Params
) -> tuple[str, dict[str, str]] | None:
    """Answer an API path; None when there is no such API."""
    if path == "/api/traces":
        where, params = span_filter(p).sql()
        return _page(reader, "traces", where, params, p)
    if path.startswith("/api/traces/"):
        trace_id = path.removeprefix("/api/traces/").strip("/").lower()
        return entities_json(trace_spans(reader, trace_id)), {}
    if path == "/api/logs":
        where, params = LogFilter(
            level=p.choice("level", ("debug", "info", "warning", "warn", "error", "critical")),
            logger=p.text("logger"),
            text=p.text("q"),
            trace_id=p.hex_id("trace_id", 32),
            service=p.text("service"),
            since=p.moment("since"),
        ).sql()
        return _page(reader, "logs", where, params, p)
    if path == "/api/metrics":
        where, params = [], []
        for column, value in (("name", p.text("name")), ("service_name", p.text("service"))):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        since = p.moment("since")
        if since is not None:
            where.append("timestamp >= ?")
            params.append(since)
        return _page(reader, "metrics", where, params, p)
    if path == "/api/alerts":
        alerts = [alert for alert, _ in alerts_since(reader, since=p.moment("since"))]
        return entities_json(alerts), {}
    if path == "/api/health":
        if p.text("history"):
            return _page(reader, "health", [], [], p)
        latest: list[FlextHealthCheck] = []
        for name in health_names(reader):
            latest += health_history(reader, name, limit=1)
        return entities_json(latest), {}
    return None
