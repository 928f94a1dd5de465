"""Real `gunicorn -w 2 --preload` under opentelemetry-instrument: every worker delivers.

With `--preload` the app (and our setup) is built once in the master and the workers are forked
from it: each worker must restart the pipeline, write to the shared store safely, and flush its
own telemetry when it exits, without ever delivering the master's data twice.
"""

from __future__ import annotations

import concurrent.futures
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from _receivers import free_port
from _shop import BIN, clean_env, http_get
from flext_observability.models import FlextTrace
from flext_observability.sinks.store import SQLiteStore

pytestmark = pytest.mark.slow

APP = textwrap.dedent(
    """
    import logging, os
    from opentelemetry import trace

    def app(environ, start_response):
        pid = str(os.getpid())
        with trace.get_tracer("wsgi-app").start_as_current_span("handle") as span:
            span.set_attribute("worker.pid", pid)
            logging.getLogger("app").warning("served by %s", pid)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [pid.encode()]
    """
)


def test_every_preloaded_gunicorn_worker_delivers_its_spans(tmp_path: Path) -> None:
    """All requests' spans reach the store, from both workers, each exactly once."""
    (tmp_path / "wsgi_app.py").write_text(APP)
    port = free_port()
    store = tmp_path / "telemetry.db"
    env = clean_env(
        OTEL_PYTHON_DISTRO="flext_observability",
        OTEL_PYTHON_CONFIGURATOR="flext_observability",
        OTEL_SERVICE_NAME="gunicorn-app",
        FLEXT_OBSERVABILITY_STORE_PATH=str(store),
        FLEXT_OBSERVABILITY_HEALTH_ENABLED="false",
    )
    with (tmp_path / "gunicorn.log").open("wb") as log:
        server = subprocess.Popen(
            [
                str(BIN / "opentelemetry-instrument"),
                str(BIN / "gunicorn"),
                "-w",
                "2",
                "--preload",
                "-b",
                f"127.0.0.1:{port}",
                "--chdir",
                str(tmp_path),
                "wsgi_app:app",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http_get(f"http://127.0.0.1:{port}/", timeout=1)[0] == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.1)
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(lambda _: http_get(f"http://127.0.0.1:{port}/")[1], range(200))
                )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    pids = {answer.decode() for answer in answers}
    assert len(pids) == 2, (tmp_path / "gunicorn.log").read_text()
    reader = SQLiteStore.open_readonly(store)
    try:
        spans = [s for s in reader.query("traces", name="handle") if isinstance(s, FlextTrace)]
        logs = reader.query("logs", name="app")
    finally:
        reader.close()
    # the readiness probe adds one request; every span appears exactly once
    assert len(spans) == 201
    assert len({s.id for s in spans}) == 201
    assert {str(s.attributes["worker.pid"]) for s in spans} == pids
    assert len(logs) == 201
