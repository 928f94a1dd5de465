"""Insert throughput of the embedded SQLite store, batches of 500 (entities per second).

Prints entities/s per kind and the ratio of a store write to serialising the same batch with
`model_dump_json` alone (how much SQLite adds on top of the JSON encoding we must do anyway).
Run: `.venv/bin/python benchmarks/bench_store.py`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flext_observability.models import FlextAlert, FlextLogEntry, FlextMetric, FlextTrace
from flext_observability.sinks import Entity, SQLiteStore

BATCH = 500
SECONDS = 2.0
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _batch(make: Callable[[int], Entity]) -> list[Entity]:
    return [make(i) for i in range(BATCH)]


def _span(i: int) -> Entity:
    return FlextTrace.model_validate(
        {
            "operation_name": f"GET /item/{i % 20}",
            "service_name": "api",
            "start_time": T0 + timedelta(milliseconds=i),
            "duration_ms": 3.5,
            "status": "ok",
            "attributes": {"http.method": "GET", "http.status_code": 200},
        }
    )


KINDS: dict[str, Callable[[int], Entity]] = {
    "traces": _span,
    "metrics": lambda i: FlextMetric(name="requests_total", value=i, tags={"route": "/x"}),
    "logs": lambda i: FlextLogEntry(message=f"request {i} done", logger_name="app.web"),
    "alerts": lambda i: FlextAlert(name="cpu", message=f"high {i}"),
}


def _encode(batch: list[Entity]) -> None:
    for entity in batch:
        entity.model_dump_json()


def _rate(action: Callable[[], None]) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        action()
        done += BATCH
    return done / (time.perf_counter() - start)


def main() -> None:
    """Measure and print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        for kind, make in KINDS.items():
            batch = _batch(make)
            with SQLiteStore(Path(tmp) / f"{kind}.db", max_mb=None) as store:
                stored = _rate(lambda: store.write(batch))  # noqa: B023 - used in this iteration
                assert store.dropped == {}
            encoded = _rate(lambda: _encode(batch))  # noqa: B023 - used in this iteration
            print(
                f"{kind:8s} {stored:>10,.0f} entities/s   store/JSON-only time ratio "
                f"{encoded / stored:.2f}"
            )


if __name__ == "__main__":
    main()
