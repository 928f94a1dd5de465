"""The probe server: `/livez`, `/readyz` and `/healthz` over stdlib HTTP, on its own thread.

It answers from the health registry's cached results and never runs a check inline, so a hung
check cannot slow a probe down. It binds to 127.0.0.1 by default and shows status only:
`/healthz` is exactly `{"status": ..., "checks": {"<name>": {"status": ..., "message": ...}}}`,
with no configuration, paths, versions or stack traces. With a token, every request needs
`Authorization: Bearer <token>` (401 otherwise). Other paths answer 404, other methods 405, each
with a one-word body. No access log is written.

Fork: a child closes its copy of the listening socket and does not serve; start a new server in
the child if it should answer probes itself.
"""

from __future__ import annotations

import hmac
import json
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flext_observability._internal import fork
from flext_observability._internal.guard import guard, report_internal_error
from flext_observability._internal.signals import start_quiet
from flext_observability.exceptions import ConfigurationError
from flext_observability.health._registry import HealthRegistry
from flext_observability.models._types import HealthStatus

__all__ = ["ProbeServer"]

_MAX_MESSAGE = 256
_REQUEST_TIMEOUT = 5.0  # seconds a client may take to send its request


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 16
    probe: ProbeServer

    def server_bind(self) -> None:
        """Bind without `HTTPServer`'s reverse DNS lookup of the host (`getfqdn`)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002 - stdlib signature
        """Count a failed request instead of printing its traceback to stderr."""
        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, OSError):  # a client hanging up is routine
            report_internal_error("server.request", exc)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "flext-observability"
    sys_version = ""
    timeout = _REQUEST_TIMEOUT  # socket timeout: a slow client cannot hold a thread for ever
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "error"

    def version_string(self) -> str:
        """Name the server without any version (no Python or package version leak)."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Write no access log."""

    def do_GET(self) -> None:
        """Answer a probe."""
        self._answer(head=False)

    def do_HEAD(self) -> None:
        """Answer a probe without the body."""
        self._answer(head=True)

    def _refuse_method(self) -> None:
        self._send(405, b"disallowed", head=False, extra={"Allow": "GET, HEAD"})

    def _answer(self, *, head: bool) -> None:
        status, body, content_type = 500, b"error", "text/plain; charset=utf-8"
        with guard("server.request"):
            status, body, content_type = self.server.probe.respond(
                self.path, self.headers.get("Authorization")
            )
        extra = {"WWW-Authenticate": "Bearer"} if status == 401 else {}  # noqa: PLR2004
        self._send(status, body, head=head, content_type=content_type, extra=extra)

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        head: bool,
        content_type: str = "text/plain; charset=utf-8",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)


for _method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"):
    setattr(_Handler, f"do_{_method}", _Handler._refuse_method)  # noqa: SLF001 - same class


class ProbeServer:
    """Serve the registry's health over HTTP on a daemon thread.

    Args:
        registry: Where the cached results come from.
        host: Interface to bind; loopback unless you need the probes reachable from outside.
        port: TCP port; 0 picks a free one (`start()` returns it).
        token: When set, every request must carry `Authorization: Bearer <token>`.
        ready: Extra readiness condition (e.g. "setup finished"); must be cheap. `/readyz` is
            ready when it returns True and the aggregate health is not `unhealthy`.
        message_filter: Applied to every check message before it is served (e.g. redaction).
    """

    def __init__(
        self,
        registry: HealthRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        ready: Callable[[], bool] | None = None,
        message_filter: Callable[[str], str] | None = None,
    ) -> None:
        """Configure the server; nothing is bound until `start()`."""
        if not isinstance(host, str) or not host:
            raise ConfigurationError(f"health host must be a non-empty string, got {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:  # noqa: PLR2004
            raise ConfigurationError(f"health port must be an integer 0-65535, got {port!r}")
        if token is not None and (not isinstance(token, str) or not token):
            raise ConfigurationError("health token must be a non-empty string when set")
        self._registry = registry
        self._host = host
        self._port = port
        self._token = token.encode("utf-8") if token else None
        self._ready = ready
        self._message_filter = message_filter
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        fork.register(self, after_in_child=self._after_fork_in_child)

    def __repr__(self) -> str:
        """Describe the server without its token."""
        return f"ProbeServer(host={self._host!r}, port={self.port!r})"

    @property
    def port(self) -> int:
        """The bound port while serving, else the configured one."""
        server = self._server
        return int(server.server_address[1]) if server is not None else self._port

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:8081`."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    def start(self) -> int:
        """Bind and start serving (idempotent); return the bound port.

        Raises:
            ConfigurationError: the address cannot be bound (in use, not local, ...).
        """
        with self._lock:
            if self._server is not None:
                return self.port
            server_class = _Server6 if ":" in self._host else _Server
            try:
                server = server_class((self._host, self._port), _Handler)
            except OSError as exc:
                raise ConfigurationError(
                    f"health probe server: cannot listen on {self._host}:{self._port} "
                    f"(FLEXT_OBSERVABILITY_HEALTH_HOST/_PORT): {exc.strerror or exc}"
                ) from None
            server.probe = self
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="flext-health-probe",
                daemon=True,
            )
            self._server, self._thread = server, thread
        start_quiet(thread)
        return self.port

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop serving and close the socket; return whether the thread ended in time."""
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return True
        if thread.is_alive():
            # shutdown() waits for serve_forever to notice, i.e. one poll interval.
            server.shutdown()
        server.server_close()
        thread.join(max(deadline - time.monotonic(), 0.0))
        return not thread.is_alive()

    def respond(self, path: str, authorization: str | None) -> tuple[int, bytes, str]:
        """Compute `(status code, body, content type)` for a GET of `path`. Never runs checks."""
        text = "text/plain; charset=utf-8"
        if self._token is not None and not self._authorized(authorization):
            return 401, b"unauthorized", text
        route = path.split("?", 1)[0]
        if route == "/livez":
            return 200, b"ok", text
        if route == "/readyz":
            return (200, b"ready", text) if self._is_ready() else (503, b"unready", text)
        if route == "/healthz":
            return self._healthz()
        return 404, b"notfound", text

    def _authorized(self, authorization: str | None) -> bool:
        assert self._token is not None
        scheme, _, credentials = (authorization or "").partition(" ")
        supplied = credentials.strip().encode("utf-8", "replace")
        # Compare even on a wrong scheme so the timing does not tell which part was wrong.
        matches = hmac.compare_digest(supplied, self._token)
        return matches and scheme.lower() == "bearer"

    def _is_ready(self) -> bool:
        ready = False
        with guard("server.ready"):
            ready = self._ready is None or bool(self._ready())
        return ready and self._registry.overall() is not HealthStatus.UNHEALTHY

    def _message(self, message: str) -> str:
        if self._message_filter is not None:
            filtered = ""
            with guard("server.message_filter"):
                filtered = self._message_filter(message)
            message = filtered
        return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."

    def _healthz(self) -> tuple[int, bytes, str]:
        overall = self._registry.overall()
        latest = self._registry.latest()
        checks: dict[str, dict[str, str]] = {}
        for name in self._registry.names:
            result = latest.get(name)
            if result is None:
                checks[name] = {"status": HealthStatus.UNKNOWN.value, "message": "not run yet"}
            else:
                checks[name] = {
                    "status": result.status.value,
                    "message": self._message(result.message),
                }
        body = json.dumps({"status": overall.value, "checks": checks}, ensure_ascii=True)
        code = 503 if overall is HealthStatus.UNHEALTHY else 200
        return code, body.encode("ascii"), "application/json"

    def _after_fork_in_child(self) -> None:
        server = self._server
        self._lock = threading.Lock()
        self._server = self._thread = None
        if server is not None:
            with guard("server.fork"):
                server.socket.close()
