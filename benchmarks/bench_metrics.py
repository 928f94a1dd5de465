"""Collecting 1,000 metric series: `EntityMetricReader` vs the SDK's own reader (benchmark 4).

Run: `.venv/bin/python benchmarks/bench_metrics.py [--series N] [--repeats R] [--sink ...]`.

Each side is a real `MeterProvider` with one counter that has N attribute sets (one series each,
3 attributes per set):

- bare: `InMemoryMetricReader.get_metrics_data()` (the SDK collects and returns `MetricsData`);
- ours: `EntityMetricReader.collect()` (the SDK collects and our exporter queues the
  `MetricsData`), then `pipeline.flush()`: the worker turns every data point into a `FlextMetric`,
  redacts it and writes it to the sink (the SQLite store in a temp dir, or a `MemorySink`).

Per block, both CPU (`process_time_ns`, all threads) and wall time (`perf_counter_ns`) of one full
collection, in milliseconds. The counter gets one more `add` per series before every block, so each
collection sees fresh values; with `changed=K` only the first K series get one (the others stay
as they were: ours skips them, see `_internal/metric_series.py`; the SDK still collects them all).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _bench_common import SINK_KINDS, Result, SinkFactory, interleaved, summarise
from opentelemetry.metrics import Counter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource

from flext_observability._internal.pipeline import build_pipeline
from flext_observability.readers import EntityMetricReader
from flext_observability.redaction import Redactor

RESOURCE = Resource.create({"service.name": "bench-api"})


def series_attributes(count: int) -> list[dict[str, str | int]]:
    """`count` distinct attribute sets shaped like HTTP server metric dimensions."""
    return [
        {"http.route": f"/items/{i % 50}", "http.response.status_code": 200 + i // 50, "shard": i}
        for i in range(count)
    ]


def _record(counter: Counter, attribute_sets: list[dict[str, str | int]]) -> None:
    for attributes in attribute_sets:
        counter.add(1, attributes)


def _block(collect: Callable[[], object], before: Callable[[], None]) -> Callable[[], list[float]]:
    def run() -> list[float]:
        before()
        cpu0 = time.process_time_ns()
        wall0 = time.perf_counter_ns()
        collect()
        wall1 = time.perf_counter_ns()
        cpu1 = time.process_time_ns()
        return [(cpu1 - cpu0) / 1e6, (wall1 - wall0) / 1e6]

    return run


def run(
    series: int = 1000, repeats: int = 15, sink: str = "store", changed: int | None = None
) -> list[Result]:
    """Measure both collections interleaved; return the CPU and wall rows.

    `changed`: how many series change between two collections (None: all of them).
    """
    attribute_sets = series_attributes(series)
    moving = attribute_sets if changed is None else attribute_sets[:changed]
    sinks = SinkFactory(sink)
    redactor = Redactor()
    pipeline = build_pipeline(
        sinks=[sinks.make()],
        redact=redactor.redact_entity,
        service_name="bench-api",
        batch_size=4096,
    )
    reader = EntityMetricReader(pipeline, interval_s=3600.0)  # collected only by hand here
    ours = MeterProvider(resource=RESOURCE, metric_readers=[reader], shutdown_on_exit=False)
    memory = InMemoryMetricReader()
    bare = MeterProvider(resource=RESOURCE, metric_readers=[memory], shutdown_on_exit=False)
    our_counter = ours.get_meter("bench").create_counter("http.server.requests")
    bare_counter = bare.get_meter("bench").create_counter("http.server.requests")

    def collect_ours() -> None:
        reader.collect()
        pipeline.flush(60.0)

    try:
        for _ in range(2):  # warm up: the first collection creates the series' storage
            _record(our_counter, attribute_sets)
            _record(bare_counter, attribute_sets)
            collect_ours()
            memory.get_metrics_data()
        samples = interleaved(
            _block(memory.get_metrics_data, lambda: _record(bare_counter, moving)),
            _block(collect_ours, lambda: _record(our_counter, moving)),
            repeats,
        )
    finally:
        ours.shutdown()
        bare.shutdown()
        pipeline.shutdown(30.0)
        sinks.cleanup()
    extra = {"series": series, "sink": sink, "changed": series if changed is None else changed}
    label = f"{series} series" if changed is None else f"{series} series, {changed} changed"
    return [
        summarise(
            samples,
            0,
            name=f"collect {label}, CPU ({sink})",
            measures="process_time per collection (ours: collect + convert + sink)",
            unit="ms",
            target=3.0 if changed is None else None,
            extra=extra,
        ),
        summarise(
            samples,
            1,
            name=f"collect {label}, wall ({sink})",
            measures="perf_counter per collection (ours: until pipeline.flush returns)",
            unit="ms",
            extra=extra,
        ),
    ]


def main() -> None:
    """Print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--sink", choices=SINK_KINDS, default="store")
    parser.add_argument("--changed", type=int, default=None, help="series changed per block")
    args = parser.parse_args()
    for row in run(args.series, args.repeats, args.sink, args.changed):
        print(f"{row.name:40} ours {row.ours:8.2f}  bare {row.bare:8.2f}  {row.ratio:5.2f}x")


if __name__ == "__main__":
    main()
