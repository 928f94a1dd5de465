"""Our uvicorn and Celery instrumentors, in-process, with the real libraries."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator

import pytest
from celery import signals
from opentelemetry import trace
from uvicorn import Config, Server
from uvicorn.server import Server as ServerClass

from _receivers import free_port
from flext_observability._internal import logging_config
from flext_observability._internal.setup import active
from flext_observability.integrations.celery import FlextCeleryInstrumentor
from flext_observability.integrations.uvicorn import FlextUvicornInstrumentor
from flext_observability.logs import EntityLoggingHandler
from flext_observability.testing import Capture


@pytest.fixture
def uvicorn_instrumented() -> Iterator[None]:
    """FlextUvicornInstrumentor on for the test."""
    FlextUvicornInstrumentor().instrument()
    yield
    FlextUvicornInstrumentor().uninstrument()


@pytest.fixture
def celery_instrumented() -> Iterator[None]:
    """FlextCeleryInstrumentor on for the test."""
    FlextCeleryInstrumentor().instrument()
    yield
    FlextCeleryInstrumentor().uninstrument()


async def _app(scope: dict[str, object], receive: object, send: object) -> None:
    """An ASGI app that is never called (the server stops right away)."""


def test_uvicorn_server_run_ends_with_a_flush(
    flext_capture: Capture, uvicorn_instrumented: None
) -> None:
    """A span recorded before the server's run ends is delivered when the run ends."""
    wrapped = ServerClass.__dict__["_serve"]
    assert getattr(ServerClass, "_flext_original_serve", None) is not None
    with trace.get_tracer("t").start_as_current_span("before-shutdown"):
        pass
    server = Server(Config(_app, host="127.0.0.1", port=free_port(), lifespan="off"))
    done = threading.Event()

    def run() -> None:
        asyncio.run(server.serve())
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    server.should_exit = True
    assert done.wait(30)
    thread.join(5)
    assert [t.operation_name for t in flext_capture.traces] == ["before-shutdown"]
    FlextUvicornInstrumentor().uninstrument()
    assert ServerClass.__dict__["_serve"] is not wrapped
    assert not hasattr(ServerClass, "_flext_original_serve")
    FlextUvicornInstrumentor().instrument()


def test_celery_child_shutdown_stops_telemetry(
    flext_capture: Capture, celery_instrumented: None
) -> None:
    """worker_process_shutdown (sent in a pool child before os._exit) shuts telemetry down."""
    with trace.get_tracer("t").start_as_current_span("task"):
        pass
    assert active() is not None
    signals.worker_process_shutdown.send(sender=None, pid=1, exitcode=0)
    assert active() is None
    assert [t.operation_name for t in flext_capture.traces] == ["task"]


def test_celery_logging_setup_keeps_the_bridge(
    flext_capture: Capture, celery_instrumented: None
) -> None:
    """after_setup_logger (Celery emptied the root handlers) puts the bridge back."""
    root = logging.getLogger()
    bridge = logging_config.bridge()
    assert isinstance(bridge, EntityLoggingHandler)
    saved = root.handlers[:]
    try:
        root.handlers = []
        signals.after_setup_logger.send(sender=None, logger=root, loglevel=logging.INFO)
        assert root.handlers == [bridge]
    finally:
        root.handlers = saved


def test_instrumentors_name_their_library() -> None:
    """The launcher loads them only when their library is installed."""
    assert FlextUvicornInstrumentor().instrumentation_dependencies() == ("uvicorn >= 0.30",)
    assert FlextCeleryInstrumentor().instrumentation_dependencies() == ("celery >= 5.3",)
