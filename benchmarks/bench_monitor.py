"""Overhead of `flext_monitor_function` relative to hand-written instrumentation.

Run: `.venv/bin/python benchmarks/bench_monitor.py [--calls N] [--repeats R]`.

Same SDK setup for every variant (TracerProvider + BatchSpanProcessor to a no-op exporter,
MeterProvider with a reader), measured interleaved in one process, several repeats; prints the
median per-call cost of each variant and the median of the per-repeat ratios:

- `decorated`: a no-op function under `@flext_monitor_function`;
- `span`: the same no-op inside `with tracer.start_as_current_span(name, attributes=...)`;
- `span+metrics`: `span` plus the two metric recordings the decorator makes, by hand.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from flext_observability.monitor import flext_monitor_function


class NoOpExporter(SpanExporter):
    """Accepts and discards every batch."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:  # noqa: ARG002
        """Discard."""
        return SpanExportResult.SUCCESS


def build_variants() -> dict[str, Callable[[], None]]:
    """Install the SDK globally and return the three callables to compare."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(NoOpExporter()))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))

    tracer = trace.get_tracer("bench")
    meter = metrics.get_meter("bench")
    duration = meter.create_histogram("bench.duration", unit="s")
    calls = meter.create_counter("bench.calls", unit="{call}")
    span_attrs = {"code.function.name": "bench.noop"}
    ok_attrs = {"code.function.name": "bench.noop", "outcome": "success"}

    @flext_monitor_function
    def decorated() -> None:
        return None

    def span_only() -> None:
        with tracer.start_as_current_span("noop", attributes=span_attrs):
            return

    def span_and_metrics() -> None:
        start = time.perf_counter_ns()
        with tracer.start_as_current_span("noop", attributes=span_attrs):
            pass
        duration.record((time.perf_counter_ns() - start) / 1e9, ok_attrs)
        calls.add(1, ok_attrs)

    return {"decorated": decorated, "span": span_only, "span+metrics": span_and_metrics}


def time_calls(fn: Callable[[], None], calls: int) -> float:
    """Return seconds per call over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def measure(calls: int = 5000, repeats: int = 15) -> dict[str, float]:
    """Measure interleaved; return median seconds per call per variant and the median ratios.

    Keys: each variant's name (seconds per call), `decorated/span` and `decorated/span+metrics`.
    Installs the SDK globally (`build_variants`) and shuts it down at the end.
    """
    variants = build_variants()
    for fn in variants.values():  # warm up (lazy instruments, caches)
        time_calls(fn, 500)
    per_call: dict[str, list[float]] = {name: [] for name in variants}
    ratio_span: list[float] = []
    ratio_metrics: list[float] = []
    for _ in range(repeats):
        for name, fn in variants.items():
            per_call[name].append(time_calls(fn, calls))
        ratio_span.append(per_call["decorated"][-1] / per_call["span"][-1])
        ratio_metrics.append(per_call["decorated"][-1] / per_call["span+metrics"][-1])
    trace.get_tracer_provider().shutdown()  # type: ignore[attr-defined]
    metrics.get_meter_provider().shutdown()  # type: ignore[attr-defined]
    result = {name: statistics.median(samples) for name, samples in per_call.items()}
    result["decorated/span"] = statistics.median(ratio_span)
    result["decorated/span+metrics"] = statistics.median(ratio_metrics)
    return result


def main() -> None:
    """Measure interleaved and print per-call costs and median ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    result = measure(args.calls, args.repeats)
    for name in ("decorated", "span", "span+metrics"):
        print(f"{name:>14}: {result[name] * 1e6:7.2f} us/call (median)")
    print(f"decorated / span         : {result['decorated/span']:.2f}x (median ratio)")
    print(f"decorated / span+metrics : {result['decorated/span+metrics']:.2f}x (median ratio)")


if __name__ == "__main__":
    main()
