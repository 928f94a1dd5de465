"""Write cost of the embedded SQLite store, batches of 500: CPU µs per stored row, per kind.

Each run writes `ROWS` distinct entities per kind into a fresh file, shaped like what
`bench_service`'s Flask service stores: timestamps increasing as in a live process, a server span
(ten attributes) and its child per random trace id, durations spread over three decades, log
entries correlated with the trace.
For each kind prints the CPU time per row of a store write (`SQLiteStore.write`: building the
rows, the inserts and the commit), of building the rows alone (`Table.row`: the `data` JSON and
the indexed columns), of `model_dump_json` alone, the entities/s, the mean `data` size, and the
ratio store write / `model_dump_json` (how much the store adds on top of encoding the JSON).
CPU time is `time.process_time` (every thread of the process); each figure is the median of
`REPEATS` runs (`measure()` takes smaller numbers for the smoke test).
`--prefill N` writes N older rows of each kind first: the cost of a long-running process's
file, where indexes no longer fit in SQLite's page cache and a random insert position costs a
page write per row.
"busy rows/s" writes (up to 5,000 of) the same rows while another Python thread runs without
pause, as a busy application thread does: the sqlite3 module releases the GIL around every
statement step, and the busy thread then keeps it for a switch interval (5 ms) each time, so
this column shows how many statements a batch costs (one per row: about 200 rows/s).
Run: `.venv/bin/python benchmarks/bench_store.py [--prefill N] [--kinds traces,logs]`.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flext_observability.models import (
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.models._types import HealthStatus, MetricType
from flext_observability.sinks import Entity, SQLiteStore
from flext_observability.sinks._store_schema import table_for_entity

BATCH = 500
ROWS = 20_000
REPEATS = 5
T0 = datetime(2024, 1, 1, tzinfo=UTC)
SPANS_PER_TRACE = 2


def _at(i: int, t0: datetime = T0) -> datetime:
    return t0 + timedelta(milliseconds=i)


def _trace_id(i: int) -> str:
    """A random-looking id (as real trace ids are: inserts land all over the trace_id index)."""
    return hashlib.blake2b(str(i // SPANS_PER_TRACE).encode(), digest_size=16).hexdigest()


_SERVER_ATTRIBUTES = {
    "http.request.method": "GET",
    "url.scheme": "http",
    "server.address": "localhost",
    "server.port": 80,
    "client.address": "127.0.0.1",
    "user_agent.original": "Werkzeug/3.1.9",
    "network.protocol.version": "1.1",
    "http.route": "/orders/<int:order_id>",
    "http.response.status_code": 200,
}


def _span_id(i: int) -> str:
    return hashlib.blake2b(str(i).encode(), digest_size=8).hexdigest()


def _duration_ms(i: int, *, root: bool) -> float:
    """Log-uniform, as real latencies spread: 0.2 ms to 200 ms for a request, less for a child."""
    spread = int(_span_id(i)[:4], 16) / 0xFFFF
    return round((0.2 if root else 0.01) * math.pow(1000, spread), 3)


def _span(i: int, t0: datetime = T0) -> Entity:
    """Alternately a Flask server span and its manual child (what `bench_service` stores)."""
    root = i % 2 == 0
    return FlextTrace.model_validate(
        {
            "trace_id": _trace_id(i),
            "span_id": _span_id(i),
            "parent_span_id": None if root else _span_id(i - 1),
            "operation_name": "GET /orders/<int:order_id>" if root else "load-order",
            "kind": "server" if root else "internal",
            "service_name": "bench-shop",
            "start_time": _at(i, t0),
            "duration_ms": _duration_ms(i, root=root),
            "attributes": (
                {**_SERVER_ATTRIBUTES, "url.path": f"/orders/{i}"}
                if root
                else {"order.id": i, "order.items": 3}
            ),
            "scope": "opentelemetry.instrumentation.flask" if root else "bench.shop",
        }
    )


def _log(i: int, t0: datetime = T0) -> Entity:
    return FlextLogEntry(
        timestamp=_at(i, t0),
        service_name="bench-shop",
        message=f"order {i} served",
        logger_name="bench.shop",
        context={
            "code.file.path": "/srv/app/shop.py",
            "code.function.name": "order",
            "code.line.number": 75,
            "thread.id": 140384666041216,
            "thread.name": "MainThread",
        },
        trace_id=_trace_id(i),
        span_id=_span_id(i),
    )


KINDS: dict[str, Callable[[int], Entity]] = {
    "traces": _span,
    "metrics": lambda i: FlextMetric(
        timestamp=_at(i),
        service_name="bench-shop",
        name="shop.orders",
        value=i,
        unit="{order}",
        tags={"route": f"/{i % 10}"},
        metric_type=MetricType.COUNTER,
    ),
    "logs": _log,
    "alerts": lambda i: FlextAlert(timestamp=_at(i), name="cpu", message=f"high {i}"),
    "health": lambda i: FlextHealthCheck(
        timestamp=_at(i), name="db", status=HealthStatus.HEALTHY, duration_ms=abs(i) / 100
    ),
}


def _encode(batch: list[Entity]) -> None:
    for entity in batch:
        entity.model_dump_json()


def _rows(batch: list[Entity]) -> None:
    for entity in batch:
        table_for_entity(entity).row(entity, 0)


@dataclass(frozen=True)
class StoreRow:
    """One kind's figures (CPU µs per row, medians over the repeats)."""

    kind: str
    store_us: float
    """`SQLiteStore.write`: rows, inserts, commit."""
    rows_us: float
    """`Table.row` alone: the `data` JSON and the indexed columns."""
    json_us: float
    """`model_dump_json` alone."""
    rows_per_s: float
    data_bytes: float
    busy_rows_per_s: float
    """Rows per wall-clock second of `SQLiteStore.write` next to a busy Python thread."""

    @property
    def ratio(self) -> float:
        """Store write / `model_dump_json` alone."""
        return self.store_us / self.json_us


@dataclass(frozen=True)
class _Plan:
    rows: int
    repeats: int


def _cpu_us_per_row(
    plan: _Plan, run: Callable[[int], Callable[[list[Entity]], None]], batches: list[list[Entity]]
) -> tuple[float, float]:
    """Median CPU µs per row over the repeats, and the rows per wall-clock second."""
    per_row: list[float] = []
    rates: list[float] = []
    for repeat in range(plan.repeats):
        action = run(repeat)
        wall = time.perf_counter()
        cpu = time.process_time()
        for batch in batches:
            action(batch)
        per_row.append((time.process_time() - cpu) / plan.rows * 1e6)
        rates.append(plan.rows / (time.perf_counter() - wall))
    return statistics.median(per_row), statistics.median(rates)


def _prefilled(tmp: Path, kind: str, make: Callable[[int], Entity], rows: int) -> Path:
    """A store file already holding `rows` entities of `kind`, older than the measured ones."""
    path = tmp / f"{kind}-prefilled.db"
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        store.maintain()
        for start in range(0, rows, 5000):
            store.write([make(i - rows) for i in range(start, min(rows, start + 5000))])
        assert store.dropped == {}
    return path


def write_history(path: Path, requests: int, *, end: datetime) -> None:
    """A store file holding what `bench_service`'s Flask service stores for `requests` requests.

    Per request its server span, the child span and one log entry (as `KINDS` makes them: a
    random trace id per request), one request per 2 ms up to `end`, in batches of 5,000 rows:
    the file of a process that has been serving for a while.
    """
    t0 = end - timedelta(milliseconds=SPANS_PER_TRACE * requests)
    per_batch = 5000 // (SPANS_PER_TRACE + 1)  # requests per batch: their spans and log entry
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        for first in range(0, requests, per_batch):
            last = min(requests, first + per_batch)
            spans = range(SPANS_PER_TRACE * first, SPANS_PER_TRACE * last)
            store.write(
                [_span(i, t0) for i in spans]
                + [_log(i, t0) for i in spans if i % SPANS_PER_TRACE == 0]
            )
        assert store.dropped == {}


def _fresh_store(tmp: Path, kind: str, template: Path | None) -> SQLiteStore:
    """A store with its schema created (and the prefill copied) before the measurement."""
    path = tmp / f"{kind}-measured.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if template is not None:
        shutil.copyfile(template, path)
    store = SQLiteStore(path, retention_hours=None, max_mb=None)
    store.maintain()  # opens the file and creates the schema outside the measurement
    return store


def _measure_store(
    plan: _Plan, tmp: Path, kind: str, template: Path | None, batches: list[list[Entity]]
) -> tuple[float, float]:
    """CPU µs per row and rows/s of `SQLiteStore.write`, each repeat into a fresh file."""
    stores: list[SQLiteStore] = []

    def store_writer(_repeat: int) -> Callable[[list[Entity]], None]:
        if stores:
            stores[-1].close()
        stores.append(_fresh_store(tmp, kind, template))
        return stores[-1].write

    result = _cpu_us_per_row(plan, store_writer, batches)
    stores[-1].close()
    assert all(store.dropped == {} and store.written == plan.rows for store in stores)
    return result


BUSY_ROWS = 5000


def _busy_rate(tmp: Path, kind: str, batches: list[list[Entity]]) -> float:
    """Rows per wall second of the store's writes while another thread keeps the GIL busy."""
    store = _fresh_store(tmp, kind, None)
    stop = threading.Event()

    def busy() -> None:
        count = 0
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=busy, name="busy-app")
    written = 0
    spinner.start()
    try:
        started = time.perf_counter()
        for batch in batches:
            if written >= BUSY_ROWS:
                break
            store.write(batch)
            written += len(batch)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        spinner.join()
        store.close()
    return written / elapsed


def measure(
    kinds: Sequence[str] = tuple(KINDS),
    *,
    rows: int = ROWS,
    repeats: int = REPEATS,
    prefill: int = 0,
) -> list[StoreRow]:
    """Measure each kind: `rows` entities per run, `repeats` runs, into stores of `prefill` rows."""
    plan = _Plan(rows, repeats)
    results: list[StoreRow] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            make = KINDS[kind]
            template = _prefilled(Path(tmp), kind, make, prefill) if prefill else None
            entities = [make(i) for i in range(rows)]
            batches = [entities[i : i + BATCH] for i in range(0, rows, BATCH)]
            data_bytes = statistics.mean(
                len(str(table_for_entity(entity).row(entity, 0)[5])) for entity in entities
            )
            stored, rate = _measure_store(plan, Path(tmp), kind, template, batches)
            built, _ = _cpu_us_per_row(plan, lambda _: _rows, batches)
            encoded, _ = _cpu_us_per_row(plan, lambda _: _encode, batches)
            busy = _busy_rate(Path(tmp), kind, batches)
            results.append(StoreRow(kind, stored, built, encoded, rate, data_bytes, busy))
    return results


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--prefill",
        type=int,
        default=0,
        help="rows of each kind already in the store (a long-running process's file)",
    )
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds")
    args = parser.parse_args()
    print(
        f"{'kind':8s} {'store µs/row':>13s} {'rows µs':>8s} {'JSON µs':>8s} {'rows/s':>9s} "
        f"{'data B':>7s} {'store/JSON':>10s} {'busy rows/s':>12s}"
        + (f"   (into a store of {args.prefill:,} rows)" if args.prefill else "")
    )
    for row in measure(args.kinds.split(","), prefill=args.prefill):
        print(
            f"{row.kind:8s} {row.store_us:13.1f} {row.rows_us:8.1f} {row.json_us:8.1f} "
            f"{row.rows_per_s:9,.0f} {row.data_bytes:7.0f} {row.ratio:10.2f} "
            f"{row.busy_rows_per_s:12,.0f}"
        )


if __name__ == "__main__":
    main()
