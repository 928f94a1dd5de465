"""`logger.info` cost: our logging bridge vs the stock OpenTelemetry handler (benchmark 3).

Run: `.venv/bin/python benchmarks/bench_logs.py [--records N] [--repeats R] [--sink store|memory]`.

Both sides log through a real stdlib logger (its own name, level INFO, no propagation) into a real
SDK `LoggerProvider` exporting to a no-op exporter:

- bare: `opentelemetry.instrumentation.logging.handler.LoggingHandler` (the handler that replaces
  the SDK's deprecated `LoggingHandler`), which translates the record to an OTel `LogRecord` and
  emits it on the calling thread;
- ours: `EntityLoggingHandler` on a pipeline (redaction on, a real sink) whose worker builds the
  `FlextLogEntry` and the record's export copy, redacts it and hands it to the no-op exporter's
  lane (`LogExportTap`); the provider carries `EntityLogRecordProcessor` with that tap, as
  `setup()` wires it (no batch processor on our side).

The record is `log.info("order %s processed in %d ms", "A-1234", 12)`. Per block: app-thread CPU
per call (`thread_time_ns` around the N calls), app-thread wall per call (`perf_counter_ns`),
and total CPU per call (`process_time_ns` until both the pipeline and the provider flushed).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable

from _bench_common import (
    SINK_KINDS,
    NoOpLogExporter,
    Result,
    SinkFactory,
    interleaved,
    summarise,
    timed_block,
)
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from flext_observability._internal.log_export import LogExportTap
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability.logs import EntityLoggingHandler, EntityLogRecordProcessor, log_twin
from flext_observability.redaction import Redactor

RESOURCE = Resource.create({"service.name": "bench-api"})


def log_calls(log: logging.Logger, count: int) -> None:
    """Log `count` INFO records with two arguments."""
    for _ in range(count):
        log.info("order %s processed in %d ms", "A-1234", 12)


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(name)
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


class Side:
    """One side of the comparison: its logger, how to flush it and how to close it."""

    def __init__(
        self,
        log: logging.Logger,
        provider: LoggerProvider,
        pipeline: Pipeline | None = None,
    ) -> None:
        """Keep what `flush` and `close` need."""
        self.log = log
        self.provider = provider
        self.pipeline = pipeline

    def flush(self) -> None:
        """Deliver everything logged so far (pipeline first: its worker feeds the export)."""
        if self.pipeline is not None:
            self.pipeline.flush(30.0)
        self.provider.force_flush()

    def close(self) -> None:
        """Detach the handler and shut everything down."""
        for handler in self.log.handlers:
            handler.close()
        self.log.handlers.clear()
        if self.pipeline is not None:
            self.pipeline.shutdown(30.0)
        self.provider.shutdown()


def bare_side() -> Side:
    """The stock OpenTelemetry handler on a batching provider."""
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_log_record_processor(BatchLogRecordProcessor(NoOpLogExporter()))
    handler = LoggingHandler(level=logging.INFO, logger_provider=provider)
    return Side(_logger("bench.bare", handler), provider)


def our_side(sinks: SinkFactory) -> Side:
    """`EntityLoggingHandler` on a pipeline that exports through its log tap, as `setup()` does."""
    redactor = Redactor()
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    tap = LogExportTap(
        [NoOpLogExporter()], provider=provider, redactor=redactor, on_drop=lambda _n, _r: None
    )
    pipeline = build_pipeline(
        sinks=[sinks.make()],
        redact=redactor.redact_entity,
        service_name="bench-api",
        log_twin=log_twin(provider),
        log_export=tap,
    )
    provider.add_log_record_processor(EntityLogRecordProcessor(pipeline, export=tap))
    handler = EntityLoggingHandler(pipeline, level=logging.INFO)
    return Side(_logger("bench.ours", handler), provider, pipeline)


def _block(side: Side, count: int) -> Callable[[], tuple[float, float, float]]:
    return timed_block(lambda: log_calls(side.log, count), side.flush, count)


def run(records: int = 2000, repeats: int = 15, sink: str = "store") -> list[Result]:
    """Measure both sides interleaved; return the app-thread CPU, wall and total CPU rows."""
    sinks = SinkFactory(sink)
    bare, ours = bare_side(), our_side(sinks)
    try:
        for side in (bare, ours):  # warm up
            log_calls(side.log, 300)
            side.flush()
        samples = interleaved(_block(bare, records), _block(ours, records), repeats)
    finally:
        bare.close()
        ours.close()
        sinks.cleanup()
    extra = {"records_per_block": records, "sink": sink}
    return [
        summarise(
            samples,
            0,
            name=f"logger.info, app-thread CPU ({sink})",
            measures="thread_time per call on the caller",
            unit="us/call",
            target=1.0,
            extra=extra,
        ),
        summarise(
            samples,
            1,
            name=f"logger.info, app-thread wall ({sink})",
            measures="perf_counter per call on the caller (incl. GIL waits)",
            unit="us/call",
            extra=extra,
        ),
        summarise(
            samples,
            2,
            name=f"logger.info, total CPU ({sink})",
            measures="process_time per call, all threads, incl. flush",
            unit="us/call",
            extra=extra,
        ),
    ]


def main() -> None:
    """Print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--sink", choices=SINK_KINDS, default="store")
    args = parser.parse_args()
    for row in run(args.records, args.repeats, args.sink):
        print(f"{row.name:44} ours {row.ours:8.2f}  bare {row.bare:8.2f}  {row.ratio:5.2f}x")


if __name__ == "__main__":
    main()
