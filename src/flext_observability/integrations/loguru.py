"""loguru: records carry the active trace ids and reach the store and the log exporters once.

loguru does not go through stdlib `logging`, so our logging bridge never sees its records. Add
the sink (and, to show the ids in loguru's own output, the patcher):

    from loguru import logger
    logger.configure(patcher=add_trace_context)   # extra["trace_id"], extra["span_id"]
    logger.add(flext_sink, level="INFO")           # to the store and the exporters

Keep `enqueue=False` (loguru's default) for this sink: with `enqueue=True` loguru calls sinks
on its own thread, where the request's span is no longer the active one. Requires `loguru` (the
`loguru` extra); this module imports nothing of it.
"""

from __future__ import annotations

from typing import Any

from flext_observability.integrations._records import deliver, trace_ids

__all__ = ["add_trace_context", "flext_sink"]


def add_trace_context(record: Any) -> None:
    """Loguru patcher: put `trace_id` / `span_id` of the active span in `record["extra"]`."""
    extra = record["extra"]
    for key, value in trace_ids().items():
        extra.setdefault(key, value)


def flext_sink(message: Any) -> None:
    """Loguru sink: hand the record to our logging bridge (with the active span's ids)."""
    record = message.record
    exception = record["exception"]
    exc_info = None
    if exception is not None and exception.value is not None:
        exc_info = (exception.type, exception.value, exception.traceback)
    extras = {k: v for k, v in record["extra"].items() if k not in ("trace_id", "span_id")}
    deliver(
        record["name"] or "loguru",
        record["level"].no,
        record["message"],
        extras=extras,
        exc_info=exc_info,
        pathname=record["file"].path,
        lineno=record["line"],
        func=record["function"],
    )
