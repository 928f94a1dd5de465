"""Per-span cost: our tracing pipeline vs the bare OpenTelemetry SDK (benchmarks 1 and 2).

Run: `.venv/bin/python benchmarks/bench_spans.py [--spans N] [--repeats R] [--sink store|memory]`.

Both sides are real SDK `TracerProvider`s exporting to a no-op exporter:

- bare: `BatchSpanProcessor(NoOpSpanExporter())`;
- ours: what `setup()` builds when it owns the provider: one `EntitySpanProcessor` whose
  pipeline (redaction on) redacts each batch once, hands it to the no-op exporter's lane
  (`SpanExportTap`) and delivers the same spans to a real sink (the SQLite store in a temp dir,
  or a `MemorySink`).

Each timed block creates N typical server spans (kind SERVER, 7 attributes at start, the status
code set on the span: 8 attributes) on the application thread, then flushes the provider. One
block yields three numbers:

- app-thread CPU per span: `time.thread_time_ns()` around the N spans. It counts only the CPU
  the application thread itself burns: not the time it waits for the GIL while the SDK's or our
  worker converts and exports, which is what the caller pays for instrumentation;
- app-thread wall per span: `perf_counter_ns()` around the same loop (includes GIL waits, so it
  also shows how much the workers steal from the caller on a busy process);
- total CPU per span: `time.process_time_ns()` (all threads) from the first span until the
  flush returns, so every conversion, redaction, sink write and export is counted.

N stays below both queues' capacities, and every block ends with a flush, so nothing is dropped
and each block starts with idle workers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from _bench_common import (
    SINK_KINDS,
    NoOpSpanExporter,
    Result,
    SinkFactory,
    interleaved,
    summarise,
    timed_block,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Tracer

from flext_observability._internal.export_lane import SpanExportTap
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability.processors import EntitySpanProcessor
from flext_observability.redaction import Redactor

RESOURCE = Resource.create({"service.name": "bench-api", "service.version": "1.0.0"})
ATTRIBUTES: dict[str, str | int] = {
    "http.request.method": "GET",
    "url.path": "/orders/12345",
    "url.scheme": "https",
    "http.route": "/orders/{order_id}",
    "server.address": "api.example.com",
    "client.address": "10.1.2.3",
    "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) bench/1.0",
}


def make_spans(tracer: Tracer, count: int) -> None:
    """Create `count` finished server spans with 8 attributes."""
    for _ in range(count):
        with tracer.start_as_current_span(
            "GET /orders/{order_id}", kind=SpanKind.SERVER, attributes=ATTRIBUTES
        ) as span:
            span.set_attribute("http.response.status_code", 200)


def bare_provider() -> TracerProvider:
    """TracerProvider + BatchSpanProcessor(no-op exporter)."""
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(NoOpSpanExporter()))
    return provider


def our_provider(sinks: SinkFactory) -> tuple[TracerProvider, Pipeline]:
    """One `EntitySpanProcessor` feeding the exporter (through its tap) and a sink."""
    redactor = Redactor()
    provider = TracerProvider(resource=RESOURCE, shutdown_on_exit=False)
    pipeline = build_pipeline(
        sinks=[sinks.make()], redact=redactor.redact_entity, service_name="bench-api"
    )
    tap = SpanExportTap([NoOpSpanExporter()], redactor=redactor, on_drop=lambda _n, _r: None)
    provider.add_span_processor(EntitySpanProcessor(pipeline, export=tap))
    return provider, pipeline


def _block(provider: TracerProvider, count: int) -> Callable[[], tuple[float, float, float]]:
    tracer = provider.get_tracer("bench")
    return timed_block(lambda: make_spans(tracer, count), provider.force_flush, count)


def run(spans: int = 2000, repeats: int = 15, sink: str = "store") -> list[Result]:
    """Measure both sides interleaved; return the app-thread CPU, wall and total CPU rows."""
    sinks = SinkFactory(sink)
    bare, (ours, pipeline) = bare_provider(), our_provider(sinks)
    try:
        make_spans(bare.get_tracer("warmup"), 300)  # warm up: lazy imports, caches, the store
        make_spans(ours.get_tracer("warmup"), 300)
        bare.force_flush()
        ours.force_flush()
        samples = interleaved(_block(bare, spans), _block(ours, spans), repeats)
    finally:
        bare.shutdown()
        ours.shutdown()
        pipeline.shutdown(30.0)  # closes the sink
        sinks.cleanup()
    extra = {"spans_per_block": spans, "sink": sink}
    return [
        summarise(
            samples,
            0,
            name=f"span, app-thread CPU ({sink})",
            measures="thread_time per span on the caller",
            unit="us/span",
            target=1.0,
            extra=extra,
        ),
        summarise(
            samples,
            1,
            name=f"span, app-thread wall ({sink})",
            measures="perf_counter per span on the caller (incl. GIL waits)",
            unit="us/span",
            extra=extra,
        ),
        summarise(
            samples,
            2,
            name=f"span, total CPU ({sink})",
            measures="process_time per span, all threads, incl. flush",
            unit="us/span",
            target=1.5,
            extra=extra,
        ),
    ]


def main() -> None:
    """Print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--sink", choices=SINK_KINDS, default="store")
    args = parser.parse_args()
    for row in run(args.spans, args.repeats, args.sink):
        print(f"{row.name:40} ours {row.ours:8.2f}  bare {row.bare:8.2f}  {row.ratio:5.2f}x")


if __name__ == "__main__":
    main()
