"""`flext-observability ui`: a local web viewer of the embedded store.

Server-rendered pages from the standard library's HTTP server, a small script for live updates
and span selection, no dependency and nothing fetched from elsewhere (the CSS and JS ship in
`static/`). Read-only; binds 127.0.0.1 by default and accepts other hosts only with a token.
Imported only by the `ui` command, never by `import flext_observability`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import types
import webbrowser
from pathlib import Path
from typing import TextIO

from flext_observability.cli.ui._app import UiApp
from flext_observability.cli.ui._server import is_loopback, loopback_hosts, make_server

__all__ = ["run_ui"]


def _url_host(host: str) -> str:
    return f"[{host.strip('[]')}]" if ":" in host else host


def _can_open_browser() -> bool:
    # Without a display, webbrowser would start a text-mode browser in this terminal.
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _raise_interrupt(_signum: int, _frame: types.FrameType | None) -> None:
    raise KeyboardInterrupt


def run_ui(
    store: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    token: str | None = None,
    open_browser: bool = True,
    out: TextIO,
    err: TextIO,
) -> int:
    """Serve the viewer until SIGINT/SIGTERM; return the exit status (2: bad usage, 1: bind)."""
    loopback = is_loopback(host)
    if not loopback and not token:
        err.write(
            f"flext-observability ui: --host {host} is not a loopback address: a token is "
            "required (--token T or FLEXT_OBSERVABILITY_UI_TOKEN)\n"
        )
        return 2
    if not 0 <= port <= 65535:  # noqa: PLR2004 - the TCP port range
        err.write(f"flext-observability ui: --port must be 0..65535, got {port}\n")
        return 2

    def build(bound_port: int) -> UiApp:
        hosts = loopback_hosts(bound_port) if loopback else None
        return UiApp(store, token=token, allowed_hosts=hosts)

    try:
        server = make_server(host, port, build)
    except OSError as exc:
        err.write(f"flext-observability ui: cannot listen on {host}:{port}: {exc}\n")
        return 1
    url = f"http://{_url_host(host)}:{server.server_address[1]}/"
    out.write(f"flext-observability ui: {url}\n")
    out.write(f"serving {store} read-only; Ctrl-C stops\n")
    out.flush()
    if open_browser and _can_open_browser():
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if main_thread else None
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.app.close()
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    out.write("flext-observability ui: stopped\n")
    out.flush()
    return 0
