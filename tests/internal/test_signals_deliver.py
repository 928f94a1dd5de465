"""SIGTERM/SIGINT flush within the shutdown deadline and keep the handler's behaviour (issue 9, #4).

Real processes under `opentelemetry-instrument`: a plain script (default action, and its own
handler), the Flask development server, `multiprocessing.Pool` children terminated by SIGTERM,
gunicorn (sync and gthread workers) and uvicorn. What was recorded before the signal must be in
the store afterwards, and the process must end the way it would have without us.
"""

from __future__ import annotations

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

SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    from opentelemetry import trace
    if "--own-handler" in sys.argv:
        def stop(signum, frame):
            print("app handler ran", flush=True)
            sys.exit(3)
        signal.signal(signal.SIGTERM, stop)
    tracer = trace.get_tracer("script")
    for n in range(50):
        with tracer.start_as_current_span("work"):
            pass
    print("ready", flush=True)
    time.sleep(60)
    """
)
POOL = textwrap.dedent(
    """
    import multiprocessing, time
    from opentelemetry import trace

    def work(n):
        with trace.get_tracer("pool").start_as_current_span("child-work"):
            return n

    if __name__ == "__main__":
        with multiprocessing.get_context("fork").Pool(4) as pool:
            print(sum(pool.map(work, range(250))), flush=True)
        # leaving the block terminates the workers with SIGTERM
    """
)
WSGI = textwrap.dedent(
    """
    from opentelemetry import trace

    def app(environ, start_response):
        with trace.get_tracer("wsgi").start_as_current_span("handle"):
            pass
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    """
)
FLASK = textwrap.dedent(
    """
    import os
    from flask import Flask
    app = Flask(__name__)

    @app.get("/")
    def index():
        return "ok"

    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
    """
)
ASGI = textwrap.dedent(
    """
    from opentelemetry import trace

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        with trace.get_tracer("asgi").start_as_current_span("handle"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    """
)


def _env(store: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        OTEL_PYTHON_DISTRO="flext_observability",
        OTEL_PYTHON_CONFIGURATOR="flext_observability",
        FLEXT_OBSERVABILITY_STORE_PATH=str(store),
        FLEXT_OBSERVABILITY_HEALTH_ENABLED="false",
        FLEXT_OBSERVABILITY_SHUTDOWN_TIMEOUT_MS="3000",
        **extra,
    )


def _spans(store: Path, name: str) -> list[FlextTrace]:
    reader = SQLiteStore.open_readonly(store)
    try:
        return [s for s in reader.query("traces", name=name) if isinstance(s, FlextTrace)]
    finally:
        reader.close()


def _wait_for_line(path: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while text not in path.read_text(errors="replace"):
        assert process.poll() is None, path.read_text(errors="replace")
        assert time.monotonic() < deadline, path.read_text(errors="replace")
        time.sleep(0.05)


def _start(tmp_path: Path, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    with (tmp_path / "out.log").open("wb") as log:
        return subprocess.Popen(
            [str(BIN / "opentelemetry-instrument"), *argv],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )


@pytest.mark.parametrize(
    ("args", "code"),
    [([], -signal.SIGTERM), (["--own-handler"], 3)],
    ids=["default-action", "own-handler"],
)
def test_sigterm_on_a_script_delivers_and_keeps_the_outcome(
    tmp_path: Path, args: list[str], code: int
) -> None:
    """All 50 spans reach the store; the exit is the signal's (or the app handler's) own."""
    (tmp_path / "app.py").write_text(SCRIPT)
    store = tmp_path / "t.db"
    process = _start(tmp_path, [str(BIN / "python"), "app.py", *args], _env(store))
    _wait_for_line(tmp_path / "out.log", "ready", process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == code, (tmp_path / "out.log").read_text()
    assert len(_spans(store, "work")) == 50
    if args:
        assert "app handler ran" in (tmp_path / "out.log").read_text()


def test_pool_children_terminated_by_sigterm_deliver(tmp_path: Path) -> None:
    """`with Pool(...)` terminates its workers with SIGTERM: every child span still arrives."""
    (tmp_path / "pool_app.py").write_text(POOL)
    store = tmp_path / "t.db"
    process = _start(tmp_path, [str(BIN / "python"), "pool_app.py"], _env(store))
    assert process.wait(120) == 0, (tmp_path / "out.log").read_text()
    assert "31125" in (tmp_path / "out.log").read_text()
    assert len(_spans(store, "child-work")) == 250


def _serve_then_sigterm(
    tmp_path: Path, argv: list[str], port: int, store: Path, requests: int = 20
) -> tuple[int, str]:
    process = _start(tmp_path, argv, _env(store, PORT=str(port)))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http_get(f"http://127.0.0.1:{port}/", timeout=1)[0] == 200:
                    break
            except OSError:
                assert process.poll() is None, (tmp_path / "out.log").read_text()
                assert time.monotonic() < deadline
                time.sleep(0.1)
        for _ in range(requests - 1):
            assert http_get(f"http://127.0.0.1:{port}/")[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    return code, (tmp_path / "out.log").read_text(errors="replace")


def test_flask_dev_server_sigterm_right_after_serving_delivers(tmp_path: Path) -> None:
    """The Flask development server has no SIGTERM handler: it still dies by SIGTERM, delivered."""
    (tmp_path / "flask_app.py").write_text(FLASK)
    store = tmp_path / "t.db"
    port = free_port()
    code, log = _serve_then_sigterm(tmp_path, [str(BIN / "python"), "flask_app.py"], port, store)
    assert code == -signal.SIGTERM, log
    assert len(_spans(store, "GET /")) == 20


@pytest.mark.parametrize("worker", ["sync", "gthread"])
def test_gunicorn_sigterm_delivers(tmp_path: Path, worker: str) -> None:
    """Gunicorn's graceful stop keeps its behaviour (exit 0) and every span is stored."""
    (tmp_path / "wsgi_app.py").write_text(WSGI)
    store = tmp_path / "t.db"
    port = free_port()
    argv = [
        str(BIN / "gunicorn"),
        "-w",
        "2",
        "-k",
        worker,
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(tmp_path),
        "wsgi_app:app",
    ]
    code, log = _serve_then_sigterm(tmp_path, argv, port, store)
    assert code == 0, log
    assert len(_spans(store, "handle")) == 20


def test_uvicorn_sigterm_delivers(tmp_path: Path) -> None:
    """Uvicorn stops gracefully then re-raises SIGTERM (its own behaviour); every span stored."""
    (tmp_path / "asgi_app.py").write_text(ASGI)
    store = tmp_path / "t.db"
    port = free_port()
    argv = [str(BIN / "uvicorn"), "--port", str(port), "--app-dir", str(tmp_path), "asgi_app:app"]
    code, log = _serve_then_sigterm(tmp_path, argv, port, store)
    assert code == -signal.SIGTERM, log  # plain uvicorn exits 143 too
    assert len(_spans(store, "handle")) == 20
