"""The viewer as a pure request → response function over a read-only store (no sockets here).

`UiApp.handle(method, target, headers, body)` routes a request to a page, the JSON API or a
static file and returns a `Response`. The HTTP server (`_server`) only moves bytes. Every
response carries a strict Content-Security-Policy (scripts and styles from this origin only, no
inline code), and pages are never cached. A missing, locked or corrupt store gives a clear page
(503) that refreshes itself once the store is readable.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flext_observability.cli.ui import (
    _api,
    _pages_events,
    _pages_metrics,
    _pages_trace,
    _pages_traces,
)
from flext_observability.cli.ui import _pages_overview as overview
from flext_observability.cli.ui._html import Safe, h
from flext_observability.cli.ui._layout import Page, message_page, render
from flext_observability.cli.ui._params import Params
from flext_observability.exceptions import StoreError
from flext_observability.sinks.store import SQLiteStore

__all__ = ["COOKIE", "CSP", "Response", "UiApp"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
COOKIE = "flext_ui"
_STATIC = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

PageFn = Callable[[SQLiteStore, Params], Page]


@dataclass(slots=True)
class Response:
    """What the server sends back."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict[str, str])


class UiApp:
    """Routes requests; holds the read-only store connection (reopened after errors)."""

    def __init__(
        self,
        store_path: Path,
        *,
        token: str | None = None,
        allowed_hosts: frozenset[str] | None = None,
        lock_timeout: float = 2.0,
    ) -> None:
        """Serve `store_path`; require `token` when given; accept only `allowed_hosts`.

        `allowed_hosts` (Host header values) defends a loopback server against DNS rebinding;
        None accepts any Host (a non-loopback server, which requires the token instead).
        """
        self.store_path = store_path
        self._token = token
        self._session = _session_value(token) if token else None
        self._allowed_hosts = allowed_hosts
        self._lock_timeout = lock_timeout
        self._lock = threading.Lock()
        self._store: SQLiteStore | None = None
        self._pages: dict[str, PageFn] = {
            "/": overview.overview_page,
            "/traces": _pages_traces.traces_page,
            "/logs": overview.logs_page,
            "/metrics": _pages_metrics.metrics_page,
            "/alerts": _pages_events.alerts_page,
            "/health": _pages_events.health_page,
        }

    # -- store ---------------------------------------------------------------------------------

    def _reader(self) -> SQLiteStore:
        with self._lock:
            if self._store is None:
                self._store = SQLiteStore.open_readonly(
                    self.store_path, lock_timeout=self._lock_timeout
                )
            return self._store

    def _forget_store(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def close(self) -> None:
        """Close the store connection."""
        self._forget_store()

    # -- entry point ---------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Response:
        """Answer one request; never raises."""
        try:
            response = self._dispatch(method, target, headers, body)
        except Exception:  # noqa: BLE001 - a viewer bug must give a page, not a dropped socket
            sys.stderr.write("flext-observability ui: internal error\n" + traceback.format_exc())
            page = message_page(
                "Internal error",
                "The viewer failed to render this page; the details are on its stderr.",
                status=500,
            )
            response = self._page_response(page, headers)
        response.headers.update(_SECURITY_HEADERS)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _dispatch(  # noqa: PLR0911 - one answer per kind of request
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> Response:
        if self._allowed_hosts is not None and headers.get("host", "") not in self._allowed_hosts:
            return Response(421, b"unknown Host header\n", "text/plain; charset=utf-8")
        split = urlsplit(target)
        path = split.path or "/"
        if path.startswith("/static/") and method in {"GET", "HEAD"}:
            return _static(path.removeprefix("/static/"))
        if path == "/favicon.ico":
            return Response(204, b"")
        if path == "/login" and method == "POST":
            return self._login(body)
        if not self._authorized(headers):
            if path.startswith("/api/"):
                return _json_error(401, "a token is required (Authorization: Bearer TOKEN)")
            return self._login_page(path, headers)
        if method not in {"GET", "HEAD"}:
            return Response(
                405, b"method not allowed\n", "text/plain; charset=utf-8", {"Allow": "GET, HEAD"}
            )
        params = Params(parse_qs(split.query, keep_blank_values=False))
        if path.startswith("/api/"):
            return self._api(path, params)
        return self._page(path, params, headers)

    # -- pages ---------------------------------------------------------------------------------

    def _page(self, path: str, params: Params, headers: Mapping[str, str]) -> Response:
        fn = self._pages.get(path.rstrip("/") or "/")
        trace_id = None
        if fn is None and path.startswith("/traces/"):
            trace_id = path.removeprefix("/traces/").strip("/")
            fn = _pages_trace.trace_page_for(trace_id)
        if fn is None:
            page = message_page("Not found", f"There is no page at {path}.", status=404)
            return self._page_response(page, headers)
        try:
            page = fn(self._reader(), params)
        except StoreError as exc:
            page = self._store_problem(exc)
        except ValueError as exc:
            section = "/traces" if trace_id else path
            page = message_page("Invalid filter", str(exc), status=400, section=section)
        return self._page_response(page, headers)

    def _page_response(self, page: Page, headers: Mapping[str, str]) -> Response:
        if headers.get("x-flext-fragment"):
            markup: Safe = page.live
        else:
            markup = render(page, store_label=str(self.store_path))
        return Response(page.status, markup.encode("utf-8"), headers=dict(page.headers))

    def _store_problem(self, exc: StoreError) -> Page:
        self._forget_store()
        text = str(exc)
        if not self.store_path.exists():
            return message_page(
                "No store yet",
                f"There is no flext-observability store at {self.store_path} yet.",
                hint="Run your app with flext-observability (e.g. `flext-observability run -- "
                "python app.py`) or pass --store PATH; this page refreshes by itself once the "
                "store exists.",
                status=503,
            )
        cause = exc.__cause__
        if isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause):
            return message_page(
                "Store busy",
                f"The store at {self.store_path} is locked by another process.",
                hint="This page retries by itself.",
                status=503,
            )
        return message_page(
            "Cannot read the store",
            text,
            hint="The file is corrupt, not a flext-observability store, or from a newer "
            "version. Point --store at another file; this page retries by itself.",
            status=503,
        )

    # -- API -----------------------------------------------------------------------------------

    def _api(self, path: str, params: Params) -> Response:
        if path == "/api/version":
            try:
                version = _api.version(self._reader())
            except StoreError as exc:
                self._forget_store()
                state = "missing" if not self.store_path.exists() else "error"
                return _json(200, _api.dumps({"store": state, "error": str(exc)}))
            return _json(200, _api.dumps({"store": "ok", **version}))
        try:
            result = _api.route(self._reader(), path, params)
        except StoreError as exc:
            self._forget_store()
            return _json_error(503, str(exc))
        except ValueError as exc:
            return _json_error(400, str(exc))
        if result is None:
            return _json_error(404, f"no API at {path}")
        body, headers = result
        return _json(200, body, headers)

    # -- authentication ------------------------------------------------------------------------

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        if self._token is None or self._session is None:
            return True
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and hmac.compare_digest(
            auth[7:].strip().encode(), self._token.encode()
        ):
            return True
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and hmac.compare_digest(value.encode(), self._session.encode()):
                return True
        return False

    def _login_page(self, path: str, headers: Mapping[str, str]) -> Response:
        form = h(
            '<form class="login" method="post" action="/login">'
            '<input type="hidden" name="next" value="{}">'
            '<label>Token <input type="password" name="token" autocomplete="current-password" '
            'autofocus required></label><button type="submit">Open</button></form>',
            path,
        )
        page = Page(
            title="Token required",
            section="",
            live=h(
                '<div class="notice"><h2>Token required</h2><p>This viewer listens beyond '
                "loopback, so it asks for the token given with --token or "
                "FLEXT_OBSERVABILITY_UI_TOKEN.</p>{}</div>",
                form,
            ),
            status=401,
        )
        return self._page_response(page, headers)

    def _login(self, body: bytes) -> Response:
        fields = parse_qs(body[:4096].decode("utf-8", "replace"))
        given = (fields.get("token") or [""])[0]
        target = (fields.get("next") or ["/"])[0]
        if not target.startswith("/") or target[1:2] in {"/", "\\"}:
            target = "/"  # only paths on this server: "//host" and "/\\host" leave it
        if self._token is None or self._session is None:
            return Response(303, b"", headers={"Location": target})
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            return Response(403, b"wrong token\n", "text/plain; charset=utf-8")
        cookie = f"{COOKIE}={self._session}; HttpOnly; SameSite=Strict; Path=/"
        return Response(303, b"", headers={"Location": target, "Set-Cookie": cookie})


def _session_value(token: str) -> str:
    return hashlib.sha256(b"flext-observability-ui\0" + token.encode()).hexdigest()


def _static(name: str) -> Response:
    content_type = _STATIC.get(name)
    if content_type is None:
        return Response(404, b"not found\n", "text/plain; charset=utf-8")
    data = resources.files("flext_observability.cli.ui").joinpath("static", name).read_bytes()
    return Response(200, data, content_type, {"Cache-Control": "no-cache"})


def _json(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body.encode("utf-8"), "application/json", dict(headers or {}))


def _json_error(status: int, message: str) -> Response:
    return _json(status, _api.dumps({"error": message}))
