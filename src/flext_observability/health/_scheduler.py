"""The health scheduler thread: calls `tick()` whenever it says there is work, until stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flext_observability._internal.guard import guard
from flext_observability._internal.signals import start_quiet

__all__ = ["Scheduler"]

MAX_WAIT = 1.0  # seconds: the thread re-reads the registry at least this often


class Scheduler:
    """One daemon thread that runs `tick()` and then sleeps for the seconds it returned.

    `wake()` cuts a sleep short (a check was registered); `stop(timeout)` ends the thread.
    """

    def __init__(self, tick: Callable[[], float], *, name: str = "flext-health-scheduler") -> None:
        """Prepare the thread (it starts with `start()`)."""
        self._tick = tick
        self._name = name
        self.reset_after_fork()

    def reset_after_fork(self) -> None:
        """Forget the thread and make fresh locks (a forked child has no threads)."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        """Whether `start()` was called and `stop()` has not been since."""
        return self._thread is not None

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def wake(self) -> None:
        """Make the thread tick now rather than at the end of its sleep."""
        self._wake.set()

    def start(self) -> None:
        """Start the thread unless it is running (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop_event = threading.Event()
            thread = threading.Thread(
                target=self._loop, args=(self._stop_event,), name=self._name, daemon=True
            )
            self._thread = thread
        start_quiet(thread)

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            wait = MAX_WAIT
            with guard("health.scheduler"):
                wait = min(self._tick(), MAX_WAIT)
            # A wake() between this wait and clear() is not lost: the next tick reads all state.
            self._wake.wait(max(wait, 0.001))
            self._wake.clear()

    def stop(self, timeout: float) -> bool:
        """Stop the thread; return whether it ended within `timeout` seconds."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop_event.set()
        self._wake.set()
        if thread is None:
            return True
        thread.join(max(timeout, 0.0))
        return not thread.is_alive()
