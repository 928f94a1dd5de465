"""`setup()`: the only place providers are built (SPEC §6), and the module-level shortcuts.

`setup()` is idempotent: while a setup is active, calling it again returns the same handle (and
says once if the new settings differ). When a TracerProvider, MeterProvider or LoggerProvider
was already set by someone else, our components attach to it instead of replacing it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from flext_observability._internal import diagnostics, signals
from flext_observability._internal import wiring as _wiring
from flext_observability._internal.guard import logger, set_strict
from flext_observability._internal.handle import FlextObservability
from flext_observability.exceptions import ConfigurationError
from flext_observability.result import FlextResult
from flext_observability.rules import Rule
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.settings._otel_env import validate_otel_environment
from flext_observability.settings._parse import log_level_number
from flext_observability.settings._settings import log_problems_once
from flext_observability.sinks._base import Entity, Sink

__all__ = ["active", "emit", "force_flush", "setup", "shutdown"]

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
        handle = _wiring.build(resolved, sinks=sinks, rules=rules)
        _active = handle
        _register_exit_hooks()
        if resolved.handle_signals:
            signals.install(
                shutdown=_signal_shutdown,
                flush=_signal_flush,
                deadline_s=lambda: resolved.shutdown_timeout_s,
            )
        return handle


def _check_otel_environment(*, strict: bool) -> None:
    """Judge every OTEL_* variable; an invalid one warns once and leaves the environment.

    So no SDK object, exporter or instrumentation built later reads it (each falls back to its
    default); strict mode raises instead.
    """
    result = validate_otel_environment()
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
        if handle is not None:
            _stopping = threading.Event()
            stopping = _stopping
    if handle is None:
        return True
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
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _reset_for_tests() -> None:
    """Forget the active handle without shutting it down (the testing plugin's reset)."""
    global _active  # noqa: PLW0603 - test-only reset
    with _lock:
        _active = None
