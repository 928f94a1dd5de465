"""SIGTERM flushes before the process dies (how containers, supervisors and pools stop processes).

Python's default SIGTERM action kills the process without running `atexit`, so everything not yet
delivered is lost. `install()` (called by `setup()` on the main thread) takes SIGTERM only while
nobody else has: the handler shuts telemetry down within the configured deadline, on a separate
thread (the interrupted main thread may hold a lock the shutdown needs), then restores the
default action and re-sends the signal, so the process still dies by SIGTERM (same exit status as
without us). A handler the app or server installs later replaces ours, and servers that restore
the previous handler and re-raise the signal after their graceful shutdown (uvicorn) reach ours.

This is the minimal SIGTERM handling the server integrations need; see issue 9 for the full
signal story (SIGINT, chaining a handler that was there before).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

from flext_observability._internal.guard import guard, report_internal_error

__all__ = ["install"]

_on_term: Callable[[], object] | None = None
_join_timeout: float = 0.0


def _handle_sigterm(signum: int, _frame: FrameType | None) -> None:
    try:
        with guard("sigterm", reraise=False):  # the signal must still end the process
            if _on_term is not None:
                worker = threading.Thread(
                    target=_on_term, name="flext-observability-sigterm", daemon=True
                )
                worker.start()
                worker.join(_join_timeout)
    finally:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def install(on_term: Callable[[], object], deadline_s: float) -> bool:
    """Handle SIGTERM with `on_term` (bounded by `deadline_s`) if nobody else handles it.

    Returns True when our handler is (now) the SIGTERM handler.
    """
    global _on_term, _join_timeout
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        current = signal.getsignal(signal.SIGTERM)
        _on_term, _join_timeout = on_term, deadline_s + 1.0
        if current is _handle_sigterm:
            return True
        if current is not signal.SIG_DFL:
            return False  # the app's or server's own handler decides
        signal.signal(signal.SIGTERM, _handle_sigterm)
    except (ValueError, OSError) as exc:  # no signals here (embedded interpreter)
        report_internal_error("sigterm", exc)
        return False
    return True
