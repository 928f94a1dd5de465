"""structlog: events carry the active trace ids and reach the store and the log exporters once.

structlog usually prints through its own logger (not stdlib `logging`), so our logging bridge
never sees its events. Add two processors before the renderer:

    structlog.configure(processors=[
        structlog.processors.add_log_level,
        add_trace_context,        # trace_id / span_id in every event (and so in the output)
        FlextStructlogProcessor(),  # the event, as a log record, to the store and exporters
        structlog.dev.ConsoleRenderer(),
    ])

When structlog is routed through stdlib logging (`structlog.stdlib.LoggerFactory()`), the bridge
already captures every event: the processor then sends nothing, so nothing is doubled. Requires
`structlog` (the `structlog` extra); this module imports nothing of it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

from flext_observability.integrations._records import ExcInfo, deliver, trace_ids

__all__ = ["FlextStructlogProcessor", "add_trace_context"]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "msg": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "err": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}
_OWN_KEYS = frozenset({"event", "level", "logger", "exc_info", "timestamp", "trace_id", "span_id"})


def add_trace_context(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Structlog processor: add `trace_id` and `span_id` of the active span (when there is one)."""
    for key, value in trace_ids().items():
        event_dict.setdefault(key, value)
    return event_dict


def _exc_info(value: Any) -> ExcInfo | None:
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and value[1] is not None:  # noqa: PLR2004
        return value  # a sys.exc_info() tuple
    if value is True:
        current = sys.exc_info()
        return current if current[1] is not None else None
    return None


class FlextStructlogProcessor:
    """structlog processor: hand the event to our logging bridge, once; pass it on unchanged.

    Args:
        logger_name: the logger name stored when the event has no `logger` key.
    """

    def __init__(self, logger_name: str = "structlog") -> None:
        """Remember the default logger name."""
        self._logger_name = logger_name

    def __call__(
        self, logger: Any, method: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """Deliver the event unless structlog writes through stdlib logging (captured there)."""
        if isinstance(logger, logging.Logger):
            return event_dict
        level = event_dict.get("level")
        levelno = _LEVELS.get(str(level or method).lower(), logging.INFO)
        extras = {k: v for k, v in event_dict.items() if k not in _OWN_KEYS}
        deliver(
            str(event_dict.get("logger") or self._logger_name),
            levelno,
            str(event_dict.get("event", "")),
            extras=extras,
            exc_info=_exc_info(event_dict.get("exc_info")),
        )
        return event_dict
