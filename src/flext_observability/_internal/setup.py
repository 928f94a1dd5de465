"""`setup()`, the `FlextObservability` handle it returns, and the module-level shortcuts.

`setup()` resolves the settings and has `wiring.build` assemble the system; the handle owns it
from then on (emit, force_flush, shutdown with one shared deadline). The module-level `emit`,
`force_flush` and `shutdown` act on the active handle.

`setup()` is idempotent: while a setup is active, calling it again returns the same handle (and
says once if the new settings differ). When a TracerProvider, MeterProvider or LoggerProvider
was already set by someone else, our components attach to it instead of replacing it.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from flext_observability._internal import diagnostics, fork, signals
from flext_observability._internal import wiring as _wiring
from flext_observability._internal.guard import guard, logger, set_strict
from flext_observability._internal.pipeline import Pipeline
from flext_observability._internal.providers import remember_validated_env
from flext_observability._internal.wiring import System
from flext_observability.exceptions import ConfigurationError
from flext_observability.health import HealthRegistry
from flext_observability.models import Entity
from flext_observability.result import FlextResult
from flext_observability.rules import Rule
from flext_observability.rules._alerts import Alerts
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.settings._otel_env import validate_otel_environment
from flext_observability.settings._parse import log_level_number
from flext_observability.settings._settings import log_problems_once
from flext_observability.sinks._base import Sink
from flext_observability.sinks.store import SQLiteStore

__all__ = [
    "SEMCONV_DEFAULTS",
    "FlextObservability",
    "active",
    "emit",
    "force_flush",
    "freeze_heap",
    "setup",
    "shutdown",
]


def freeze_heap(mode: str, *, before_app: bool) -> bool:
    """`gc.freeze()` if the `gc_freeze` setting (`mode`) asks for it here; True when it did.

    `"true"` freezes where `setup()` ends; `"auto"` only where our distro calls this
    (`before_app`: the configurator, then after each instrumentor it loads, all before the
    application's own modules run). Our pipeline keeps a few batches of the SDK's spans and our
    entities alive at any time; every collection of the oldest generation then walks the whole
    heap, most of it modules and classes that live as long as the process. Frozen objects are
    never walked again (they are still freed when their reference count drops to zero; only a
    cycle among them would stay). In the Flask service benchmark that cut our garbage
    collection from ~140-165 to ~55-85 µs per request. A programmatic `setup()` may run after
    the application built its own state, which could later become cyclic garbage: there only
    `"true"` freezes.
    """
    if mode != ("auto" if before_app else "true"):
        return False
    gc.freeze()
    return True


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
            with guard("shutdown", reraise=False):  # shutdown must go on
                waiter.outcome.append(fn() is not False)
                return
            waiter.outcome.append(False)
        finally:
            waiter.done.set()

    signals.start_quiet(
        threading.Thread(target=target, name="flext-observability-deadline", daemon=True)
    )
    return waiter


class FlextObservability:
    """The live system `setup()` built: providers, entity pipeline, store, health and alerts.

    Use `emit()` to record entities, `health` to register checks, `alerts` for the alert engine,
    `force_flush(timeout)` and `shutdown(timeout)` (idempotent; one shared deadline), or the
    handle as a context manager.
    """

    def __init__(self, system: System) -> None:
        """Wrap what `wiring.build` assembled; `setup()` is the only caller."""
        self.settings: FlextObservabilitySettings = system.settings
        self.pipeline: Pipeline = system.pipeline
        self.tracer_provider: TracerProvider | None = system.tracer_provider
        self.meter_provider: MeterProvider | None = system.meter_provider
        self.logger_provider: LoggerProvider | None = system.logger_provider
        self.health: HealthRegistry = system.health
        self.alerts: Alerts = system.alerts
        self.store: SQLiteStore | None = system.store
        self._owned_providers = system.owned_providers
        self._emitter = system.emitter
        self._cleanups = system.cleanups
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
        with guard("emit"):
            if isinstance(entity, FlextResult):
                if entity.is_failure:
                    return False
                self._emitter.emit(entity.value)
            else:
                self._emitter.emit(entity)
            return True
        return False

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

        # Spans and logs first (in parallel): flushing them runs the pipeline, which records
        # the metrics derived from them (`flext.span.duration`, `flext.log.records`). Only then
        # the metric collection, so it holds every span and record flushed by this call.
        feeders = [p for p in (self.tracer_provider, self.logger_provider) if p is not None]
        waiters = [self._flush_once(p) for p in feeders]
        ok = all([wait(remaining()) for wait in waiters])  # noqa: C419 - wait for every one
        if self.meter_provider is not None:
            ok = self.pipeline.flush(remaining()) and ok
            ok = self._flush_once(self.meter_provider)(remaining()) and ok
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
        # probe server, logging handler, what we added to someone else's provider) and the
        # providers (ours shut down, another's flushed; their final metric collection lands
        # in the pipeline; exporters may block on the network). The pipeline drains into the
        # sinks once the providers are done, or when only a reserve of the deadline is left.
        reserve = min(1.0, 0.3 * total)
        waiters = [_start_daemon(cleanup) for cleanup in self._cleanups]
        waiters += [
            _start_daemon(
                p.shutdown if any(p is o for o in self._owned_providers) else p.force_flush
            )
            for p in self._providers()
        ]
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


SEMCONV_DEFAULTS = {"OTEL_SEMCONV_STABILITY_OPT_IN": "http"}
"""Stable HTTP semantic conventions by default: `http.server.request.duration` (s), `GET /route`
span names, `http.request.method`, `url.path`, `http.response.status_code`. The dashboard and the
rules export assume them. Set by the distro (before instrumentations load) and by `setup()`
(for instrumentations enabled after it); a value the user set is never changed."""

_lock = threading.RLock()
_active: FlextObservability | None = None
_atexit_registered = False
_stopping: threading.Event | None = None
"""Set when the last shutdown finished; a signal arriving mid-shutdown waits for it."""


def setup(
    settings: FlextObservabilitySettings | None = None,
    *,
    sinks: Sequence[Sink] = (),
    rules: Sequence[Rule] = (),
    **overrides: Any,
) -> FlextObservability:
    """Configure OpenTelemetry and the entity pipeline; return the live handle.

    Args:
        settings: a settings object; when omitted, settings load from the environment and
            `pyproject.toml` (`FlextObservabilitySettings.load`).
        sinks: extra entity sinks (the embedded store is added when enabled).
        rules: alert rules given in code (added to those from the rules file).
        **overrides: any setting as a keyword (explicit arguments win over everything else);
            an invalid one raises `ConfigurationError`.
    """
    global _active  # noqa: PLW0603 - one active setup per process, by design
    with _lock:
        diagnostics.install()  # before the settings load: their warnings must be seen too
        if settings is None:
            resolved = FlextObservabilitySettings.load(**overrides)
        elif overrides:
            resolved = settings.with_overrides(**overrides)
        else:
            resolved = settings
        if _active is not None and not _active.is_shutdown:
            if resolved != _active.settings or sinks or rules:
                logger.warning(
                    "flext-observability setup() already ran in this process; returning the "
                    "existing handle (call shutdown() first to configure it anew)"
                )
            return _active
        set_strict(resolved.strict)
        diagnostics.set_level(log_level_number(resolved.diagnostics_level))
        _check_otel_environment(strict=resolved.strict)
        for name, value in SEMCONV_DEFAULTS.items():
            os.environ.setdefault(name, value)
        if resolved.handle_signals:
            signals.prepare()  # while no thread of ours runs yet
        handle = FlextObservability(_wiring.build(resolved, sinks=sinks, rules=rules))
        _active = handle
        _register_exit_hooks()
        if resolved.handle_signals:
            signals.install(
                shutdown=_signal_shutdown,
                flush=_signal_flush,
                deadline_s=lambda: resolved.shutdown_timeout_s,
            )
        freeze_heap(resolved.gc_freeze, before_app=False)
        return handle


def _check_otel_environment(*, strict: bool) -> None:
    """Judge every OTEL_* variable; an invalid one warns once and leaves the environment.

    So no SDK object, exporter or instrumentation built later reads it (each falls back to its
    default); strict mode raises instead.
    """
    result = validate_otel_environment()
    remember_validated_env(result)
    if strict and result.problems:
        listing = "\n".join(f"  - {problem}" for problem in result.problems)
        raise ConfigurationError(f"invalid configuration (strict mode):\n{listing}")
    log_problems_once(result.problems)


def active() -> FlextObservability | None:
    """Return the active handle, or None before `setup()` / after `shutdown()`."""
    handle = _active
    return handle if handle is not None and not handle.is_shutdown else None


def emit(entity: Entity | FlextResult[Any]) -> bool:
    """Record an entity through the active setup; False (and no error) when there is none."""
    handle = active()
    return handle.emit(entity) if handle is not None else False


def force_flush(timeout: float | None = None) -> bool:
    """Flush the active setup; True when there is none."""
    handle = active()
    return handle.force_flush(timeout) if handle is not None else True


def shutdown(timeout: float | None = None) -> bool:
    """Shut the active setup down within one deadline (default: the configured one)."""
    global _active, _stopping  # noqa: PLW0603 - the one active setup, and its shutdown
    with _lock:
        handle, _active = _active, None
        if handle is None:
            return True
        stopping = _stopping = threading.Event()
    try:
        return handle.shutdown(timeout)
    finally:
        stopping.set()


def _atexit_shutdown() -> None:
    with contextlib.suppress(Exception):  # never break interpreter exit
        shutdown()


def _signal_shutdown() -> None:
    """Shut down for a signal, or wait for the shutdown already running.

    A pool worker's exit finalizer may be mid-shutdown when its terminate() signal lands.
    """
    stopping = _stopping
    if _active is None and stopping is not None and not stopping.is_set():
        stopping.wait()
        return
    _atexit_shutdown()


def _signal_flush() -> None:
    handle = active()
    if handle is not None:
        handle.force_flush(handle.settings.shutdown_timeout_s)


def _register_child_finalizer(_handle: object) -> None:
    from multiprocessing import util  # noqa: PLC0415 - only when multiprocessing is in use

    util.Finalize(None, _atexit_shutdown, exitpriority=-100)


def _after_fork_in_child() -> None:
    # multiprocessing's fork children leave through os._exit(), which skips atexit; its
    # finalizers still run. The child clears the finalizer registry right after the fork and
    # then runs its "after fork" hooks, so register the finalizer from one of those hooks.
    if _active is None or "multiprocessing" not in sys.modules:
        return
    try:
        from multiprocessing import util  # noqa: PLC0415 - see above

        util.register_after_fork(_active, _register_child_finalizer)
    except Exception:  # noqa: BLE001, S110 - a fork must never fail because of us
        pass


def _register_exit_hooks() -> None:
    global _atexit_registered  # noqa: PLW0603 - register once per process
    if _atexit_registered:
        return
    _atexit_registered = True
    atexit.register(_atexit_shutdown)
    fork.register(after_in_child=_after_fork_in_child)


def _reset_for_tests() -> None:
    """Forget the active handle without shutting it down (the testing plugin's reset)."""
    global _active  # noqa: PLW0603 - test-only reset
    with _lock:
        _active = None
