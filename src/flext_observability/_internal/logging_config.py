"""The logging bridge stays on the root logger when the app or a framework configures logging.

`setup()` puts one `EntityLoggingHandler` on the root logger. Apps then configure logging
themselves, and three things would go wrong without this module:

- `logging.basicConfig()` after `setup()` does nothing when the root logger already has a handler,
  so the app's console output would silently disappear;
- `basicConfig(force=True)`, `dictConfig()` and `fileConfig()` remove (and close) root handlers,
  so telemetry from logs would stop;
- frameworks reset the root handlers directly (Celery's `worker_hijack_root_logger`).

`keep_on_root(handler)` wraps the three stdlib configuration functions once per process (as the
OpenTelemetry SDK does for its own handler): the bridge is set aside during the call and put back
after it, so the app's configuration applies exactly as without us, console output included, and
nothing is captured twice. `reattach()` puts the bridge back after a framework reset (the Celery
integration calls it from `after_setup_logger`).
"""

from __future__ import annotations

import functools
import logging
import logging.config
from collections.abc import Callable
from typing import Any

__all__ = ["bridge", "keep_on_root", "reattach", "release"]

_bridge: logging.Handler | None = None
_WRAPPED = "_flext_observability_wrapped"


def _set_aside(config: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(config)
    def configure(*args: Any, **kwargs: Any) -> Any:
        handler = _bridge
        root = logging.getLogger()
        present = handler is not None and handler in root.handlers
        if present:
            root.removeHandler(handler)  # type: ignore[arg-type] # present implies not None
        try:
            return config(*args, **kwargs)
        finally:
            if present and handler not in root.handlers:
                root.addHandler(handler)  # type: ignore[arg-type] # present implies not None

    setattr(configure, _WRAPPED, config)
    return configure


def _wrap_once() -> None:
    if not hasattr(logging.basicConfig, _WRAPPED):
        logging.basicConfig = _set_aside(logging.basicConfig)
    if not hasattr(logging.config.dictConfig, _WRAPPED):
        logging.config.dictConfig = _set_aside(logging.config.dictConfig)
    if not hasattr(logging.config.fileConfig, _WRAPPED):
        logging.config.fileConfig = _set_aside(logging.config.fileConfig)


def keep_on_root(handler: logging.Handler) -> None:
    """Keep `handler` (the bridge `setup()` put on the root logger) through logging config calls."""
    global _bridge  # noqa: PLW0603 - one bridge per process
    _bridge = handler
    _wrap_once()


def release(handler: logging.Handler) -> None:
    """Stop keeping `handler` (shutdown); the wrappers stay and then do nothing."""
    global _bridge  # noqa: PLW0603 - one bridge per process
    if _bridge is handler:
        _bridge = None


def reattach() -> bool:
    """Put the bridge back on the root logger if something took it off; False without one."""
    handler = _bridge
    if handler is None:
        return False
    root = logging.getLogger()
    if handler not in root.handlers:
        root.addHandler(handler)
    return True


def bridge() -> logging.Handler | None:
    """The logging bridge of the active setup (None before `setup()` / after `shutdown()`)."""
    return _bridge
