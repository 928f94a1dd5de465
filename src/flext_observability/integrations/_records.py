"""Hands records of other logging libraries (structlog, loguru) to our stdlib logging bridge.

The record becomes a `logging.LogRecord` and goes through the bridge that `setup()` put on the
root logger, so it gets exactly what stdlib records get: the active span's ids (captured on the
calling thread), redaction, the store and the OTel log exporters, each once. Nothing happens
before `setup()` or after `shutdown()`, or below the bridge's level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from flext_observability._internal import logging_config
from flext_observability._internal.guard import guard

__all__ = ["ExcInfo", "deliver", "trace_ids"]

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def trace_ids() -> dict[str, str]:
    """`trace_id` and `span_id` (hex) of the active span; empty when there is none."""
    from opentelemetry import trace  # noqa: PLC0415 - cheap, keeps import time low

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


@guard("integrations.deliver", default=False)
def deliver(
    logger_name: str,
    levelno: int,
    message: str,
    *,
    extras: Mapping[str, Any] | None = None,
    exc_info: ExcInfo | None = None,
    pathname: str = "",
    lineno: int = 0,
    func: str | None = None,
) -> bool:
    """Hand one record to the bridge; True when it was taken. Never raises (outside strict)."""
    handler = logging_config.bridge()
    if handler is None or levelno < handler.level:
        return False
    record = logging.LogRecord(
        logger_name, levelno, pathname, lineno, message, None, exc_info, func
    )
    for key, value in (extras or {}).items():
        # Fields that clash with a LogRecord attribute keep their value under a prefix.
        record.__dict__[f"extra.{key}" if key in _RESERVED else key] = value
    return handler.handle(record)
