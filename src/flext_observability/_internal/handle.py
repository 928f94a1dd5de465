"""`FlextObservability`: the handle `setup()` returns (SPEC §6)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from flext_observability._internal.emit import Emitter
from flext_observability._internal.guard import is_strict, report_internal_error
from flext_observability._internal.pipeline import Pipeline
from flext_observability.health import HealthRegistry
from flext_observability.result import FlextResult
from flext_observability.rules._alerts import Alerts
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.sinks._base import Entity
from flext_observability.sinks.store import SQLiteStore

__all__ = ["FlextObservability"]


class _Waiter:
    """Says whether a call running on a daemon thread finished in time, and how it ended."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: list[bool] = []

    def __call__(self, timeout: float | None) -> bool:
        return self.done.wait(timeout) and all(self.outcome)


def _start_daemon(fn: Callable[[], object]) -> _Waiter:
    """Run `fn` on a daemon thread; return a waiter that says whether it finished in time.

    The SDK's own flush/shutdown calls ignore or stretch their timeouts (an OTLP export to a
    black-holed collector can block ~10 s per signal); a daemon thread lets us keep our deadline
    and still let the process exit.
    """
    waiter = _Waiter()

    def target() -> None:
        try:
            waiter.outcome.append(fn() is not False)
        except Exception as exc:  # noqa: BLE001 - shutdown must go on
            report_internal_error("shutdown", exc)
            waiter.outcome.append(False)
        finally:
            waiter.done.set()

    threading.Thread(target=target, name="flext-observability-deadline", daemon=True).start()
    return waiter


class FlextObservability:
    """The live system `setup()` built: providers, entity pipeline, store, health and alerts.

    Use `emit()` to record entities, `health` to register checks, `alerts` for the alert engine,
    `force_flush(timeout)` and `shutdown(timeout)` (idempotent; one shared deadline), or the
    handle as a context manager.
    """

    def __init__(
        self,
        *,
        settings: FlextObservabilitySettings,
        pipeline: Pipeline,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        logger_provider: LoggerProvider | None,
        owns_providers: bool,
        emitter: Emitter,
        health: HealthRegistry,
        alerts: Alerts,
        store: SQLiteStore | None,
        cleanups: list[Callable[[], object]],
    ) -> None:
        """Assemble the handle; `setup()` is the only caller."""
        self.settings = settings
        self.pipeline = pipeline
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.logger_provider = logger_provider
        self._owns_providers = owns_providers
        self._emitter = emitter
        self.health = health
        self.alerts = alerts
        self.store = store
        self._cleanups = cleanups
        self._shutdown_lock = threading.Lock()
        self._is_shutdown = False
        self._flushing: dict[int, _Waiter] = {}
        self._flushing_lock = threading.Lock()

    @property
    def is_shutdown(self) -> bool:
        """Whether `shutdown()` has run; afterwards every call is a cheap no-op."""
        return self._is_shutdown

    def emit(self, entity: Entity | FlextResult[Any]) -> bool:
        """Record an entity (or a successful `FlextResult` of one) in the live pipeline.

        Returns False when nothing was recorded (after shutdown, or a failed result); never
        raises outside strict mode.
        """
        if self._is_shutdown:
            return False
        try:
            if isinstance(entity, FlextResult):
                if entity.is_failure:
                    return False
                self._emitter.emit(entity.value)
            else:
                self._emitter.emit(entity)
        except Exception as exc:
            if is_strict():
                raise
            report_internal_error("emit", exc)
            return False
        return True

    def _providers(self) -> list[Any]:
        return [
            p
            for p in (self.tracer_provider, self.meter_provider, self.logger_provider)
            if p is not None
        ]

    def force_flush(self, timeout: float | None = None) -> bool:
        """Export and deliver everything recorded so far; False if `timeout` expired first."""
        if self._is_shutdown:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        waiters = [self._flush_once(p) for p in self._providers()]
        ok = all([wait(remaining()) for wait in waiters])  # noqa: C419 - wait for every one
        # Spans/metrics/logs flushed above are now in the pipeline's queue.
        return self.pipeline.flush(remaining()) and ok

    def _flush_once(self, provider: Any) -> _Waiter:
        """Start the provider's flush, or join the one still running from an earlier call.

        A flush that outlived its caller's timeout (a black-holed collector) keeps its thread;
        the next call waits on that same flush instead of starting another, so repeated timed-out
        flushes never pile threads up.
        """
        with self._flushing_lock:
            running = self._flushing.get(id(provider))
            if running is not None and not running.done.is_set():
                return running
            waiter = _start_daemon(provider.force_flush)
            self._flushing[id(provider)] = waiter
            return waiter

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush and stop everything within one deadline (default: the configured one)."""
        with self._shutdown_lock:
            if self._is_shutdown:
                return True
            self._is_shutdown = True
        total = self.settings.shutdown_timeout_ms / 1000 if timeout is None else timeout
        deadline = time.monotonic() + total

        def remaining() -> float:
            return max(0.0, deadline - time.monotonic())

        # Everything stops in parallel against one deadline: our cleanups (health scheduler,
        # probe server, logging handler) and the providers (their final metric collection lands
        # in the pipeline; exporters may block on the network). The pipeline drains into the
        # sinks once the providers are done, or when only a reserve of the deadline is left.
        reserve = min(1.0, 0.3 * total)
        waiters = [_start_daemon(cleanup) for cleanup in self._cleanups]
        stop = "shutdown" if self._owns_providers else "force_flush"
        waiters += [_start_daemon(getattr(p, stop)) for p in self._providers()]
        providers_ok = all([wait(max(0.0, remaining() - reserve)) for wait in waiters])  # noqa: C419
        pipeline_ok = self.pipeline.shutdown(remaining())
        return providers_ok and pipeline_ok

    def __enter__(self) -> Self:
        """Return the handle itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Shut down within the configured deadline."""
        self.shutdown()
