"""One run of one health check: the check's spec, the run's state and the call itself."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from flext_observability.exceptions import ConfigurationError
from flext_observability.health._results import normalize_outcome, timed_out_result
from flext_observability.models._events import FlextHealthCheck

__all__ = ["CheckRun", "CheckSpec", "execute", "positive_seconds"]

_TIMED_OUT = object()


def positive_seconds(value: object, what: str) -> float:
    """Return `value` as seconds, or raise `ConfigurationError` unless it is finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(
            f"{what} must be a positive number of seconds, got {type(value).__name__}"
        )
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigurationError(f"{what} must be a positive number of seconds, got {value!r}")
    return seconds


@dataclass(frozen=True, eq=False)
class CheckSpec:
    """A registered check: what to call and how (timeout and interval in seconds)."""

    name: str
    fn: Callable[[], Any]
    timeout: float
    interval: float
    critical: bool

    @classmethod
    def build(
        cls,
        name: object,
        fn: object,
        *,
        timeout: object,
        interval: object,
        critical: bool,
    ) -> CheckSpec:
        """Validate a registration.

        Raises:
            ConfigurationError: empty name, `fn` not callable, or a timeout/interval that is
                not a positive number of seconds.
        """
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"health check name must be a non-empty string, got {name!r}")
        if not callable(fn):
            raise ConfigurationError(
                f"health check {name!r}: expected a callable, got {type(fn).__name__}"
            )
        return cls(
            name=name,
            fn=fn,
            timeout=positive_seconds(timeout, f"health check {name!r}: timeout"),
            interval=positive_seconds(interval, f"health check {name!r}: interval"),
            critical=bool(critical),
        )


class CheckRun:
    """One run of a check. `done` is set once its result is final (returned or timed out)."""

    __slots__ = ("deadline", "done", "result", "spec", "started")

    def __init__(self, spec: CheckSpec) -> None:
        """Start the clock of a run of `spec` (time-boxing uses the real monotonic clock)."""
        self.spec = spec
        self.started = time.monotonic()
        self.deadline = self.started + spec.timeout
        self.done = threading.Event()
        self.result: FlextHealthCheck | None = None

    def elapsed_ms(self) -> float:
        """Milliseconds since the run started."""
        return max(time.monotonic() - self.started, 0.0) * 1000.0

    def timed_out(self, service_name: str | None) -> FlextHealthCheck:
        """The result of this run when it exceeded its timeout."""
        return timed_out_result(
            self.spec.name,
            self.spec.timeout,
            duration_ms=self.elapsed_ms(),
            service_name=service_name,
        )


async def _bounded(awaitable: Awaitable[Any], seconds: float) -> Any:
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=max(seconds, 0.0))
    if done:
        return task.result()
    task.cancel()
    with contextlib.suppress(BaseException):  # the check is being abandoned on purpose
        await task
    return _TIMED_OUT


def execute(run: CheckRun, service_name: str | None) -> FlextHealthCheck:
    """Call the check (awaiting it on a fresh event loop if it is async) and normalise it.

    Runs on a worker thread. An async check is cancelled at its deadline; a sync one cannot
    be interrupted, so the registry reports it as timed out while this call keeps waiting.
    """
    spec = run.spec
    outcome: object
    try:
        outcome = spec.fn()
        if inspect.isawaitable(outcome):
            outcome = asyncio.run(_bounded(outcome, run.deadline - time.monotonic()))
    except BaseException as exc:  # noqa: BLE001 - whatever a check raises is its result
        outcome = exc
    if outcome is _TIMED_OUT:
        return run.timed_out(service_name)
    return normalize_outcome(
        spec.name, outcome, duration_ms=run.elapsed_ms(), service_name=service_name
    )
