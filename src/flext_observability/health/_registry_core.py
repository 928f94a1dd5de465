"""The machinery of `HealthRegistry`: state, runs, time-boxing, the schedule and fork handling.

`health.HealthRegistry` adds the public surface on top of `RegistryCore`.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable

from flext_observability._internal.guard import guard
from flext_observability.health._exec import CheckRun, CheckSpec, execute, positive_seconds
from flext_observability.health._pool import WorkerPool
from flext_observability.health._results import normalize_outcome, timed_out_result
from flext_observability.health._scheduler import MAX_WAIT, Scheduler
from flext_observability.models._events import FlextHealthCheck

__all__ = ["RegistryCore"]

_REGISTRIES: weakref.WeakSet[RegistryCore] = weakref.WeakSet()


class RegistryCore:
    """Checks, their runs and latest results, the worker pool and the scheduler."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_result: Callable[[FlextHealthCheck], None] | None = None,
        default_timeout: float = 5.0,
        default_interval: float = 30.0,
        service_name: str | None = None,
        max_idle_workers: int = 2,
    ) -> None:
        """Create an empty registry; the scheduler starts with `start()`."""
        self._clock = clock
        self._on_result = on_result
        self._default_timeout = positive_seconds(default_timeout, "health default_timeout")
        self._default_interval = positive_seconds(default_interval, "health default_interval")
        self._service_name = service_name
        self._pool = WorkerPool(max_idle=max_idle_workers)
        self._scheduler = Scheduler(self._tick)
        self._specs: dict[str, CheckSpec] = {}
        self._restart_in_child = False
        self._reset_state()
        _REGISTRIES.add(self)

    def _reset_state(self) -> None:
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)  # notified when a run returns
        self._latest: dict[str, FlextHealthCheck] = {}
        self._inflight: dict[str, CheckRun] = {}
        self._next_due: dict[str, float] = {}

    def _start(self, spec: CheckSpec) -> CheckRun | FlextHealthCheck:
        """Start a run of `spec`, join the one in flight, or report that it is still hung."""
        with self._lock:
            current = self._inflight.get(spec.name)
            if current is None:
                run = CheckRun(spec)
                self._inflight[spec.name] = run
        if current is not None:
            if not current.done.is_set():
                return current
            # It timed out and is still running: do not pile up another thread for it.
            result = timed_out_result(
                spec.name,
                spec.timeout,
                duration_ms=current.elapsed_ms(),
                service_name=self._service_name,
                still_running=True,
            )
            self._record(spec, result)
            return result
        try:
            self._pool.submit(lambda: self._execute(run))
        except Exception as exc:  # noqa: BLE001 - e.g. "can't start new thread"
            with self._lock:
                self._inflight.pop(spec.name, None)
            self._finish(run, normalize_outcome(spec.name, exc, duration_ms=0.0))
        return run

    def _await(self, item: CheckRun | FlextHealthCheck) -> FlextHealthCheck:
        if isinstance(item, FlextHealthCheck):
            return item
        if not item.done.wait(max(item.deadline - time.monotonic(), 0.0)):
            self._finish(item, item.timed_out(self._service_name))
        assert item.result is not None  # set before `done`
        return item.result

    def _execute(self, run: CheckRun) -> None:
        try:
            result = execute(run, self._service_name)
        finally:
            with self._lock:
                if self._inflight.get(run.spec.name) is run:
                    del self._inflight[run.spec.name]
                self._settled.notify_all()
        self._finish(run, result)

    def _wait_idle(self, timeout: float) -> bool:
        """Wait until no check is running; return False if some still are after `timeout` s."""
        with self._settled:
            return self._settled.wait_for(lambda: not self._inflight, timeout)

    def _finish(self, run: CheckRun, result: FlextHealthCheck) -> None:
        """Make `result` the run's outcome unless it already has one (first one wins)."""
        with self._lock:
            if run.done.is_set():
                return  # a late return after the timeout: the timeout result stands
            run.result = result
            run.done.set()
        self._record(run.spec, result)

    def _record(self, spec: CheckSpec, result: FlextHealthCheck) -> None:
        with self._lock:
            if self._specs.get(spec.name) is not spec:
                return  # unregistered or replaced meanwhile
            self._latest[spec.name] = result
        if self._on_result is not None:
            with guard("health.on_result"):
                self._on_result(result)

    # -- scheduling -----------------------------------------------------------------------

    def _tick(self) -> float:
        """Expire overdue runs and start due checks; return seconds until there is work."""
        now = self._clock()
        with self._lock:
            due = [
                spec
                for name, spec in self._specs.items()
                if self._next_due.setdefault(name, now) <= now
            ]
            for spec in due:
                self._next_due[spec.name] = now + spec.interval
        mono = time.monotonic()
        with self._lock:
            overdue = [r for r in self._inflight.values() if not r.done.is_set()]
        for run in overdue:
            if run.deadline <= mono:
                self._finish(run, run.timed_out(self._service_name))
        for spec in due:
            self._start(spec)
        with self._lock:
            waits = [due_at - self._clock() for due_at in self._next_due.values()]
            waits += [
                r.deadline - time.monotonic()
                for r in self._inflight.values()
                if not r.done.is_set()
            ]
        return min([MAX_WAIT, *waits])

    def start(self) -> None:
        """Start the scheduler (idempotent): every check runs at once, then on its interval."""
        self._restart_in_child = False
        self._scheduler.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the scheduler and release idle workers within `timeout` seconds.

        Returns whether everything stopped in time (False while a hung check still runs:
        its daemon worker exits when the check returns).
        """
        deadline = time.monotonic() + max(timeout, 0.0)
        scheduler_stopped = self._scheduler.stop(timeout)
        workers_stopped = self._pool.stop(max(deadline - time.monotonic(), 0.0))
        return scheduler_stopped and workers_stopped

    @property
    def running(self) -> bool:
        """Whether the scheduler thread is alive."""
        return self._scheduler.running

    # -- fork -----------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        self._restart_in_child = self._scheduler.started
        self._reset_state()
        self._pool.reset_after_fork()
        self._scheduler.reset_after_fork()

    def _maybe_restart(self) -> None:
        if self._restart_in_child:
            self.start()


def _after_fork_in_child() -> None:
    for registry in list(_REGISTRIES):
        registry._after_fork_in_child()  # noqa: SLF001 - the module owns its registries


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
