"""Server-side render time of the viewer on a big store (1,000,000 spans by default).

Builds the store quickly (rows generated as JSON text and bulk-inserted with `executemany`,
indexes built afterwards; 10 spans per trace, 1 % of traces failing, 4 services, spread over a
day), then times `UiApp.handle` (routing, queries, HTML) for the traces list, a filtered list,
an older page, one trace's waterfall, the overview and the JSON API: the median of several runs
after a warm-up. `ratio` is the median over the 300 ms budget (target: at most 1.0).
Run: `.venv/bin/python benchmarks/bench_ui.py [--spans N]`.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _bench_common import Result

from flext_observability.cli.ui._app import UiApp
from flext_observability.sinks import SQLiteStore
from flext_observability.sinks._store_schema import create_schema_sql, table_for

BUDGET_MS = 300.0
SPANS_PER_TRACE = 10
SERVICES = ("shop", "billing", "catalog", "auth")
HOST = {"host": "127.0.0.1:1"}
_NAMES = (
    "GET /checkout",
    "charge",
    "db.query",
    "render",
    "cache.get",
    "GET /products",
    "auth.verify",
    "queue.publish",
    "serialize",
    "http.client",
)
_TEMPLATE = (
    '{{"id":"{tid}-{sid}","timestamp":"{start}","service_name":"{svc}","trace_id":"{tid}",'
    '"span_id":"{sid}","parent_span_id":{parent},"operation_name":"{name}","kind":"{kind}",'
    '"start_time":"{start}","end_time":"{end}","duration_ms":{dur},"status":"{status}",'
    '"status_message":"{msg}","attributes":{{"http.route":"/r/{route}","n":{n}}},'
    '"context":{{}},"events":[],"scope":"bench"}}'
)


def _iso(micros: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )


def build_store(path: Path, spans: int) -> str:
    """Write `spans` spans; return the id of a failing trace (for the trace page)."""
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        store.maintain()  # opens the file: creates the schema
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    table = table_for("traces")
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'traces'"
    ).fetchall():
        conn.execute(f"DROP INDEX {name}")
    start_us = int((datetime.now(UTC) - timedelta(days=1)).timestamp() * 1e6)
    traces = max(1, spans // SPANS_PER_TRACE)
    step_us = max(1, 86_400_000_000 // traces)
    failing = ""
    conn.execute("BEGIN")
    batch: list[tuple[object, ...]] = []
    for t in range(traces):
        tid = f"{t + 1:032x}"
        base = start_us + t * step_us
        fails = t % 100 == 7
        if fails:
            failing = tid
        for s in range(SPANS_PER_TRACE):
            sid = f"{t * SPANS_PER_TRACE + s + 1:016x}"
            parent = None if s == 0 else f"{t * SPANS_PER_TRACE + (1 if s < 4 else 2):016x}"
            begin = base + s * 300
            dur = 20_000 - s * 1500 if s else 25_000 + (t % 50) * 1000
            status = "error" if fails and s in {0, 1} else "ok"
            svc = SERVICES[(t + (s > 3)) % len(SERVICES)]
            data = _TEMPLATE.format(
                tid=tid,
                sid=sid,
                start=_iso(begin),
                end=_iso(begin + dur),
                svc=svc,
                parent="null" if parent is None else f'"{parent}"',
                name=_NAMES[s],
                kind="server" if s == 0 else "internal",
                dur=dur / 1000,
                status=status,
                msg="declined" if status == "error" else "",
                route=t % 40,
                n=t,
            )
            batch.append(
                (
                    f"{tid}-{sid}",
                    begin * 1000,
                    svc,
                    _NAMES[s],
                    int(status == "error"),
                    data,
                    tid,
                    sid,
                    parent,
                    status,
                    dur / 1000,
                )
            )
        if len(batch) >= 50_000:
            conn.executemany(table.insert_sql, batch)
            batch.clear()
    conn.executemany(table.insert_sql, batch)
    conn.execute("COMMIT")
    for statement in create_schema_sql():
        if " ON traces " in statement:
            conn.execute(statement)
    conn.execute("ANALYZE")
    conn.close()
    return failing


def _time(app: UiApp, target: str, repeats: int) -> tuple[float, int]:
    app.handle("GET", target, HOST)  # warm-up (page cache, statement cache)
    samples = []
    status = 0
    for _ in range(repeats):
        began = time.perf_counter()
        response = app.handle("GET", target, HOST)
        samples.append((time.perf_counter() - began) * 1000)
        status = response.status
    return statistics.median(samples), status


def run(spans: int = 1_000_000, repeats: int = 7) -> list[Result]:
    """Build the store, time each page; one row per page (ms, against the 300 ms budget)."""
    with tempfile.TemporaryDirectory(prefix="flext-bench-ui-") as tmp:
        path = Path(tmp) / "big.db"
        began = time.perf_counter()
        failing = build_store(path, spans)
        build_s = time.perf_counter() - began
        app = UiApp(path, allowed_hosts=frozenset(HOST.values()))
        try:
            first = app.handle("GET", "/traces", HOST).body.decode()
            older = re.search(r'<a href="(/traces\?before=[^"]+)">Older', first)
            pages = {
                "traces list": "/traces",
                "traces list, older page": older.group(1).replace("&amp;", "&") if older else "",
                "traces list, status=error": "/traces?status=error",
                "traces list, service+min duration": "/traces?service=billing&min_ms=24",
                "traces list, text search": "/traces?q=declined",
                "traces list, rare min duration": "/traces?min_ms=74",
                "traces list, text matching nothing": "/traces?q=no-such-text",
                f"trace page ({SPANS_PER_TRACE} spans)": f"/traces/{failing}",
                "overview": "/",
                "api/traces?limit=100": "/api/traces?limit=100",
            }
            rows = []
            for name, target in pages.items():
                median, status = _time(app, target, repeats)
                rows.append(
                    Result(
                        name=f"ui render: {name}",
                        measures=f"median UiApp.handle({target.split('?')[0]}...) over "
                        f"{repeats} runs on {spans:,} spans, vs the {BUDGET_MS:.0f} ms budget "
                        f"(status {status})",
                        unit="ms",
                        ours=median,
                        bare=BUDGET_MS,
                        ratio=median / BUDGET_MS,
                        target=1.0,
                        extra={"spans": spans, "build_s": round(build_s, 1), "status": status},
                    )
                )
        finally:
            app.close()
    return rows


def main() -> None:
    """Print one line per page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    args = parser.parse_args()
    for row in run(args.spans):
        print(
            f"{row.name:45} {row.ours:8.1f} ms  ({row.ratio:.2f} of budget)  "
            f"build {row.extra['build_s']} s"
        )


if __name__ == "__main__":
    main()
