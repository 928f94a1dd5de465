"""A small pool of daemon worker threads for running health checks.

Why not `concurrent.futures.ThreadPoolExecutor`: its threads are joined at interpreter exit, so
one hung check would hang the host's exit; and a fixed-size pool lets hung checks starve the
others. Here every worker is a daemon thread, a worker is started whenever a job finds no idle
one, and at most `max_idle` finished workers are kept waiting for work. The registry never runs
a check again while its previous run is still going, so the number of live threads is bounded by
the number of registered checks plus `max_idle`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from flext_observability._internal.guard import guard
from flext_observability._internal.signals import start_quiet

__all__ = ["WorkerPool"]

_STOP = object()


class WorkerPool:
    """Daemon worker threads started on demand; idle ones are kept, up to `max_idle`."""

    def __init__(self, *, max_idle: int = 2, name: str = "flext-health-worker") -> None:
        """Create an empty pool (threads start on the first `submit`)."""
        self._max_idle = max_idle
        self._name = name
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._idle = 0  # workers waiting on the queue and not yet promised a job
        self._threads: set[threading.Thread] = set()
        self._stopping = False
        self._serial = 0

    def reset_after_fork(self) -> None:
        """Forget the parent's workers (they do not exist in a forked child)."""
        self._reset()

    @property
    def thread_count(self) -> int:
        """How many worker threads are alive (busy or idle)."""
        with self._lock:
            return sum(1 for thread in self._threads if thread.is_alive())

    def submit(self, job: Callable[[], None]) -> None:
        """Run `job` on a worker thread: an idle one if there is one, else a new one."""
        with self._lock:
            self._stopping = False
            self._jobs.put(job)
            if self._idle > 0:
                self._idle -= 1  # that waiting worker will take this job
                return
            self._serial += 1
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{self._serial}", daemon=True
            )
            self._threads.add(thread)
        start_quiet(thread)

    def _work(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                job = self._jobs.get()
                if job is _STOP:
                    return
                assert callable(job)
                with guard("health.worker"):
                    job()
                with self._lock:
                    if self._stopping or self._idle >= self._max_idle:
                        return
                    self._idle += 1
        finally:
            with self._lock:
                self._threads.discard(me)

    def stop(self, timeout: float) -> bool:
        """Release the idle workers and wait up to `timeout` s for them; busy ones finish alone.

        Returns whether every worker had exited within the deadline (a worker stuck in a hung
        check cannot be interrupted; it is a daemon thread and exits when its check returns).
        """
        with self._lock:
            self._stopping = True
            for _ in range(self._idle):
                self._jobs.put(_STOP)
            self._idle = 0
            threads = list(self._threads)
        deadline = time.monotonic() + max(timeout, 0.0)
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        return not any(thread.is_alive() for thread in threads)
