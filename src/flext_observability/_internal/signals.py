"""SIGTERM and SIGINT: flush within the shutdown deadline, then keep the handler's behaviour.

Containers stop with SIGTERM, whose default action kills the process without running `atexit`:
everything still queued would be lost. `install()` (called by `setup()` on the main thread)
wraps the handler in place for SIGTERM and SIGINT:

- default action (`SIG_DFL`): shut telemetry down within the deadline, restore the default and
  re-send the signal, so the process still dies *by that signal* (same exit status as before);
- a handler the app or server installed (a Python callable): flush within the deadline, then call
  it — its behaviour (graceful stop, `sys.exit`, ...) is unchanged; a normal exit then runs our
  `atexit` shutdown;
- ignored (`SIG_IGN`), Python's own `KeyboardInterrupt` for SIGINT (a normal exit follows, with
  `atexit`), or a handler set from C: left alone.

A signal is never swallowed. The flush runs on a helper thread joined with the deadline, so a
lock held by the interrupted main thread can delay delivery but never hang the process. Fork
children inherit the wrapper (so `multiprocessing.Pool` workers terminated with SIGTERM deliver).
A server that installs its own handlers after `setup()` replaces ours; its graceful exit then runs
the `atexit` shutdown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from flext_observability._internal import fork

__all__ = ["install", "quiet_this_thread", "start_quiet"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_MARK = "_flext_observability_chained"
_GRACE_S = 0.5


# Re-entrant: a second signal can arrive while the main thread is inside `_run_bounded` (even
# inside `Thread.start()`, which waits), and its handler runs on that same thread. With a plain
# lock that handler waited for itself forever, and the process could no longer be stopped.
_running_lock = threading.RLock()
_running: threading.Thread | None = None


def start_quiet(thread: threading.Thread) -> None:
    """Start `thread` with SIGTERM and SIGINT blocked in it: they go to the main thread.

    Our handler is a Python one, and Python runs it on the main thread only, when that thread
    next runs bytecode. The kernel may hand a process-wide signal to any thread that does not
    block it: given to one of ours while the main thread waits in a blocking call that only a
    signal to itself interrupts (a pool worker waiting for its next task), the handler would
    never run, and a `Pool` waiting for its terminated worker would hang. Every thread of ours
    is started through here (a new thread inherits the creating thread's mask).
    """
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:  # not POSIX
        thread.start()
        return
    previous = mask(signal.SIG_BLOCK, _SIGNALS)
    try:
        thread.start()
    finally:
        mask(signal.SIG_SETMASK, previous)


def quiet_this_thread() -> None:
    """Block SIGTERM and SIGINT in the calling thread (one another library started for us)."""
    if threading.current_thread() is not threading.main_thread() and hasattr(
        signal, "pthread_sigmask"
    ):
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def _run_bounded(fn: Callable[[], object], timeout: float) -> None:
    """Run `fn` on a daemon thread and wait at most `timeout` seconds.

    A second signal arriving while the first one's flush runs (a pool's terminate can send
    SIGTERM twice) joins that same flush instead of finding nothing left to do and acting at once;
    one arriving before that flush's thread has started runs a flush of its own.
    """
    global _running  # noqa: PLW0603 - one flush in flight per process
    with _running_lock:
        thread = _running
        if thread is None or not thread.is_alive():
            thread = threading.Thread(target=fn, name="flext-observability-signal", daemon=True)
            start_quiet(thread)
            _running = thread
    thread.join(timeout)


def _wrap(
    signum: int,
    previous: Any,
    *,
    shutdown: Callable[[], object],
    flush: Callable[[], object],
    deadline_s: Callable[[], float],
) -> Callable[[int, FrameType | None], None]:
    def handler(received: int, frame: FrameType | None) -> None:
        if previous is signal.SIG_DFL:
            with contextlib.suppress(Exception):
                _run_bounded(shutdown, deadline_s() + _GRACE_S)
            signal.signal(received, signal.SIG_DFL)
            os.kill(os.getpid(), received)  # the default action: die by this signal
            return
        with contextlib.suppress(Exception):
            _run_bounded(flush, deadline_s() + _GRACE_S)
        previous(received, frame)

    setattr(handler, _MARK, True)
    handler.__name__ = f"flext_observability_{signal.Signals(signum).name.lower()}_handler"
    return handler


def _after_fork_in_child() -> None:
    global _running, _running_lock  # noqa: PLW0603 - a forked child starts with no flush
    _running_lock = threading.RLock()
    _running = None


fork.register(after_in_child=_after_fork_in_child)


def install(
    *,
    shutdown: Callable[[], object],
    flush: Callable[[], object],
    deadline_s: Callable[[], float],
) -> list[int]:
    """Wrap the SIGTERM/SIGINT handlers (main thread only); return the signals wrapped."""
    if threading.current_thread() is not threading.main_thread():
        return []
    wrapped: list[int] = []
    for signum in _SIGNALS:
        try:
            previous = signal.getsignal(signum)
        except (OSError, ValueError):
            continue
        if previous is None or previous is signal.SIG_IGN or getattr(previous, _MARK, False):
            continue
        if signum == signal.SIGINT and previous is signal.default_int_handler:
            continue
        if previous is not signal.SIG_DFL and not callable(previous):
            continue
        handler = _wrap(signum, previous, shutdown=shutdown, flush=flush, deadline_s=deadline_s)
        try:
            signal.signal(signum, handler)
        except (OSError, ValueError):
            continue
        wrapped.append(signum)
    return wrapped
