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

A Python handler runs on the main thread when that thread next runs bytecode, and a main thread
blocked in a lock or semaphore only wakes for a signal delivered *to it*. When the signal lands
on another thread, or on the main thread in the instant between its last bytecode and its
`sem_wait`, nothing wakes it: where the default action would have killed the process, ours would
then wait forever (a `Pool` worker idling for its next task, seen as a hung `Pool.terminate()`).
So where we wrap the default action we also watch the signal wake-up fd (`signal.set_wakeup_fd`,
written by CPython's C-level handler for every signal): if our handler has not started 0.2 s after
a SIGTERM/SIGINT arrived, a small thread re-sends it to the main thread (`signal.pthread_kill`),
whose blocking call then returns `EINTR` and runs the handler. A wake-up fd the application (or
asyncio) already set is left in place, and one set later simply replaces ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from flext_observability._internal import fork

try:  # POSIX
    import fcntl
    import resource
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    resource = None  # type: ignore[assignment]

__all__ = ["install", "prepare", "quiet_this_thread", "start_quiet"]

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_MARK = "_flext_observability_chained"
_DEFAULT_MARK = "_flext_observability_wraps_default"
_GRACE_S = 0.5
_RESEND_AFTER_S = 0.2


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
        _Watch.entered[received] = _Watch.entered.get(received, 0) + 1
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
    setattr(handler, _DEFAULT_MARK, previous is signal.SIG_DFL)
    handler.__name__ = f"flext_observability_{signal.Signals(signum).name.lower()}_handler"
    return handler


def _high_base() -> int | None:
    """The lowest descriptor number `_high_pipe` uses (None: no `fcntl` on this platform)."""
    if fcntl is None or resource is None:
        return None
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return min(1024, soft // 2) if soft > 0 else 1024  # RLIM_INFINITY is negative


def prepare() -> None:
    """Grow the descriptor table to the numbers `_high_pipe` uses, before threads share it.

    Linux grows a process's descriptor table on demand, and when other threads share the table
    it first waits for an RCU grace period: 10-15 ms of wall time at every `setup()` whose
    pipeline threads were already running when the signal pipe was made. `setup()` calls this
    before it starts any thread; the table never shrinks, so the later pipe costs nothing.
    """
    base = _high_base()
    if base is None:
        return
    with contextlib.suppress(OSError):
        read_fd, write_fd = os.pipe()
        try:
            os.close(fcntl.fcntl(read_fd, fcntl.F_DUPFD_CLOEXEC, base))
        finally:
            os.close(read_fd)
            os.close(write_fd)


def _high_pipe() -> tuple[int, int]:
    """A pipe on high descriptor numbers (close-on-exec), away from the ones an app reuses.

    CPython writes the signal byte to the wake-up fd *number*. A daemonizing app (Celery's
    `--detach`, python-daemon) may close every descriptor after `setup()`; the lowest free
    numbers are what it opens next (its log file, a socket), so a low number of ours could then
    receive signal bytes. Numbers from half the descriptor limit (at most 1024) up are reused
    only by a process holding that many files.
    """
    read_fd, write_fd = os.pipe()
    base = _high_base()
    if base is None:
        return read_fd, write_fd
    try:
        high_read = fcntl.fcntl(read_fd, fcntl.F_DUPFD_CLOEXEC, base)
    except OSError:  # no free number up there: the plain pipe still works
        return read_fd, write_fd
    try:
        high_write = fcntl.fcntl(write_fd, fcntl.F_DUPFD_CLOEXEC, base)
    except OSError:
        os.close(high_read)
        return read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)
    return high_read, high_write


class _Watch:
    """The wake-up fd's reader: re-sends a stop signal whose handler did not start in time.

    One per process (`active`); a forked child gets its own pipe and thread (the parent's pipe
    is shared with it: a child's signal must never reach the parent's watch).
    """

    active: _Watch | None = None
    entered: dict[int, int] = {}  # noqa: RUF012 - class-level: handler entries per signal
    """How many times our handler started, per signal (written on the main thread only)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.resent = 0
        """Signals sent to the main thread again (tests read it)."""
        self.expected: dict[int, int] = {}
        self.echoes: dict[int, int] = {}

    @classmethod
    def start(cls) -> None:
        """Watch the wake-up fd unless someone else already does (main thread only)."""
        if cls.active is not None or not hasattr(signal, "pthread_kill"):
            return
        watch = cls._set_fd(expected=-1)
        if watch is not None:
            cls.active = watch
            watch.start_thread()

    @classmethod
    def _set_fd(cls, *, expected: int) -> _Watch | None:
        """Make a pipe the wake-up fd if the current one is `expected`; else change nothing.

        Without a new pipe (no descriptor left), a fork child's inherited wake-up fd (`expected`
        is the parent's) is unset: the parent's watch must never read this child's signals.
        """
        try:
            read_fd, write_fd = _high_pipe()
        except OSError:
            if expected != -1:
                with contextlib.suppress(OSError, ValueError):
                    previous = signal.set_wakeup_fd(-1)
                    if previous != expected:
                        signal.set_wakeup_fd(previous)
            return None
        try:
            os.set_blocking(write_fd, False)  # CPython requires it (and never waits on it)
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except (OSError, ValueError):
            os.close(read_fd)
            os.close(write_fd)
            return None
        if previous != expected:  # not ours to replace: put it back as it was set
            signal.set_wakeup_fd(previous)
            os.close(read_fd)
            os.close(write_fd)
            return None
        return cls(read_fd, write_fd)

    def start_thread(self) -> None:
        thread = threading.Thread(
            target=self._run, name="flext-observability-signal-watch", daemon=True
        )
        start_quiet(thread)

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 64)
            except InterruptedError:
                continue
            except OSError:
                return  # closed (a forked child replaced this pipe)
            if not data:
                return
            for signum in data:
                if signum in _SIGNALS:
                    self._arrived(signum)

    def _arrived(self, signum: int) -> None:
        """One SIGTERM/SIGINT reached the C handler: make sure our handler starts for it."""
        if self.echoes.get(signum, 0):  # the byte of our own re-send
            self.echoes[signum] -= 1
            return
        self.expected[signum] = self.expected.get(signum, 0) + 1  # one start per arrival
        if self._started(signum, self.expected[signum]):
            return
        if not getattr(signal.getsignal(signum), _DEFAULT_MARK, False):
            return  # replaced, or chaining the app's handler: not ours to repeat
        main = threading.main_thread().ident
        if main is None:
            return
        # Two arrivals can also run the handler once (CPython keeps one flag per signal): then
        # this repeat runs it again, as a second signal would.
        self.echoes[signum] = self.echoes.get(signum, 0) + 1
        self.expected[signum] = self.entered.get(signum, 0) + 1
        self.resent += 1
        signal.pthread_kill(main, signum)

    def _started(self, signum: int, expected: int) -> bool:
        """Wait up to `_RESEND_AFTER_S` for the handler's `expected`-th start."""
        deadline = time.monotonic() + _RESEND_AFTER_S
        while self.entered.get(signum, 0) < expected:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def after_fork_in_child(self) -> None:
        """A new pipe and thread; the inherited fds are the parent's (closed here, not there)."""
        inherited = (self.read_fd, self.write_fd)
        _Watch.active = None
        _Watch.entered = {}
        try:
            watch = self._set_fd(expected=self.write_fd)
        finally:  # whatever happened, this child holds no end of the parent's pipe
            for fd in inherited:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if watch is not None:
            _Watch.active = watch
            watch.start_thread()


def _after_fork_in_child() -> None:
    global _running, _running_lock  # noqa: PLW0603 - a forked child starts with no flush
    _running_lock = threading.RLock()
    _running = None
    if _Watch.active is not None:
        _Watch.active.after_fork_in_child()


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
        if previous is signal.SIG_DFL:
            with contextlib.suppress(Exception):
                _Watch.start()
    return wrapped
