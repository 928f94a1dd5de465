"""FastAPI on uvicorn (one process and `--workers 2`, spawned) and on gunicorn's uvicorn workers.

A traced client calls every route of `tests/apps/asgi_app.py` (async and sync handlers, a
background task, `run_in_executor`, an app `ThreadPoolExecutor`, a streamed body) with its own
trace ids; then the server gets SIGTERM. Every request's work span must be in the store once, in
the client's trace below the FastAPI server span, with the log record written inside it; the
exit is clean and bounded; the supervisor/master process delivers no request telemetry.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import pytest

from _receivers import free_port
from _served import EXIT_BOUND_S, Served, Telemetry, new_ids, pid_of, read_telemetry, traced_get
from flext_observability.models import FlextTrace

pytestmark = pytest.mark.slow

ROUTES = ("async", "sync", "background", "executor", "pool", "stream")
PER_ROUTE = 12

SERVERS = {
    "uvicorn": (["uvicorn"], {}),
    # Each spawned worker runs the auto-instrumentation start-up again (2-4 s here, all the
    # installed instrumentations load); on this shared machine that can exceed uvicorn's 5 s
    # worker health check, and the supervisor would replace the worker while it starts.
    "uvicorn-workers-2": (["uvicorn", "--workers", "2", "--timeout-worker-healthcheck", "60"], {}),
    "gunicorn-uvicorn-workers": (
        ["gunicorn", "-w", "2", "-k", "uvicorn.workers.UvicornWorker"],
        {},
    ),
    "uvicorn-setup": (["uvicorn"], {"APP_CALLS_SETUP": "1"}),
    "gunicorn-uvicorn-workers-setup": (
        ["gunicorn", "-w", "2", "-k", "uvicorn.workers.UvicornWorker"],
        {"APP_CALLS_SETUP": "1"},
    ),
}
"""`*-setup` cases run without opentelemetry-instrument: the app calls `setup()` itself."""


def _server_span(telemetry: Telemetry, span: FlextTrace) -> FlextTrace:
    """The nearest stored ancestor of `span` that is a server span."""
    while span.kind.value != "server":
        span = telemetry.parent_of(span)
    return span


@pytest.mark.parametrize("server", list(SERVERS))
def test_fastapi_routes_join_the_request_trace(tmp_path: Path, server: str) -> None:
    """Handlers, background tasks, executors and streams: one span each, in the client's trace."""
    argv, env = SERVERS[server]
    port = free_port()
    bind = ["-b", f"127.0.0.1:{port}"] if argv[0] == "gunicorn" else ["--port", str(port)]
    if argv[0] == "uvicorn":
        bind = ["--host", "127.0.0.1", *bind]
    served = Served(
        tmp_path,
        [*argv, *bind, "asgi_app:app"],
        name="asgi",
        instrument=not env,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    calls = [(route, ids) for route in ROUTES for ids in new_ids(PER_ROUTE)]
    try:
        served.wait_http(base + "/ready")
        if "workers" in server:  # both workers, not only the first one, serve
            served.wait_output("Application startup complete.", count=2)
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            bodies = list(pool.map(lambda call: traced_get(f"{base}/{call[0]}", *call[1]), calls))
    finally:
        code = served.stop()
    assert code in (0, -15), served.output[-3000:]
    assert served.exit_seconds is not None
    assert served.exit_seconds < EXIT_BOUND_S
    pids = {body.decode().rsplit(" ", 1)[-1] for body in bodies}
    assert len(pids) == (1 if server in {"uvicorn", "uvicorn-setup"} else 2), pids

    # processes that set telemetry up: each spawned uvicorn worker (also one the supervisor
    # replaced because it missed its start-up health check), never the uvicorn supervisor or its
    # resource tracker; gunicorn's master once (its workers are forked from it)
    set_up = served.output.count("flext-observability: service 'asgi'")
    workers = served.output.count("Started server process")
    expected = {"uvicorn": 1, "uvicorn-workers-2": workers, "gunicorn-uvicorn-workers": 1}
    assert set_up == expected.get(server, 0), served.output[-3000:]

    telemetry = read_telemetry(served.store)
    telemetry.assert_each_once()
    for route, (trace_id, parent_id) in calls:
        (span,) = [s for s in telemetry.named(route) if s.trace_id == trace_id]
        assert str(pid_of(span)) in pids
        request = _server_span(telemetry, span)
        assert request.parent_span_id == parent_id
        assert str(request.attributes.get("http.route", request.operation_name)).endswith(route)
        (log,) = [e for e in telemetry.logs_saying(f"{route} done") if e.trace_id == trace_id]
        telemetry.assert_logged_in(log, span)
    for route in ROUTES:
        assert len(telemetry.named(route)) == PER_ROUTE
