"""Real third-party receivers started on loopback for end-to-end tests.

`Rotel` runs the `rotel` collector binary (shipped by the `rotel` package on PyPI) with OTLP gRPC
and HTTP receivers and its debug exporter, which prints everything it receives; tests read that
output. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self

import rotel  # type: ignore[import-untyped] # ships no type information

__all__ = ["OtlpHttpCounter", "Rotel", "free_port", "wait_for_port"]

ROTEL_AGENT = Path(rotel.__file__).parent / "rotel-agent"


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    msg = f"nothing listens on 127.0.0.1:{port} after {timeout}s"
    raise TimeoutError(msg)


class Rotel:
    """A running rotel collector whose debug output can be read."""

    def __init__(self, workdir: Path) -> None:
        self.output = workdir / "rotel.out"
        self._workdir = workdir
        self._out = self.output.open("wb")
        for _attempt in range(3):
            # A port picked with bind(0) can be taken before rotel binds it: retry on new ones.
            self.grpc_port = free_port()
            self.http_port = free_port()
            self.process = self._start()
            try:
                wait_for_port(self.grpc_port)
                wait_for_port(self.http_port)
            except TimeoutError:
                if self.process.poll() is None:
                    raise
                continue
            return
        msg = f"rotel did not start:\n{self.text()[-2000:]}"
        raise RuntimeError(msg)

    def _start(self) -> subprocess.Popen[bytes]:
        workdir = self._workdir
        return subprocess.Popen(
            [
                str(ROTEL_AGENT),
                "start",
                "--otlp-grpc-endpoint",
                f"127.0.0.1:{self.grpc_port}",
                "--otlp-http-endpoint",
                f"127.0.0.1:{self.http_port}",
                "--exporter",
                "blackhole",
                "--debug-log",
                "traces",
                "--debug-log",
                "metrics",
                "--debug-log",
                "logs",
                "--debug-log-verbosity",
                "detailed",
                "--pid-file",
                str(workdir / "rotel.pid"),
                "--log-file",
                str(workdir / "rotel.log"),
            ],
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    @property
    def grpc_endpoint(self) -> str:
        """OTLP/gRPC endpoint URL."""
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        """OTLP/HTTP base endpoint URL."""
        return f"http://127.0.0.1:{self.http_port}"

    def text(self) -> str:
        """Everything the collector printed so far."""
        self._out.flush()
        return self.output.read_text(errors="replace")

    def wait_for(self, *needles: str, timeout: float = 20.0) -> str:
        """Wait until every needle appears in the output; return the output."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if all(needle in text for needle in needles):
                return text
            if time.monotonic() > deadline:
                missing = [n for n in needles if n not in text]
                msg = f"rotel never received {missing}; output:\n{text[-3000:]}"
                raise AssertionError(msg)
            time.sleep(0.1)

    def pause(self) -> None:
        """Stop the collector process (its ports close); `resume()` starts it on the same ports."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def resume(self) -> None:
        """Start the collector again on the same ports (output appended)."""
        self.process = self._start()
        wait_for_port(self.grpc_port)
        wait_for_port(self.http_port)

    def stop(self) -> None:
        """Stop the collector and close its output."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._out.close()


class OtlpHttpCounter:
    """A real OTLP/HTTP endpoint on 127.0.0.1 that accepts every export and counts requests.

    Answers 200 with an empty protobuf body (a full success) to every POST; `posts` counts
    them per path (`/v1/traces`, ...). Use as a context manager.
    """

    def __init__(self) -> None:
        self.posts: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.bodies: list[tuple[str, bytes]] = []
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with lock:
                    owner.posts[self.path] += 1
                    owner.bodies.append((self.path, body))
                    owner.headers.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
                del format, args

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def span_names(self) -> list[str]:
        """The names of every span received (decoded from the OTLP/protobuf bodies)."""
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (  # noqa: PLC0415
            ExportTraceServiceRequest,
        )

        names: list[str] = []
        for path, body in list(self.bodies):
            if path.startswith("/v1/traces"):
                request = ExportTraceServiceRequest.FromString(body)
                names.extend(
                    span.name
                    for resource in request.resource_spans
                    for scope in resource.scope_spans
                    for span in scope.spans
                )
        return names

    @property
    def url(self) -> str:
        """The base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`)."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
