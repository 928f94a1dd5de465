"""Run every pipeline benchmark in one process and print one table of ratios (`make bench`).

Run: `.venv/bin/python benchmarks/run.py [--quick] [--json PATH] [--sinks store,memory]`.

Every row compares "ours" with the bare OpenTelemetry SDK measured in the same run, interleaved,
over several repeats; `ratio` is the median of the per-repeat ratios ours / bare. Targets are
informational: a missed one is marked, and the exit status is 0 anyway. What each row measures is
in the module docstrings of `bench_service`, `bench_spans`, `bench_sampling`, `bench_logs`,
`bench_metrics`, `bench_blackhole`, `bench_startup`, `bench_monitor` and `bench_ui` (whose rows
compare the viewer's server-side render time with its 300 ms budget). The `bench_service` rows
compare with the stock `opentelemetry-distro` ("bare" is the stock figure there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import bench_blackhole
import bench_logs
import bench_metrics
import bench_monitor
import bench_sampling
import bench_service
import bench_spans
import bench_startup
import bench_ui
from _bench_common import SINK_KINDS, Result


def _monitor(calls: int, repeats: int) -> list[Result]:
    """Benchmark 5: the decorator, from `bench_monitor` (its own SDK setup, installed globally)."""
    measured = bench_monitor.measure(calls, repeats)
    extra = {"calls_per_block": calls, "repeats": repeats}
    return [
        Result(
            name=f"@flext_monitor_function vs {bare}",
            measures=f"perf_counter per call, decorated no-op vs hand-written {bare}",
            unit="us/call",
            ours=measured["decorated"] * 1e6,
            bare=measured[bare] * 1e6,
            ratio=measured[f"decorated/{bare}"],
            extra=extra,
        )
        for bare in ("span", "span+metrics")
    ]


def run_all(*, quick: bool, sinks: tuple[str, ...]) -> list[Result]:
    """Run the benchmarks in order (the one that installs global providers last)."""
    scale = 0.2 if quick else 1.0
    repeats = 5 if quick else 15
    rows: list[Result] = bench_service.run(
        requests=300 if quick else 1000, rounds=3 if quick else 5, blocks=2 if quick else 3
    )
    for sink in sinks:
        rows += bench_spans.run(spans=int(2000 * scale), repeats=repeats, sink=sink)
    rows += bench_sampling.run(spans=int(2000 * scale), repeats=repeats)
    rows += bench_logs.run(records=int(2000 * scale), repeats=repeats, sink=sinks[0])
    rows += bench_metrics.run(series=1000, repeats=repeats, sink=sinks[0])
    rows += bench_metrics.run(series=1000, repeats=repeats, sink=sinks[0], changed=100)
    rows += bench_blackhole.run(repeats=1 if quick else 3, bursts=2 if quick else 8)
    rows += bench_startup.run(repeats=3 if quick else 7)
    rows += _monitor(calls=int(5000 * scale), repeats=repeats)
    rows += bench_ui.run(spans=100_000 if quick else 1_000_000, repeats=3 if quick else 7)
    return rows


def _mark(row: Result) -> str:
    return {None: "info", True: "PASS", False: "MISS"}[row.passed]


def print_table(rows: list[Result]) -> None:
    """Print benchmark, ours, bare, ratio, target and the pass mark."""
    width = max(len(row.name) for row in rows)
    print(f"{'benchmark':<{width}}  {'ours':>9}  {'bare':>9}  unit     ratio  target  mark")
    print("-" * (width + 50))
    for row in rows:
        target = f"<={row.target:.2f}" if row.target is not None else "-"
        print(
            f"{row.name:<{width}}  {row.ours:9.2f}  {row.bare:9.2f}  {row.unit:<7} "
            f"{row.ratio:5.2f}x  {target:>6}  {_mark(row)}"
        )
    print()
    for row in rows:
        print(f"- {row.name}: {row.measures}")
        if row.name.startswith("flask request"):
            print(f"  CPU us/request by thread: {bench_service.thread_breakdown(row.extra)}")
            if row.extra.get("dropped"):
                print(f"  dropped by our pipeline: {row.extra['dropped']:.0f} items")


def main() -> None:
    """Run everything, print the table, optionally write JSON; always exit 0."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller blocks, 5 repeats")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument(
        "--sinks",
        default="store,memory",
        help="comma-separated sinks for the span rows (the first also for logs and metrics)",
    )
    args = parser.parse_args()
    sinks = tuple(name.strip() for name in args.sinks.split(",") if name.strip())
    if not sinks or any(name not in SINK_KINDS for name in sinks):
        parser.error(f"--sinks: expected names from {SINK_KINDS}, got {args.sinks!r}")

    started = time.perf_counter()
    rows = run_all(quick=args.quick, sinks=sinks)
    elapsed = time.perf_counter() - started
    print_table(rows)
    print(f"\n{len(rows)} rows in {elapsed:.1f} s on {os.cpu_count()} CPUs, Python {sys.version}")
    if args.json is not None:
        report: dict[str, Any] = {
            "python": sys.version,
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "seconds": round(elapsed, 2),
            "quick": args.quick,
            "results": [row.as_dict() for row in rows],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
