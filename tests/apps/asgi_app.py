"""A FastAPI app for the ASGI tests: async and sync handlers, background tasks, executors, streams.

Every route does its work in a span called after the route (`async`, `background`, `executor`,
`pool`, `stream`, `sync`) with the process id as `app.pid`, and logs one line inside it, so the
tests can check that the span joined the request's trace and that the log carries its ids.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from fastapi import BackgroundTasks, FastAPI
from fastapi.responses import PlainTextResponse, StreamingResponse
from opentelemetry import trace

if os.environ.get("APP_CALLS_SETUP"):
    # An app that sets telemetry up in code (no opentelemetry-instrument): it also enables the
    # official threading instrumentation, so executor work joins the request's trace, and ours
    # for uvicorn.
    from opentelemetry.instrumentation.threading import ThreadingInstrumentor

    from flext_observability import setup
    from flext_observability.integrations.uvicorn import FlextUvicornInstrumentor

    setup()
    ThreadingInstrumentor().instrument()
    FlextUvicornInstrumentor().instrument()  # flush before gunicorn's uvicorn worker dies

_log = logging.getLogger("asgi_app")
_tracer = trace.get_tracer("asgi_app")
_pool = ThreadPoolExecutor(4, thread_name_prefix="app-pool")

app = FastAPI()

if os.environ.get("APP_CALLS_SETUP"):
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app)


def work(kind: str) -> str:
    """One span named `kind`, one log line inside it; return the pid."""
    pid = str(os.getpid())
    with _tracer.start_as_current_span(kind) as span:
        span.set_attribute("app.pid", pid)
        _log.warning("%s done in %s", kind, pid)
    return pid


@app.get("/ready")
async def ready() -> PlainTextResponse:
    """Readiness probe (no span of ours)."""
    return PlainTextResponse("ok")


@app.get("/async")
async def async_route() -> PlainTextResponse:
    """Work on the event loop."""
    await asyncio.sleep(0)
    return PlainTextResponse(work("async"))


@app.get("/sync")
def sync_route() -> PlainTextResponse:
    """A plain `def` route: FastAPI runs it in its thread pool."""
    return PlainTextResponse(work("sync"))


@app.get("/background")
async def background_route(tasks: BackgroundTasks) -> PlainTextResponse:
    """Work in a background task, after the response was sent."""
    tasks.add_task(work, "background")
    return PlainTextResponse(str(os.getpid()))


@app.get("/executor")
async def executor_route() -> PlainTextResponse:
    """Work in the loop's default executor (`run_in_executor`)."""
    pid = await asyncio.get_running_loop().run_in_executor(None, work, "executor")
    return PlainTextResponse(pid)


@app.get("/pool")
async def pool_route() -> PlainTextResponse:
    """Work in the app's own `ThreadPoolExecutor`."""
    return PlainTextResponse(await asyncio.wrap_future(_pool.submit(work, "pool")))


@app.get("/stream")
async def stream_route() -> StreamingResponse:
    """A streamed body whose chunks are produced inside the request."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            await asyncio.sleep(0)
            yield b"chunk "
        yield work("stream").encode()

    return StreamingResponse(chunks(), media_type="text/plain")
