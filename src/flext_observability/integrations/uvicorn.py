"""uvicorn: telemetry is flushed once the server finished its graceful shutdown.

After a graceful shutdown on SIGTERM/SIGINT, uvicorn restores the previous signal handlers and
re-sends itself the signal. In gunicorn's `UvicornWorker` the previous handler is the default
one (the worker resets it), so the worker dies by the signal without running `atexit`, and
everything recorded since the last export is lost. This instrumentor wraps `Server._serve` (the
part of `Server.serve` inside uvicorn's signal capture) so our telemetry is flushed, within the
configured deadline, after the last request finished and before the signal is re-sent.

`opentelemetry-instrument` loads it through the `flext_uvicorn` instrumentor entry point when
uvicorn is installed; an app that calls `setup()` itself and runs under gunicorn's uvicorn
workers calls `FlextUvicornInstrumentor().instrument()` once (plain `uvicorn` needs nothing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Coroutine
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from flext_observability._internal.guard import guard
from flext_observability._internal.setup import active

__all__ = ["FlextUvicornInstrumentor"]

_ORIGINAL = "_flext_original_serve"


@guard("uvicorn.shutdown", reraise=False)  # the server's shutdown must go on
def _flush() -> None:
    handle = active()
    if handle is not None:
        handle.force_flush(handle.settings.shutdown_timeout_ms / 1000)


def _wrap(
    serve: Callable[..., Coroutine[Any, Any, None]],
) -> Callable[..., Coroutine[Any, Any, None]]:
    @functools.wraps(serve)
    async def _serve(*args: Any, **kwargs: Any) -> None:
        try:
            await serve(*args, **kwargs)
        finally:
            _flush()

    return _serve


class FlextUvicornInstrumentor(BaseInstrumentor):  # type: ignore[misc] # BaseInstrumentor is untyped
    """Flushes our telemetry at the end of every uvicorn `Server` run."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """Uvicorn (versions tested: see the README's compatibility table)."""
        return ("uvicorn >= 0.30",)

    def _instrument(self, **kwargs: Any) -> None:  # noqa: ARG002 - BaseInstrumentor signature
        from uvicorn.server import Server  # noqa: PLC0415 - only when uvicorn is in use

        if not hasattr(Server, _ORIGINAL):
            setattr(Server, _ORIGINAL, Server._serve)  # noqa: SLF001 - the wrapped method
            Server._serve = _wrap(Server._serve)  # type: ignore[method-assign] # noqa: SLF001

    def _uninstrument(self, **kwargs: Any) -> None:  # noqa: ARG002 - BaseInstrumentor signature
        from uvicorn.server import Server  # noqa: PLC0415 - only when uvicorn is in use

        original = getattr(Server, _ORIGINAL, None)
        if original is not None:
            Server._serve = original  # type: ignore[method-assign] # noqa: SLF001
            delattr(Server, _ORIGINAL)
