"""Cost of the converters (µs per item) and their overhead over bare model validation.

Run: `.venv/bin/python benchmarks/bench_convert.py [--items N] [--repeats R]`.

Inputs are real SDK objects built once: a finished span with 10 attributes (str, int, float,
bool, a list) and one event; an SDK log record (body, 4 attributes, span ids) as
`LogRecordProcessor.on_emit` receives it; a stdlib `LogRecord` with one `extra` field. For each
converter it prints the median µs per item and the ratio to `model_validate` of the already
clean dict the converter builds (the part that is pydantic, not our sanitising).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flext_observability._internal.convert.logs import log_record_to_entry
from flext_observability._internal.convert.stdlib import stdlib_record_to_entry
from flext_observability._internal.convert.trace import span_to_trace
from flext_observability.models import FlextLogEntry, FlextTrace


class Keep(LogRecordProcessor):
    """Keeps the last record `on_emit` received."""

    record: ReadWriteLogRecord | None = None

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Keep the record."""
        self.record = log_record

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return timeout_millis >= 0


def _span() -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    attributes: dict[str, Any] = {
        "http.request.method": "POST",
        "http.route": "/orders/{id}",
        "http.response.status_code": 201,
        "url.scheme": "https",
        "server.address": "shop.example",
        "server.port": 443,
        "user_agent.original": "bench/1.0",
        "order.total": 99.5,
        "order.express": True,
        "order.skus": ["a-1", "b-2", "c-3"],
    }
    with provider.get_tracer("bench").start_as_current_span("POST /orders", attributes=attributes):
        trace_api.get_current_span().add_event("validated", {"items": 3})
    provider.shutdown()
    return exporter.get_finished_spans()[0]


def _log_record() -> ReadWriteLogRecord:
    keep = Keep()
    provider = LoggerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_log_record_processor(keep)
    tracer = TracerProvider().get_tracer("bench")
    with tracer.start_as_current_span("op"):
        provider.get_logger("bench.logs").emit(
            severity_number=SeverityNumber.INFO,
            body="order 17 placed",
            attributes={
                "code.file.path": "shop/orders.py",
                "code.line.number": 42,
                "order.id": 17,
                "correlation_id": "req-1",
            },
        )
    provider.shutdown()
    assert keep.record is not None
    return keep.record


def _stdlib_record() -> logging.LogRecord:
    return logging.getLogger("bench.std").makeRecord(
        "bench.std", logging.INFO, "/app/orders.py", 42, "order %s placed", (17,), None,
        "place", {"order.id": 17},
    )  # fmt: skip


def _per_item_us(fn: Callable[[], object], items: int) -> float:
    start = time.perf_counter()
    for _ in range(items):
        fn()
    return (time.perf_counter() - start) / items * 1e6


def main() -> None:
    """Measure every converter against the validation of its own output."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    span, log, record = _span(), _log_record(), _stdlib_record()
    span_dump = span_to_trace(span).model_dump()
    log_dump = log_record_to_entry(log).model_dump(exclude={"id"})
    std_dump = stdlib_record_to_entry(record, trace_id=1, span_id=1).model_dump(exclude={"id"})
    cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "span (10 attributes, 1 event)": (
            lambda: span_to_trace(span),
            lambda: FlextTrace.model_validate(span_dump),
        ),
        "OTel log record": (
            lambda: log_record_to_entry(log),
            lambda: FlextLogEntry.model_validate(log_dump),
        ),
        "stdlib log record": (
            lambda: stdlib_record_to_entry(record, trace_id=1, span_id=1),
            lambda: FlextLogEntry.model_validate(std_dump),
        ),
    }
    for name, (convert, validate) in cases.items():
        costs: list[float] = []
        ratios: list[float] = []
        for _ in range(args.repeats):
            converted = _per_item_us(convert, args.items)
            validated = _per_item_us(validate, args.items)
            costs.append(converted)
            ratios.append(converted / validated)
        print(
            f"{name:32s} {statistics.median(costs):7.1f} µs/item  "
            f"{statistics.median(ratios):4.2f}x bare model_validate"
        )


if __name__ == "__main__":
    main()
