"""`log_record_to_entry`: real SDK log records become valid `FlextLogEntry` entities."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from opentelemetry import trace as trace_api
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordProcessor,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext

from _convert_strategies import attribute_maps, attribute_values
from flext_observability._internal.convert.logs import log_record_to_entry
from flext_observability._internal.convert.severity import level_from_severity
from flext_observability.models import ExceptionInfo, FlextLogEntry

T0 = 1_700_000_000_000_000_000
T0_DT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


@dataclass
class Collector(LogRecordProcessor):
    """Keeps what `on_emit` receives (a ReadWriteLogRecord in SDK 1.45)."""

    records: list[ReadWriteLogRecord] = field(default_factory=list[ReadWriteLogRecord])

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Keep the record."""
        self.records.append(log_record)

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return timeout_millis >= 0


@dataclass
class Pipeline:
    """A local logger provider feeding a collector and an in-memory exporter."""

    provider: LoggerProvider
    collector: Collector
    exporter: InMemoryLogRecordExporter


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    """A local provider (never the global one) with a collector and an exporter."""
    collector = Collector()
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]  # SDK lacks hints
    provider = LoggerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_log_record_processor(collector)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield Pipeline(provider, collector, exporter)
    provider.shutdown()


def _span_context() -> Any:
    span = NonRecordingSpan(SpanContext(trace_id=0xABC, span_id=0xDEF, is_remote=False))
    return trace_api.set_span_in_context(span)


@pytest.mark.usefixtures("flext_ids")
def test_record_with_exception_span_and_attributes(pipeline: Pipeline) -> None:
    """Every field maps; exception.* leave the context and form `exception`."""
    error = KeyError("sku-1")
    try:
        raise error
    except KeyError:
        pass
    logger = pipeline.provider.get_logger("shop.orders", "1.2")
    logger.emit(
        timestamp=T0,
        observed_timestamp=T0 + 5000,
        context=_span_context(),
        severity_number=SeverityNumber.WARN2,
        severity_text="WARN",
        body="stock low",
        attributes={
            "code.file.path": "shop/orders.py",
            "code.line.number": 42,
            "correlation_id": "req-7",
            "bad": "\ud800",
        },
        event_name="stock.low",
        exception=error,
    )
    stacktrace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    expected = {
        "timestamp": T0_DT,
        "service_name": "checkout",
        "level": "warning",
        "message": "stock low",
        "logger_name": "shop.orders",
        "context": {
            "code.file.path": "shop/orders.py",
            "code.line.number": 42,
            "bad": "\ufffd",
            "event.name": "stock.low",
        },
        "correlation_id": "req-7",
        "trace_id": f"{0xABC:032x}",
        "span_id": f"{0xDEF:016x}",
        "exception": {"type": "KeyError", "message": "'sku-1'", "stacktrace": stacktrace},
    }
    (emitted,) = pipeline.collector.records
    (exported,) = pipeline.exporter.get_finished_logs()
    assert log_record_to_entry(emitted).model_dump() == expected | {"id": "entity-0001"}
    assert log_record_to_entry(exported).model_dump() == expected | {"id": "entity-0002"}


@pytest.mark.parametrize(
    ("number", "text", "expected"),
    [
        (SeverityNumber.TRACE, None, "debug"),
        (SeverityNumber.DEBUG4, None, "debug"),
        (SeverityNumber.INFO, "ERROR", "info"),
        (SeverityNumber.INFO4, None, "info"),
        (SeverityNumber.WARN, None, "warning"),
        (SeverityNumber.ERROR3, None, "error"),
        (SeverityNumber.FATAL, None, "critical"),
        (SeverityNumber.FATAL4, None, "critical"),
        (SeverityNumber.UNSPECIFIED, "Warning", "warning"),
        (None, "fatal", "critical"),
        (None, "TRACE2", "debug"),
        (None, " error ", "error"),
        (None, "notice", "info"),
        (None, None, "info"),
        (99, None, "critical"),
    ],
)
def test_severity_mapping(number: object, text: str | None, expected: str) -> None:
    """The severity number wins; when unspecified the text decides; else info."""
    assert level_from_severity(number, text) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("as is", "as is"),
        (None, ""),
        ("", ""),
        (b"caf\xc3\xa9\xff", "caf\u00e9\ufffd"),
        (7, "7"),
        (True, "True"),
        ({"user": "ana", "n": [1, 2]}, '{"user": "ana", "n": [1, 2]}'),
        (["a", 1], '["a", 1]'),
    ],
)
def test_body_becomes_message(pipeline: Pipeline, body: Any, expected: str) -> None:
    """Strings stay, None is empty, bytes decode, other values render as JSON-ish text."""
    pipeline.provider.get_logger("s").emit(body=body, severity_number=SeverityNumber.INFO)
    (record,) = pipeline.collector.records
    assert log_record_to_entry(record).message == expected


@pytest.mark.usefixtures("flext_ids")
def test_minimal_record_defaults(pipeline: Pipeline) -> None:
    """No span, no timestamp, no scope name: ids None, observed time used, name from attribute."""
    pipeline.provider.get_logger("").emit(
        LogRecord(observed_timestamp=T0, body="hi", attributes={"logger.name": "legacy"})
    )
    (record,) = pipeline.collector.records
    entry = log_record_to_entry(record)
    assert entry.model_dump() == {
        "id": "entity-0001",
        "timestamp": T0_DT,
        "service_name": "checkout",
        "level": "info",
        "message": "hi",
        "logger_name": "legacy",
        "context": {"logger.name": "legacy"},
        "correlation_id": None,
        "trace_id": None,
        "span_id": None,
        "exception": None,
    }


def test_exception_attributes_without_exception_object() -> None:
    """exception.* attributes alone form `exception` and all leave the context."""
    record = ReadableLogRecord(
        LogRecord(
            timestamp=T0 + 1000,
            body="x",
            attributes={"exception.message": "boom", "exception.escaped": True},
        ),
        resource=Resource.get_empty(),
        instrumentation_scope=InstrumentationScope("s"),
    )
    entry = log_record_to_entry(record)
    assert (entry.exception, entry.context, entry.timestamp, entry.service_name) == (
        ExceptionInfo(type="", message="boom", stacktrace=""),
        {},
        T0_DT + timedelta(microseconds=1),
        None,
    )


def test_unforeseen_failure_gives_a_placeholder_entry() -> None:
    """A record object that breaks conversion still yields an entry saying so."""
    record = ReadableLogRecord(None, resource=Resource.get_empty())  # type: ignore[arg-type]
    entry = log_record_to_entry(record)
    assert (entry.message, entry.level) == (
        "<log record conversion failed: AttributeError>",
        "info",
    )


@settings(max_examples=80, deadline=None)
@given(body=attribute_values(), attributes=attribute_maps(), severity_text=attribute_values())
def test_hostile_records_always_give_valid_round_tripping_entries(
    body: Any, attributes: dict[Any, Any], severity_text: Any
) -> None:
    """Whatever the body and attributes, the entry validates and JSON round-trips."""
    log = LogRecord(timestamp=T0, body=body, attributes=attributes, severity_text=severity_text)
    record = ReadableLogRecord(log, resource=Resource({"service.name": "\udc80"}))
    entry = log_record_to_entry(record)
    assert not entry.message.startswith("<log record conversion failed")
    assert FlextLogEntry.model_validate_json(entry.model_dump_json()) == entry


def test_exception_object_without_attributes() -> None:
    """A record carrying only the exception object still gets `exception`."""
    error = ValueError("bad")
    record = ReadableLogRecord(
        LogRecord(timestamp=T0, body="x", exception=error), resource=Resource.get_empty()
    )
    assert log_record_to_entry(record).exception == ExceptionInfo(
        type="ValueError", message="bad", stacktrace="ValueError: bad\n"
    )
