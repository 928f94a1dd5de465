"""A plain WSGI app for the gunicorn tests: one span and one log record per request."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

if os.environ.get("APP_CALLS_SETUP"):
    # An app that configures telemetry itself, at import (in each worker, or once in the master
    # under --preload), instead of running under opentelemetry-instrument.
    from flext_observability import setup

    setup()

_log = logging.getLogger("wsgi_app")
_tracer = trace.get_tracer("wsgi_app")


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer with the worker's pid, inside a `handle` span that logs once."""
    pid = str(os.getpid())
    with _tracer.start_as_current_span("handle") as span:
        span.set_attribute("app.pid", pid)
        span.set_attribute("app.path", environ.get("PATH_INFO", ""))
        _log.warning("served by %s", pid)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [pid.encode()]


app = OpenTelemetryMiddleware(_app)
"""The official WSGI instrumentation around it: a server span per request, parent of `handle`."""
