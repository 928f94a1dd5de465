"""`LogExportTap` exports what the SDK path (twin, batch processor, redacting exporter) did.

For every kind of record, byte for byte; its drops are counted; `setup()` wires it alone.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber, get_logger_provider
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from flext_observability import setup
from flext_observability._internal import providers as _providers
from flext_observability._internal.convert.stdlib import stdlib_record_to_entry
from flext_observability._internal.log_export import LogExportTap
from flext_observability._internal.pipeline import build_pipeline
from flext_observability.logs import EntityLogRecordProcessor, _has_other_processors, log_twin
from flext_observability.redaction import Redactor
from flext_observability.redaction._exporters import RedactingLogRecordExporter

RESOURCE = Resource.create({"service.name": "shop", "deployment.environment": "test"})
SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # a Stripe-shaped key: the redactor's canary

_TEXT = st.text(max_size=12)  # lone surrogates, controls, the empty string included
_KEYS = st.one_of(_TEXT, st.sampled_from(["password", "authorization", "url.full", ""]))
_VALUES = st.one_of(
    _TEXT,
    st.just(SECRET),
    st.just(f"https://user:{SECRET}@example.com/?token={SECRET}"),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.lists(_TEXT, max_size=3),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=3),
    st.none(),
    st.binary(max_size=4),
)
_LIMITS = st.sampled_from(
    [
        LogRecordLimits(),
        LogRecordLimits(max_attributes=2),
        LogRecordLimits(max_attribute_length=5),
        LogRecordLimits(max_attributes=0),
    ]
)


def _context(draw: st.DrawFn) -> Context:
    kind = draw(st.sampled_from(["none", "sampled", "unsampled", "remote"]))
    if kind == "none":
        return Context()
    flags = TraceFlags(TraceFlags.SAMPLED if kind != "unsampled" else TraceFlags.DEFAULT)
    span = SpanContext(
        draw(st.integers(min_value=1, max_value=2**128 - 1)),
        draw(st.integers(min_value=1, max_value=2**64 - 1)),
        is_remote=kind == "remote",
        trace_flags=flags,
    )
    return trace.set_span_in_context(NonRecordingSpan(span))


@st.composite
def _records(draw: st.DrawFn) -> tuple[logging.LogRecord, Context]:
    """A stdlib record as an application logs it: any level, message, arguments and extras."""
    level = draw(st.sampled_from([5, 10, 20, 25, 30, 40, 50, 60]))
    name = draw(st.one_of(st.sampled_from(["shop", "shop.orders", ""]), _TEXT))
    message = draw(st.one_of(_TEXT, st.just(f"paid with {SECRET}"), st.just("%s and %d")))
    args: tuple[Any, ...] = ("x", 1) if message == "%s and %d" else ()
    record = logging.LogRecord(name or "root", level, "app.py", 12, message, args, None)
    for key, value in draw(st.dictionaries(_KEYS, _VALUES, max_size=6)).items():
        if key and not key.startswith("__") and key not in record.__dict__:
            setattr(record, key, value)
    if draw(st.booleans()):
        try:
            raise ValueError(f"card {SECRET}")  # noqa: TRY301 - a real traceback
        except ValueError:
            record.exc_info = sys.exc_info()
    record.created = draw(st.floats(min_value=0, max_value=4e9))
    return record, _context(draw)


def _requests(records: list[ReadableLogRecord]) -> bytes:
    """The OTLP request the SDK encodes, with each record's observed time cleared."""
    request = encode_logs(records)
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            for log in scope_logs.log_records:
                log.observed_time_unix_nano = 0
    written: bytes = request.SerializeToString(deterministic=True)
    return written


def _memory() -> InMemoryLogRecordExporter:
    return InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # unannotated in the SDK


@given(records=st.lists(_records(), min_size=1, max_size=4), limits=_LIMITS)
@example(
    records=[(logging.LogRecord("shop", 20, "a.py", 1, SECRET, (), None), Context())],
    limits=LogRecordLimits(),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bridged_records_export_exactly_as_the_sdk_path_did(
    records: list[tuple[logging.LogRecord, Context]], limits: LogRecordLimits
) -> None:
    """The tap's requests equal the twin → SDK logger → redacting exporter path, byte for byte."""
    redactor = Redactor()
    old_memory, new_memory = _memory(), _memory()
    old = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False, log_record_limits=limits)
    old.add_log_record_processor(
        SimpleLogRecordProcessor(RedactingLogRecordExporter(old_memory, redactor=redactor))
    )
    new = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False, log_record_limits=limits)
    drops: list[tuple[int, str]] = []
    tap = LogExportTap(
        [new_memory], provider=new, redactor=redactor, on_drop=lambda n, r: drops.append((n, r))
    )
    twin = log_twin(old)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SDK's dropped-attributes warning, both paths
        for record, context in records:
            span = trace.get_current_span(context).get_span_context()
            entry = stdlib_record_to_entry(
                record, trace_id=span.trace_id, span_id=span.span_id, service_name="shop"
            )
            twin(record, context, entry)
            tap.bridged(record, context, entry)
        tap.end_batch()
        assert tap.flush(10)
    exported = list(new_memory.get_finished_logs())
    assert _requests(exported) == _requests(list(old_memory.get_finished_logs()))
    assert len(exported) == len(records)
    assert drops == []
    assert not any(SECRET in repr(r.log_record.body) for r in exported)
    assert not any(SECRET in repr(dict(r.log_record.attributes or {})) for r in exported)
    tap.shutdown(5)


@given(
    bodies=st.lists(st.one_of(_TEXT, st.just(SECRET), st.dictionaries(_KEYS, _VALUES)), max_size=4),
    attributes=st.dictionaries(_KEYS, _VALUES, max_size=5),
)
@settings(max_examples=100, deadline=None)
def test_api_records_export_exactly_as_a_batch_processor_did(
    bodies: list[Any], attributes: dict[str, Any]
) -> None:
    """A Logs API record reaches the tap's exporter as the redacting exporter would have sent it."""
    redactor = Redactor()
    old_memory, new_memory = _memory(), _memory()
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    tap = LogExportTap([new_memory], provider=provider, redactor=redactor, on_drop=print)
    pipeline = build_pipeline(log_export=tap)
    provider.add_log_record_processor(EntityLogRecordProcessor(pipeline, export=tap))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(RedactingLogRecordExporter(old_memory, redactor=redactor))
    )
    logger = provider.get_logger("shop.api", "1.2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for body in bodies:
            logger.emit(body=body, attributes=attributes, severity_number=SeverityNumber.WARN)
    assert provider.force_flush(10_000)
    old, new = list(old_memory.get_finished_logs()), list(new_memory.get_finished_logs())
    assert _requests(new) == _requests(old)
    assert len(new) == len(bodies)
    provider.shutdown()
    pipeline.shutdown(5)


def test_a_record_changed_after_emit_is_exported_as_it_was_emitted() -> None:
    """The processor snapshots on emit, as the batch processor did: later changes do not leak."""
    memory = _memory()
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    tap = LogExportTap([memory], provider=provider, redactor=Redactor(), on_drop=print)
    pipeline = build_pipeline(log_export=tap)
    provider.add_log_record_processor(EntityLogRecordProcessor(pipeline, export=tap))

    class Mutator(SimpleLogRecordProcessor):
        def on_emit(self, log_data: Any) -> None:
            log_data.log_record.body = "changed by a later processor"

    provider.add_log_record_processor(Mutator(_memory()))
    provider.get_logger("shop").emit(body="as emitted")
    assert provider.force_flush(10_000)
    assert [r.log_record.body for r in memory.get_finished_logs()] == ["as emitted"]
    provider.shutdown()
    pipeline.shutdown(5)


class _Blocked(LogRecordExporter):
    """An exporter stuck on the network until released."""

    def __init__(self) -> None:
        import threading  # noqa: PLC0415

        self.release = threading.Event()
        self.batches: list[int] = []

    def export(self, batch: Any) -> LogRecordExportResult:
        self.release.wait(10)
        self.batches.append(len(batch))
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        self.release.set()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _bridged(tap: LogExportTap, count: int) -> None:
    for index in range(count):
        record = logging.LogRecord("shop", 20, "a.py", 1, f"r{index}", (), None)
        tap.bridged(record, Context(), stdlib_record_to_entry(record))


def test_a_full_lane_drops_whole_batches_and_counts_them() -> None:
    """Beyond the lane's capacity records are dropped and counted, never blocking the worker."""
    blocked = _Blocked()
    drops: list[tuple[int, str]] = []
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    tap = LogExportTap(
        [blocked],
        provider=provider,
        redactor=Redactor(),
        on_drop=lambda n, r: drops.append((n, r)),
        max_queue=5,
    )
    _bridged(tap, 3)
    tap.end_batch()  # taken by the lane's thread, which now blocks in export
    for _ in range(3):
        _bridged(tap, 3)
        tap.end_batch()
    blocked.release.set()
    assert tap.flush(10)
    assert sum(blocked.batches) + sum(n for n, _ in drops) == 12
    assert drops
    assert {reason for _, reason in drops} == {"export_queue_full"}
    tap.shutdown(5)
    _bridged(tap, 2)
    tap.end_batch()
    assert drops[-1] == (2, "shutdown")


def test_a_record_that_cannot_be_redacted_is_dropped_and_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Never exported unscrubbed: a redaction failure drops that record only, counted."""
    memory = _memory()
    drops: list[tuple[int, str]] = []
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    tap = LogExportTap(
        [memory], provider=provider, redactor=Redactor(), on_drop=lambda n, r: drops.append((n, r))
    )
    real = Redactor.redact_text

    def failing(self: Redactor, text: str) -> str:
        if "poison" in text:
            raise RuntimeError("boom")
        return real(self, text)

    monkeypatch.setattr(Redactor, "redact_text", failing)
    for message in ("fine", "poison pill", "fine too"):
        record = logging.LogRecord("shop", 20, "a.py", 1, message, (), None)
        tap.bridged(record, Context(), stdlib_record_to_entry(record))
    tap.end_batch()
    assert tap.flush(10)
    assert [r.log_record.body for r in memory.get_finished_logs()] == ["fine", "fine too"]
    assert drops == [(1, "redaction_error")]
    tap.shutdown(5)


@pytest.mark.usefixtures("clean_globals")
def test_setup_exports_logs_through_the_tap_once_even_with_an_app_processor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """setup() with a logs exporter: each record exported once, redacted, by the tap alone.

    No batch processor of ours is on the provider; a processor the application adds later also
    gets each record.
    """
    exported = _memory()
    monkeypatch.setattr(_providers, "build_log_exporters", lambda _settings: [exported])
    handle = setup(service_name="shop", store_path=tmp_path / "t.db")
    provider = get_logger_provider()
    assert isinstance(provider, LoggerProvider)
    assert not _has_other_processors(provider)  # ours only: no twin needed
    logging.getLogger("shop.tap").warning("first %s", SECRET)
    assert handle.force_flush(10)
    app = _memory()
    provider.add_log_record_processor(SimpleLogRecordProcessor(app))
    logging.getLogger("shop.tap").warning("second")
    provider.get_logger("shop.api").emit(body="from the api")
    assert handle.force_flush(10)
    bodies = [r.log_record.body for r in exported.get_finished_logs()]
    assert bodies == ["first [REDACTED]", "second", "from the api"]
    # the API record reaches it on emit, the bridged one from the worker
    assert sorted(str(r.log_record.body) for r in app.get_finished_logs()) == [
        "from the api",
        "second",
    ]
    assert handle.pipeline.dropped == {}


def test_a_disabled_provider_exports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """`OTEL_SDK_DISABLED=true`: `Logger.emit` would drop every record; so does the tap."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    memory = _memory()
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    tap = LogExportTap([memory], provider=provider, redactor=Redactor(), on_drop=print)
    _bridged(tap, 3)
    tap.end_batch()
    assert tap.flush(10)
    assert memory.get_finished_logs() == ()
    tap.shutdown(5)


def test_a_child_forked_mid_batch_does_not_export_the_parents_records() -> None:
    """Records the worker built before a fork are the parent's: the child's tap starts empty."""
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    tap = LogExportTap([_memory()], provider=provider, redactor=Redactor(), on_drop=print)
    _bridged(tap, 1)
    tap.end_batch()  # a batch already sent: the hook must clear the list pending now
    _bridged(tap, 2)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which reports by exit code
        os._exit(0 if not tap._pending else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(tap._pending) == 2
    tap.end_batch()
    tap.shutdown(5)


@pytest.mark.usefixtures("clean_globals")
@pytest.mark.parametrize("delay_ms", [None, "60000"])
def test_setup_honours_the_batch_schedule_delays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delay_ms: str | None
) -> None:
    """The batch schedule delays hold exports back, as in the SDK's batch processors.

    `OTEL_BSP_SCHEDULE_DELAY` / `OTEL_BLRP_SCHEDULE_DELAY`; unset, what the pipeline hands over
    is exported as it comes.
    """
    logs, spans = _memory(), InMemorySpanExporter()
    monkeypatch.setattr(_providers, "build_log_exporters", lambda _settings: [logs])
    monkeypatch.setattr(_providers, "build_span_exporters", lambda _settings: [spans])
    if delay_ms is not None:
        monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", delay_ms)
        monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", delay_ms)
    handle = setup(service_name="shop", store_path=tmp_path / "t.db")
    with trace.get_tracer("shop").start_as_current_span("checkout"):
        logging.getLogger("shop.delay").warning("in the span")
    assert handle.pipeline.flush(10)  # converted and handed to the lanes, not flushed
    time.sleep(0.5)
    held = delay_ms is not None
    assert (len(spans.get_finished_spans()), len(logs.get_finished_logs())) == (
        (0, 0) if held else (1, 1)
    )
    assert handle.force_flush(10)  # a flush does not wait for the delay
    assert (len(spans.get_finished_spans()), len(logs.get_finished_logs())) == (1, 1)
