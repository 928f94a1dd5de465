"""The logging bridge: excluded loggers, no recursion, no duplicates, thread safety."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from opentelemetry import trace

from flext_observability.logs import EXCLUDED_LOGGERS, EntityLoggingHandler
from flext_observability.models import Entity, FlextLogEntry, FlextTrace
from flext_observability.sinks.callback import CallbackSink
from flext_observability.sinks.memory import MemorySink
from flext_observability.testing import Capture


def _bridge(sinks: Sequence[object]) -> tuple[EntityLoggingHandler, logging.Logger]:
    handler = EntityLoggingHandler(sinks=sinks)  # type: ignore[arg-type]
    log = logging.getLogger("bridge-test")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    return handler, log


def test_sdk_transport_and_own_loggers_are_never_captured() -> None:
    """Records from opentelemetry.*, urllib3, requests, grpc and ourselves are skipped."""
    memory = MemorySink()
    handler = EntityLoggingHandler(sinks=[memory])
    for name in [*EXCLUDED_LOGGERS, "opentelemetry.sdk.trace", "urllib3.connectionpool"]:
        handler.handle(logging.LogRecord(name, logging.ERROR, __file__, 1, "x", None, None))
    handler.handle(logging.LogRecord("app", logging.ERROR, __file__, 1, "kept", None, None))
    handler.handle(logging.LogRecord("opentelemetryx", logging.ERROR, __file__, 1, "y", None, None))
    assert handler.pipeline.flush(5)
    assert [(e.logger_name, e.message) for e in memory.of_type(FlextLogEntry)] == [
        ("app", "kept"),
        ("opentelemetryx", "y"),
    ]
    handler.close()


def test_a_sink_that_logs_never_makes_the_bridge_recurse() -> None:
    """Logging from inside a sink (on the worker thread) is not captured again."""
    seen: list[Entity] = []

    def noisy(entity: Entity) -> None:
        seen.append(entity)
        logging.getLogger("bridge-test").error("sink saw %s", type(entity).__name__)

    handler, log = _bridge([CallbackSink(noisy)])
    try:
        log.error("one")
        assert handler.pipeline.flush(5)
        assert handler.pipeline.flush(5)
        assert [e.message for e in seen if isinstance(e, FlextLogEntry)] == ["one"]
    finally:
        log.removeHandler(handler)
        handler.close()


def test_a_hundred_threads_released_by_a_barrier_lose_nothing(flext_capture: Capture) -> None:
    """100 threads logging and tracing at once: every record and span is delivered once."""
    barrier = threading.Barrier(100)
    tracer = trace.get_tracer("threads")

    def work(index: int) -> None:
        barrier.wait(10)
        with tracer.start_as_current_span(f"t{index}"):
            logging.getLogger("threads").warning("from %d", index)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert flext_capture.flush()
    spans = [t for t in flext_capture.traces if t.operation_name.startswith("t")]
    logs = [e for e in flext_capture.log_entries if e.logger_name == "threads"]
    assert sorted(t.operation_name for t in spans) == sorted(f"t{i}" for i in range(100))
    assert sorted(e.message for e in logs) == sorted(f"from {i}" for i in range(100))
    by_span = {t.span_id: t.operation_name for t in spans if isinstance(t, FlextTrace)}
    assert all(by_span[e.span_id or ""] == f"t{e.message.split()[1]}" for e in logs)
    assert flext_capture.obs.pipeline.dropped == {}
