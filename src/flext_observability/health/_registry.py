"""Health checks: a registry, a scheduler thread, time-boxed runs and the aggregate status.

A check is any callable (sync or `async def`) taking no arguments. What it returns is
normalised (see `normalize_outcome`): a `HealthStatus` or its string, a `bool`, `None`
(healthy), a `(status, message)` tuple, a `FlextResult`, or a `FlextHealthCheck`; raising makes
it `unhealthy` with `"<ExcType>: <message>"` (never a stack trace); anything else is `unknown`.

Every run is time-boxed on a daemon worker thread: a check that exceeds its timeout is reported
`unhealthy` ("timed out after 2.0s") and is not started again until its previous run returns, so
hung checks cannot pile up threads, and they never block other checks, the scheduler, the probe
server (which reads cached results only) or the application. Timeouts use the real monotonic
clock; the injectable `clock` only drives the schedule.

Fork: a forked child keeps the registrations but starts empty (no results, nothing in flight,
fresh locks); if the parent's scheduler was running, the child's starts again lazily on its
first `run`/`run_all`/`latest`/`overall`/`is_ready`/`register` call (or call `start()`).

This is a core module: no OpenTelemetry import. The `flext.health.status` gauge is built at the
edge from `gauge_points()`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, overload

from flext_observability._internal import fork
from flext_observability._internal.guard import guard
from flext_observability.health._builtin import (
    export_health_check,
    pipeline_saturation_check,
    store_writable_check,
)
from flext_observability.health._exec import CheckRun, CheckSpec, execute, positive_seconds
from flext_observability.health._pool import WorkerPool
from flext_observability.health._results import (
    STATUS_VALUES,
    aggregate,
    normalize_outcome,
    status_value,
    timed_out_result,
)
from flext_observability.health._scheduler import MAX_WAIT, Scheduler
from flext_observability.models._events import FlextHealthCheck
from flext_observability.models._types import HealthStatus

__all__ = [
    "STATUS_VALUES",
    "HealthRegistry",
    "aggregate",
    "export_health_check",
    "normalize_outcome",
    "pipeline_saturation_check",
    "status_value",
    "store_writable_check",
]

F = TypeVar("F", bound=Callable[..., Any])


class HealthRegistry:
    """Registered health checks, their latest results, and the thread that runs them.

    Args:
        clock: Monotonic seconds for the schedule (inject a fake one in tests).
        on_result: Called with every result, from whichever thread produced it.
        default_timeout: Seconds a check may run when `register` gives no timeout.
        default_interval: Seconds between runs when `register` gives no interval.
        service_name: Stamped on every result that has none.
        max_idle_workers: Finished worker threads kept for reuse.
    """

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
        fork.register(self, after_in_child=self._after_fork_in_child)

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

    # -- registration -------------------------------------------------------------------------

    def register(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        timeout: float | None = None,
        interval: float | None = None,
        critical: bool = True,
    ) -> Callable[[], Any]:
        """Register `fn` as check `name` (replacing any check of that name); return `fn`.

        A critical check that is `unhealthy` makes the aggregate `unhealthy` (and `/readyz`
        answer 503); a non-critical one only makes it `degraded`.

        Raises:
            ConfigurationError: empty name, `fn` not callable, or a timeout/interval that is
                not a positive number of seconds.
        """
        spec = CheckSpec.build(
            name,
            fn,
            timeout=self._default_timeout if timeout is None else timeout,
            interval=self._default_interval if interval is None else interval,
            critical=critical,
        )
        self._maybe_restart()
        with self._lock:
            self._specs[name] = spec
            self._latest.pop(name, None)
            self._next_due[name] = self._clock()
        self._scheduler.wake()
        return fn

    @overload
    def check(self, name: F, /) -> F: ...

    @overload
    def check(
        self,
        name: str | None = None,
        *,
        timeout: float | None = None,
        interval: float | None = None,
        critical: bool = True,
    ) -> Callable[[F], F]: ...

    def check(
        self,
        name: str | F | None = None,
        *,
        timeout: float | None = None,
        interval: float | None = None,
        critical: bool = True,
    ) -> F | Callable[[F], F]:
        """Register the decorated function as a check (named after it unless `name` is given).

        Works bare (`@registry.check`) and called (`@registry.check("db", timeout=2)`).
        """
        if callable(name):
            self.register(name.__name__, name)
            return name

        def decorate(fn: F) -> F:
            self.register(
                name or fn.__name__, fn, timeout=timeout, interval=interval, critical=critical
            )
            return fn

        return decorate

    def unregister(self, name: str) -> bool:
        """Remove check `name` and its latest result; return whether it was registered."""
        with self._lock:
            self._latest.pop(name, None)
            self._next_due.pop(name, None)
            return self._specs.pop(name, None) is not None

    @property
    def names(self) -> list[str]:
        """Registered check names, in registration order."""
        with self._lock:
            return list(self._specs)

    def is_critical(self, name: str) -> bool:
        """Whether check `name` is critical (raises `KeyError` when it is not registered)."""
        with self._lock:
            return self._specs[name].critical

    # -- running --------------------------------------------------------------------------

    def run(self, name: str) -> FlextHealthCheck:
        """Run check `name` now and return its result, waiting at most its timeout.

        If a run of it is already going, that run is awaited instead of starting another.

        Raises:
            KeyError: no check is registered under `name`.
        """
        self._maybe_restart()
        with self._lock:
            spec = self._specs[name]
        return self._await(self._start(spec))

    def run_all(self) -> list[FlextHealthCheck]:
        """Run every check concurrently; return their results in registration order.

        Takes about as long as the slowest check, at most the longest timeout.
        """
        self._maybe_restart()
        with self._lock:
            specs = list(self._specs.values())
        started = [self._start(spec) for spec in specs]
        return [self._await(item) for item in started]

    def latest(self) -> dict[str, FlextHealthCheck]:
        """The last result of every registered check that has run (cheap: no check runs)."""
        self._maybe_restart()
        with self._lock:
            return {name: self._latest[name] for name in self._specs if name in self._latest}

    def overall(self) -> HealthStatus:
        """Aggregate the latest results (rules in `aggregate`; nothing run yet → `unknown`)."""
        self._maybe_restart()
        with self._lock:
            pairs = [(self._latest.get(n), s.critical) for n, s in self._specs.items()]
        return aggregate(pairs)

    def is_ready(self) -> bool:
        """Whether the aggregate is anything but `unhealthy` (`unknown` counts as ready)."""
        return self.overall() is not HealthStatus.UNHEALTHY

    def gauge_points(self) -> list[tuple[float, dict[str, str]]]:
        """`(value, attributes)` per latest result, for the `flext.health.status` gauge."""
        return [
            (status_value(result.status), {"check": name}) for name, result in self.latest().items()
        ]
