"""Per-span cost at 1 % sampling: every span measured before sampling vs the bare SDK.

Run: `.venv/bin/python benchmarks/bench_sampling.py [--spans N] [--repeats R] [--ratio R]`.

Both sides sample with `ParentBased(TraceIdRatioBased(ratio))` and export through a
`BatchSpanProcessor` to a no-op exporter:

- bare: the SDK alone. An unsampled span is a `NonRecordingSpan`: it costs almost nothing, and
  nothing at all is learnt from it.
- ours: what `setup()` builds: `RecordAllSampler` (an unsampled span is recorded, not exported),
  one `EntitySpanProcessor` into the pipeline (redaction on, a `MemorySink`) whose export tap
  hands the sampled and notable spans to the no-op exporter's lane (`SpanExportTap`), the
  derived metrics bound to a real `MeterProvider`
  (`flext.span.duration` is recorded on the pipeline worker for every span), and the runtime
  metrics' `LoopWatcher`.

Rows: app-thread CPU per span (what the caller pays), app-thread wall per span, and total CPU
per span (all threads, until the flush returns). The same typical server span as
`bench_spans` (kind SERVER, 8 attributes). The ratio is the price of seeing every span.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from _bench_common import NoOpSpanExporter, Result, interleaved, summarise, timed_block
from bench_spans import RESOURCE, make_spans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from flext_observability._internal.derived import DerivedMetrics, NoisePolicy, RecordAllSampler
from flext_observability._internal.export_lane import SpanExportTap
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability._internal.runtime_metrics import LoopWatcher
from flext_observability.processors import EntitySpanProcessor
from flext_observability.redaction import Redactor
from flext_observability.sinks import MemorySink


def bare_provider(ratio: float) -> TracerProvider:
    """The SDK's parent-based ratio sampler and a batch processor to a no-op exporter."""
    provider = TracerProvider(
        resource=RESOURCE,
        sampler=ParentBased(TraceIdRatioBased(ratio)),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(BatchSpanProcessor(NoOpSpanExporter()))
    return provider


def our_provider(ratio: float, meters: MeterProvider) -> tuple[TracerProvider, Pipeline]:
    """Every span recorded for the derived metrics and rules; sampled/notable ones exported.

    The processor only flushes the pipeline it shares: the caller shuts it down.
    """
    policy = NoisePolicy()
    derived = DerivedMetrics(policy)
    derived.bind(meters)
    redactor = Redactor()
    pipeline = build_pipeline(
        sinks=[MemorySink(max_items=20_000)],
        redact=redactor.redact_entity,
        service_name="bench-api",
        derived=derived,
    )
    provider = TracerProvider(
        resource=RESOURCE,
        sampler=RecordAllSampler(ParentBased(TraceIdRatioBased(ratio)), policy),
        shutdown_on_exit=False,
    )
    tap = SpanExportTap(
        [NoOpSpanExporter()],
        redactor=redactor,
        on_drop=lambda count, reason: pipeline.count_drop("span", reason, count),
    )
    provider.add_span_processor(EntitySpanProcessor(pipeline, notable=policy.notable, export=tap))
    provider.add_span_processor(LoopWatcher())  # runtime metrics: the event-loop probe
    return provider, pipeline


def _block(provider: TracerProvider, count: int) -> Callable[[], tuple[float, float, float]]:
    tracer = provider.get_tracer("bench")
    return timed_block(lambda: make_spans(tracer, count), provider.force_flush, count)


def run(spans: int = 2000, repeats: int = 15, ratio: float = 0.01) -> list[Result]:
    """Measure both sides interleaved; return the app-thread CPU, wall and total CPU rows."""
    meters = MeterProvider(metric_readers=[InMemoryMetricReader()], shutdown_on_exit=False)
    bare, (ours, pipeline) = bare_provider(ratio), our_provider(ratio, meters)
    try:
        make_spans(bare.get_tracer("warmup"), 300)
        make_spans(ours.get_tracer("warmup"), 300)
        bare.force_flush()
        ours.force_flush()
        samples = interleaved(_block(bare, spans), _block(ours, spans), repeats)
    finally:
        bare.shutdown()
        ours.shutdown()
        pipeline.shutdown(30.0)
        meters.shutdown()
    extra = {"spans_per_block": spans, "sampling_ratio": ratio}
    label = f"{ratio:.0%} sampled"
    return [
        summarise(
            samples,
            0,
            name=f"span {label}, app-thread CPU",
            measures="thread_time per span on the caller; ours records every span",
            unit="us/span",
            extra=extra,
        ),
        summarise(
            samples,
            1,
            name=f"span {label}, app-thread wall",
            measures="perf_counter per span on the caller (incl. GIL waits)",
            unit="us/span",
            extra=extra,
        ),
        summarise(
            samples,
            2,
            name=f"span {label}, total CPU",
            measures="process_time per span, all threads, incl. flush",
            unit="us/span",
            extra=extra,
        ),
    ]


def main() -> None:
    """Print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--ratio", type=float, default=0.01)
    args = parser.parse_args()
    for row in run(args.spans, args.repeats, args.ratio):
        print(f"{row.name:40} ours {row.ours:8.2f}  bare {row.bare:8.2f}  {row.ratio:5.2f}x")


if __name__ == "__main__":
    main()
