"""The HTTP server of the viewer: stdlib `ThreadingHTTPServer`, bytes in and out of `UiApp`."""

from __future__ import annotations

import ipaddress
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from flext_observability.cli.ui._app import UiApp

__all__ = ["UiServer", "is_loopback", "loopback_hosts", "make_server"]

_MAX_BODY = 8192


def is_loopback(host: str) -> bool:
    """Whether `host` names only loopback addresses (`127.0.0.1`, `::1`, `localhost`)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_hosts(port: int) -> frozenset[str]:
    """The Host header values a loopback viewer accepts (DNS-rebinding defence)."""
    names = ("127.0.0.1", "localhost", "[::1]")
    return frozenset(f"{name}:{port}" for name in names)


class _Handler(BaseHTTPRequestHandler):
    server_version = "flext-observability-ui"
    sys_version = ""
    server: UiServer

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, _MAX_BODY)) if method == "POST" and length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.server.app.handle(method, self.path, headers, body)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(response.body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Polling would flood the terminal: requests are not logged."""


class UiServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one `UiApp`."""

    daemon_threads = True
    allow_reuse_address = True
    app: UiApp
    address_family: ClassVar[socket.AddressFamily] = socket.AF_INET  # type: ignore[misc]


class _UiServer6(UiServer):
    address_family: ClassVar[socket.AddressFamily] = socket.AF_INET6  # type: ignore[misc]


def make_server(host: str, port: int, app_factory: Any) -> UiServer:
    """Bind (port 0 picks a free one) and attach the app built by `app_factory(port)`."""
    cls = _UiServer6 if ":" in host else UiServer
    server = cls((host.strip("[]"), port), _Handler)
    server.app = app_factory(server.server_address[1])
    return server
