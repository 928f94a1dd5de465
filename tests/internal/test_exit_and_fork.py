"""Process exit and fork: one shared deadline, and fork children deliver their telemetry."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from _receivers import free_port
from flext_observability.sinks.store import SQLiteStore

pytestmark = pytest.mark.slow

APP = textwrap.dedent(
    """
    import logging, sys, time
    from opentelemetry import trace, metrics
    import flext_observability._internal.setup as s
    s.setup(service_name="exit-test", otlp_endpoint=sys.argv[1], otlp_protocol=sys.argv[2],
            shutdown_timeout_ms=int(sys.argv[3]), health_enabled=False,
            store_path=sys.argv[4], metric_export_interval_ms=3_600_000)
    tracer = trace.get_tracer("app")
    for i in range(50):
        with tracer.start_as_current_span(f"work-{i}"):
            logging.getLogger("app").warning("step %d", i)
    metrics.get_meter("app").create_counter("steps_total").add(50)
    print(time.time(), flush=True)
    """
)


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts TCP connections and never answers (a black-holed collector)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    yield int(sock.getsockname()[1])
    sock.close()


class _Unavailable(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(503)
        self.send_header("Retry-After", "30")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return


@pytest.fixture
def unavailable() -> Iterator[int]:
    """A collector that answers every export with 503 and Retry-After: 30."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_collector_answering_503_delays_exit_by_no_more_than_the_deadline(
    tmp_path: Path, unavailable: int
) -> None:
    """Retries with backoff against 503 never stretch exit past the deadline + 0.5 s."""
    exit_delay = _run_app(
        tmp_path, f"http://127.0.0.1:{unavailable}", "http/protobuf", deadline_ms=1500
    )
    assert exit_delay <= 1.5 + 0.5


def _run_app(tmp_path: Path, endpoint: str, protocol: str, deadline_ms: int) -> float:
    script = tmp_path / "app.py"
    script.write_text(APP)
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            endpoint,
            protocol,
            str(deadline_ms),
            str(tmp_path / "telemetry.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ended = time.time()
    assert result.returncode == 0, result.stderr
    last_line = result.stdout.strip().splitlines()[-1]
    return ended - float(last_line)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
@pytest.mark.parametrize("collector", ["refused", "black-holed"])
def test_a_dead_collector_delays_exit_by_no_more_than_the_deadline(
    tmp_path: Path, black_hole: int, protocol: str, collector: str
) -> None:
    """Exit after the last statement takes at most the shutdown deadline + 0.5 s."""
    port = black_hole if collector == "black-holed" else free_port()
    exit_delay = _run_app(tmp_path, f"http://127.0.0.1:{port}", protocol, deadline_ms=1500)
    assert exit_delay <= 1.5 + 0.5
    store = SQLiteStore.open_readonly(tmp_path / "telemetry.db")
    try:
        counts = store.counts()
    finally:
        store.close()
    # The store still got everything even though the collector never answered.
    assert counts["traces"] == 50
    assert counts["logs"] >= 50


FORK_APP = textwrap.dedent(
    """
    import multiprocessing, sys
    from opentelemetry import trace
    import flext_observability._internal.setup as s
    s.setup(service_name="fork-test", store_path=sys.argv[1], health_enabled=False,
            metric_export_interval_ms=3_600_000)

    def child(n):
        tracer = trace.get_tracer("child")
        for i in range(n):
            with tracer.start_as_current_span(f"child-span"):
                pass

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("fork")
        with trace.get_tracer("parent").start_as_current_span("parent-span"):
            pass
        procs = [ctx.Process(target=child, args=(50,)) for _ in range(5)]
        for p in procs: p.start()
        for p in procs: p.join()
        print(sum(p.exitcode for p in procs))
    """
)


def test_multiprocessing_fork_children_deliver_their_spans(tmp_path: Path) -> None:
    """Every span of five fork children reaches the store, and the parent's only once."""
    script = tmp_path / "fork_app.py"
    script.write_text(FORK_APP)
    db = tmp_path / "telemetry.db"
    result = subprocess.run(
        [sys.executable, str(script), str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert (result.returncode, result.stdout.strip()) == (0, "0"), result.stderr
    store = SQLiteStore.open_readonly(db)
    try:
        children = store.query("traces", name="child-span")
        parents = store.query("traces", name="parent-span")
    finally:
        store.close()
    assert (len(children), len(parents)) == (250, 1)
