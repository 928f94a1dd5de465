"""Smoke tests of `benchmarks/`: every benchmark runs with a tiny N and returns positive numbers.

No timing is asserted anywhere: only that the benchmarks still run against the current code and
produce the rows and the JSON report `make bench` relies on.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from flext_observability.testing import reset_opentelemetry_globals

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

pytestmark = pytest.mark.slow


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """The benchmark modules, importable as `run.py` imports them (benchmarks/ on sys.path)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    reset_opentelemetry_globals()
    names = (
        "bench_service",
        "bench_spans",
        "bench_sampling",
        "bench_logs",
        "bench_metrics",
        "bench_monitor",
        "bench_startup",
        "bench_store",
        "bench_ui",
        "run",
    )
    before = set(threading.enumerate())
    yield {name: importlib.import_module(name) for name in names}
    reset_opentelemetry_globals()  # bench_monitor installs global providers
    # A benchmark shuts down what it started: no worker of ours outlives it.
    left = [t.name for t in set(threading.enumerate()) - before if t.name.startswith("flext")]
    assert left == []


def _positive(row: Any) -> bool:
    values = (row.ours, row.bare, row.ratio)
    return all(math.isfinite(v) and v > 0 for v in values)


@pytest.mark.parametrize("sink", ["store", "memory"])
def test_span_benchmark_rows(bench: dict[str, ModuleType], sink: str) -> None:
    """The span benchmark yields its three rows with positive, finite numbers."""
    rows = bench["bench_spans"].run(spans=40, repeats=2, sink=sink)
    assert [(row.name, row.target, row.extra) for row in rows] == [
        (
            f"span, app-thread CPU ({sink})",
            1.0,
            {"repeats": 2, "spans_per_block": 40, "sink": sink},
        ),
        (
            f"span, app-thread wall ({sink})",
            None,
            {"repeats": 2, "spans_per_block": 40, "sink": sink},
        ),
        (f"span, total CPU ({sink})", 1.5, {"repeats": 2, "spans_per_block": 40, "sink": sink}),
    ]
    assert all(_positive(row) for row in rows)


def test_sampling_benchmark_rows(bench: dict[str, ModuleType]) -> None:
    """The 1 %-sampling benchmark yields its three informational rows, positive and finite."""
    rows = bench["bench_sampling"].run(spans=40, repeats=2, ratio=0.01)
    assert [(row.name, row.target) for row in rows] == [
        ("span 1% sampled, app-thread CPU", None),
        ("span 1% sampled, app-thread wall", None),
        ("span 1% sampled, total CPU", None),
    ]
    assert all(_positive(row) for row in rows)


def test_log_benchmark_rows(bench: dict[str, ModuleType]) -> None:
    """The logging benchmark yields its three rows with positive, finite numbers."""
    rows = bench["bench_logs"].run(records=40, repeats=2, sink="memory")
    assert [(row.name, row.target) for row in rows] == [
        ("logger.info, app-thread CPU (memory)", 1.0),
        ("logger.info, app-thread wall (memory)", None),
        ("logger.info, total CPU (memory)", None),
    ]
    assert all(_positive(row) for row in rows)


def test_metric_benchmark_rows(bench: dict[str, ModuleType]) -> None:
    """The metric collection benchmark yields its CPU and wall rows, all or some series changed."""
    rows = bench["bench_metrics"].run(series=20, repeats=2, sink="store")
    assert [(row.name, row.target) for row in rows] == [
        ("collect 20 series, CPU (store)", 3.0),
        ("collect 20 series, wall (store)", None),
    ]
    assert all(_positive(row) for row in rows)
    some = bench["bench_metrics"].run(series=20, repeats=2, sink="memory", changed=5)
    assert [(row.name, row.target, row.extra["changed"]) for row in some] == [
        ("collect 20 series, 5 changed, CPU (memory)", None, 5),
        ("collect 20 series, 5 changed, wall (memory)", None, 5),
    ]
    assert all(_positive(row) for row in some)


def test_service_benchmark_rows(bench: dict[str, ModuleType]) -> None:
    """The Flask service benchmark runs all six configurations against rotel; stock is 1.0."""
    rows = bench["bench_service"].run(requests=20, rounds=1, blocks=1, history=300)
    assert [(row.extra["config"], row.target, row.extra["history"]) for row in rows] == [
        ("none", None, 0),
        ("floor", None, 0),
        ("stock", None, 0),
        ("ours-otlp", 1.10, 0),
        ("ours-otlp-full", 1.10, 300),
        ("ours-store", 0.80, 0),
    ]
    assert all(_positive(row) for row in rows)
    assert rows[2].ratio == 1.0
    # The CPU by thread: ours runs a pipeline worker, the stock distro its batch processors,
    # the floor neither.
    # (/proc counts CPU in clock ticks: a 20-request block may show 0 for a light thread.)
    ours, stock, floor = rows[5].extra, rows[2].extra, rows[1].extra
    assert floor["pipeline_us"] == floor["sdk batch_us"] == 0
    assert ours["app_us"] > 0
    assert ours["pipeline_us"] >= 0
    assert stock["pipeline_us"] == 0
    assert bench["bench_service"].thread_breakdown(ours).startswith("app ")


def test_startup_benchmark_rows(bench: dict[str, ModuleType]) -> None:
    """Wall, CPU, peak RSS (target: stock + 6 MiB), then the floor's CPU and RSS."""
    rows = bench["bench_startup"].run(repeats=1)
    assert [row.unit for row in rows] == ["s", "s", "MiB", "s", "MiB"]
    assert [row.target for row in rows[3:]] == [None, None]
    assert all(_positive(row) for row in rows)
    rss = rows[2]
    assert rss.target == (rss.bare + 6.0) / rss.bare


def test_monitor_benchmark_measure(bench: dict[str, ModuleType]) -> None:
    """`bench_monitor.measure` returns every variant's cost and both ratios."""
    measured = bench["bench_monitor"].measure(calls=30, repeats=2)
    assert sorted(measured) == [
        "decorated",
        "decorated/span",
        "decorated/span+metrics",
        "span",
        "span+metrics",
    ]
    assert all(value > 0 for value in measured.values())


def test_ui_benchmark_renders_every_page(bench: dict[str, ModuleType]) -> None:
    """The viewer benchmark builds a small store and times each page, all answering 200."""
    rows = bench["bench_ui"].run(spans=2000, repeats=2)
    assert len(rows) == 12
    assert all(row.extra["status"] == 200 for row in rows)
    assert all(_positive(row) and row.bare == 300.0 and row.target == 1.0 for row in rows)


def test_run_writes_the_json_report(
    bench: dict[str, ModuleType],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run.py --quick --json PATH` prints the table and writes one result per row."""
    out = tmp_path / "results.json"
    monkeypatch.setattr(sys, "argv", ["run.py", "--quick", "--sinks", "memory", "--json", str(out)])
    bench["run"].main()
    report = json.loads(out.read_text(encoding="utf-8"))
    names = [result["name"] for result in report["results"]]
    assert names == [
        "flask request: no telemetry",
        "flask request: floor: same spans and measurements, nothing processed or exported",
        "flask request: stock opentelemetry-distro + OTLP/gRPC, logging handler on",
        "flask request: ours: same OTLP + store + rules",
        "flask request: ours: the same, its store holding earlier requests",
        "flask request: ours: store only (the default)",
        "span, app-thread CPU (memory)",
        "span, app-thread wall (memory)",
        "span, total CPU (memory)",
        "span 1% sampled, app-thread CPU",
        "span 1% sampled, app-thread wall",
        "span 1% sampled, total CPU",
        "logger.info, app-thread CPU (memory)",
        "logger.info, app-thread wall (memory)",
        "logger.info, total CPU (memory)",
        "collect 1000 series, CPU (memory)",
        "collect 1000 series, wall (memory)",
        "collect 1000 series, 100 changed, CPU (memory)",
        "collect 1000 series, 100 changed, wall (memory)",
        "span p99, collector black-holed vs live",
        "startup: opentelemetry-instrument python -c pass, wall",
        "startup: opentelemetry-instrument python -c pass, CPU",
        "startup: peak RSS",
        "startup floor: stock + import pydantic_settings, CPU",
        "startup floor: stock + import pydantic_settings, peak RSS",
        "@flext_monitor_function vs span",
        "@flext_monitor_function vs span+metrics",
        "ui render: traces list",
        "ui render: traces list, older page",
        "ui render: traces list, status=error",
        "ui render: traces list, service+min duration",
        "ui render: traces list, text search",
        "ui render: traces list, rare min duration",
        "ui render: traces list, text matching nothing",
        "ui render: traces list, text matching nothing, older",
        "ui render: trace page (10 spans)",
        "ui render: overview",
        "ui render: api/traces?limit=100",
        "ui render: api/traces, text matching nothing",
    ]
    for result in report["results"]:
        assert result["ours"] > 0
        assert result["bare"] > 0
        assert result["ratio"] > 0
        target = result["target"]
        assert result["passed"] == (None if target is None else result["ratio"] <= target)
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == [
        "benchmark",
        "ours",
        "bare",
        "unit",
        "ratio",
        "target",
        "mark",
    ]


def test_store_benchmark_rows(bench: dict[str, ModuleType]) -> None:
    """The store benchmark measures every kind, also into a prefilled file, in positive µs."""
    rows = bench["bench_store"].measure(rows=1000, repeats=1)
    assert [row.kind for row in rows] == ["traces", "metrics", "logs", "alerts", "health"]
    assert all(row.store_us > row.json_us > 0 and row.data_bytes > 100 for row in rows)
    assert all(row.busy_rows_per_s > 0 for row in rows)
    (prefilled,) = bench["bench_store"].measure(["logs"], rows=500, repeats=1, prefill=1000)
    assert prefilled.rows_per_s > 0


def test_service_history_store(bench: dict[str, ModuleType], tmp_path: Path) -> None:
    """`ours-otlp-full` starts from a copy of a store holding earlier requests; the others empty.

    The history is what the service stores per request (two spans of one trace and its log
    entry), one request per 2 ms, the newest at the given end.
    """
    from datetime import UTC, datetime  # noqa: PLC0415

    from flext_observability.sinks import SQLiteStore  # noqa: PLC0415

    end = datetime.now(UTC)
    template = tmp_path / "history.db"
    bench["bench_store"].write_history(template, 2500, end=end)
    with SQLiteStore(template, retention_hours=None, max_mb=None) as store:
        assert store.counts() == {
            "traces": 5000,
            "metrics": 0,
            "logs": 2500,
            "alerts": 0,
            "health": 0,
        }
        (oldest, newest, traces) = store.select(
            "SELECT min(timestamp), max(timestamp), count(DISTINCT trace_id) FROM traces"
        )[0]
        (logged,) = store.select(
            "SELECT count(*) FROM logs JOIN traces USING (trace_id) WHERE parent_span_id IS NULL"
        )[0]
    assert traces == 2500
    assert logged == 2500  # every log entry belongs to one stored request's trace
    end_ns = int(end.timestamp() * 1e6) * 1000
    assert end_ns - 5_000_000_000 <= oldest < newest <= end_ns
    workdir = tmp_path / "work"
    workdir.mkdir()
    for config in ("ours-otlp", "ours-otlp-full", "ours-store"):
        for suffix in ("", "-wal", "-shm"):  # what an earlier round left
            (workdir / f"{config}.db{suffix}").write_bytes(b"left over")
        bench["bench_service"]._reset_store(config, workdir, template)
        assert not (workdir / f"{config}.db-wal").exists()
        assert not (workdir / f"{config}.db-shm").exists()
    assert (workdir / "ours-otlp-full.db").read_bytes() == template.read_bytes()
    assert not (workdir / "ours-otlp.db").exists()
    assert not (workdir / "ours-store.db").exists()
