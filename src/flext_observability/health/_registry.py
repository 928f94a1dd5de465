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

from collections.abc import Callable
from typing import Any, TypeVar, overload

from flext_observability.health._builtin import (
    export_health_check,
    pipeline_saturation_check,
    store_writable_check,
)
from flext_observability.health._exec import CheckSpec
from flext_observability.health._registry_core import RegistryCore
from flext_observability.health._results import (
    STATUS_VALUES,
    aggregate,
    normalize_outcome,
    status_value,
)
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


class HealthRegistry(RegistryCore):
    """Registered health checks, their latest results, and the thread that runs them.

    Args:
        clock: Monotonic seconds for the schedule (inject a fake one in tests).
        on_result: Called with every result, from whichever thread produced it.
        default_timeout: Seconds a check may run when `register` gives no timeout.
        default_interval: Seconds between runs when `register` gives no interval.
        service_name: Stamped on every result that has none.
        max_idle_workers: Finished worker threads kept for reuse.
    """

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
