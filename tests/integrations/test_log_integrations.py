"""structlog processor and loguru sink, in-process: ids, once, levels, exceptions, no setup."""

from __future__ import annotations

import io
import logging
from typing import Any

import structlog
from loguru import logger as loguru_logger
from opentelemetry import trace

from flext_observability.integrations import loguru as flext_loguru
from flext_observability.integrations import structlog as flext_structlog
from flext_observability.integrations._records import deliver
from flext_observability.models import FlextLogEntry
from flext_observability.testing import Capture


def _structlog_logger(stream: io.StringIO) -> Any:
    return structlog.wrap_logger(
        structlog.PrintLogger(stream),
        processors=[
            structlog.processors.add_log_level,
            flext_structlog.add_trace_context,
            flext_structlog.FlextStructlogProcessor(),
            structlog.processors.KeyValueRenderer(key_order=["event", "trace_id"]),
        ],
    )


def _entries(capture: Capture, text: str) -> list[FlextLogEntry]:
    capture.flush()
    return [e for e in capture.log_entries if text in e.message]


def test_structlog_events_carry_the_span_ids_and_arrive_once(flext_capture: Capture) -> None:
    """Inside a span: ids in the output and in the entry; fields as context; exactly once."""
    stream = io.StringIO()
    log = _structlog_logger(stream)
    with trace.get_tracer("t").start_as_current_span("work") as span:
        log.warning("struct-in", order=7)
    ids = span.get_span_context()
    (entry,) = _entries(flext_capture, "struct-in")
    assert (entry.trace_id, entry.span_id) == (f"{ids.trace_id:032x}", f"{ids.span_id:016x}")
    assert entry.level.value.upper() == "WARNING"
    assert entry.context["order"] == 7
    assert entry.logger_name == "structlog"
    assert f"trace_id='{ids.trace_id:032x}'" in stream.getvalue()
    bodies = [str(r.log_record.body) for r in flext_capture.logs.get_finished_logs()]
    assert bodies.count("struct-in") == 1


def test_structlog_exception_and_level_filter(flext_capture: Capture) -> None:
    """exc_info is stored as the exception; events below the bridge's level are not sent."""
    log = _structlog_logger(io.StringIO())
    try:
        raise ValueError("boom")  # noqa: TRY301 - the exception under test
    except ValueError:
        log.exception("struct-failed")
    log.debug("struct-debug")
    (entry,) = _entries(flext_capture, "struct-failed")
    assert entry.exception is not None
    assert entry.exception.type == "ValueError"
    assert _entries(flext_capture, "struct-debug") == []


def test_structlog_through_stdlib_is_not_sent_twice(flext_capture: Capture) -> None:
    """With a stdlib logger underneath, the bridge captures the record; the processor skips it."""
    processor = flext_structlog.FlextStructlogProcessor()
    event = {"event": "via-stdlib"}
    assert processor(logging.getLogger("x"), "info", event) is event
    assert _entries(flext_capture, "via-stdlib") == []


def test_loguru_sink_carries_the_span_ids_and_arrives_once(flext_capture: Capture) -> None:
    """The loguru sink and patcher: ids in extra and in the entry; extras as context; once."""
    seen: list[dict[str, Any]] = []
    patched = loguru_logger.patch(flext_loguru.add_trace_context)
    sink_id = patched.add(flext_loguru.flext_sink, level="INFO")
    copy_id = patched.add(lambda m: seen.append(dict(m.record["extra"])), level="INFO")
    try:
        with trace.get_tracer("t").start_as_current_span("work") as span:
            patched.bind(order=3).info("loguru-in")
        try:
            raise KeyError("k")  # noqa: TRY301 - the exception under test
        except KeyError:
            patched.exception("loguru-failed")
    finally:
        patched.remove(sink_id)
        patched.remove(copy_id)
    ids = span.get_span_context()
    (entry,) = _entries(flext_capture, "loguru-in")
    assert entry.trace_id == f"{ids.trace_id:032x}"
    assert entry.context["order"] == 3
    assert seen[0]["trace_id"] == f"{ids.trace_id:032x}"
    (failed,) = _entries(flext_capture, "loguru-failed")
    assert failed.exception is not None
    assert failed.exception.type == "KeyError"


def test_nothing_is_sent_without_setup() -> None:
    """Before setup() (no bridge), records are dropped quietly."""
    assert deliver("x", logging.WARNING, "no-setup") is False
    assert flext_structlog.add_trace_context(None, "info", {}) == {}
