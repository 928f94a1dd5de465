"""Convert a stdlib `logging.LogRecord` to a `FlextLogEntry` (pure; no OpenTelemetry).

The logging handler captures the active span's ids on the application thread and calls
`stdlib_record_to_entry` later, on the pipeline worker. It never raises:

- level by `levelno`: <= DEBUG → debug, < WARNING → info, < ERROR → warning, < CRITICAL →
  error, else critical;
- `message` is `record.getMessage()`; when formatting fails (a bad `%` format, a raising
  `__str__`) it is `"<unformattable log message: Type: text> msg=... args=..."` built from safe
  reprs;
- `exc_info` becomes `ExceptionInfo(type, message, stacktrace)` where `type` is the fully
  qualified class name (`builtins.` omitted), as the semantic conventions ask;
- `context` holds the `extra={...}` fields (record attributes that are not standard ones,
  sanitised; `correlation_id` is moved to its own field) plus this fixed set, which wins over an
  extra of the same name: `code.file.path`, `code.function.name`, `code.line.number`,
  `thread.id`, `thread.name`, and `code.stacktrace` when `stack_info` was requested. The process
  id is a resource attribute (`process.pid`), not repeated per record.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from flext_observability._internal.convert.sanitize import sanitize_attributes, sanitize_value
from flext_observability._internal.convert.severity import level_from_levelno
from flext_observability._internal.text import safe_repr, safe_str
from flext_observability.models._base import trusted
from flext_observability.models._log import ExceptionInfo, FlextLogEntry
from flext_observability.models._sources import new_entity_id, utc_now
from flext_observability.models._types import LogLevel

__all__ = [
    "exception_info",
    "exception_type_name",
    "hex_ids",
    "stdlib_record_to_entry",
    "trusted_log_entry",
]

_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
_TRACE_ID_LIMIT = 2**128
_SPAN_ID_LIMIT = 2**64


def hex_ids(trace_id: object, span_id: object) -> tuple[str | None, str | None]:
    """Format valid (non-zero, in-range) integer trace/span ids as lowercase hex, else None."""
    trace = (
        format(trace_id, "032x")
        if type(trace_id) is int and 0 < trace_id < _TRACE_ID_LIMIT
        else None
    )
    span = (
        format(span_id, "016x") if type(span_id) is int and 0 < span_id < _SPAN_ID_LIMIT else None
    )
    return trace, span


def exception_type_name(kind: type[BaseException]) -> str:
    """Return the fully qualified class name, without the `builtins.` prefix."""
    module = getattr(kind, "__module__", None)
    name = safe_str(getattr(kind, "__qualname__", None) or getattr(kind, "__name__", "?"))
    if not isinstance(module, str) or module == "builtins":
        return name
    return f"{safe_str(module)}.{name}"


def exception_info(
    kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None = None
) -> ExceptionInfo | None:
    """Build `ExceptionInfo` from an `exc_info`-style triple; never raises."""
    if kind is None and value is None:
        return None
    if kind is None and value is not None:
        kind = type(value)
    type_name = exception_type_name(kind) if isinstance(kind, type) else safe_str(kind)
    if value is None:  # nothing to format: traceback would print "NoneType: None"
        return ExceptionInfo(type=type_name)
    message = safe_str(value)
    try:
        lines = traceback.format_exception(kind, value, tb)
        stacktrace = safe_str("".join(lines))
    except Exception:  # noqa: BLE001 - a broken exception object still gives type and message
        stacktrace = ""
    return ExceptionInfo(type=type_name, message=message, stacktrace=stacktrace)


def _message(record: logging.LogRecord) -> str:
    try:
        return safe_str(record.getMessage())
    except Exception as exc:  # noqa: BLE001 - a bad % format or a raising __str__
        reason = f"{type(exc).__qualname__}: {safe_str(exc, 200)}"
        msg = safe_repr(getattr(record, "msg", None))
        args = _args_repr(getattr(record, "args", None))
        return safe_str(f"<unformattable log message: {reason}> msg={msg} args={args}")


def _args_repr(args: object) -> str:
    """Repr `args` item by item, so that one raising item does not hide the others."""
    if type(args) is tuple:
        items = [safe_repr(item) for item in args]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if type(args) is dict:
        pairs = [f"{safe_repr(key)}: {safe_repr(value)}" for key, value in args.items()]
        return "{" + ", ".join(pairs) + "}"
    return safe_repr(args)


def _record_exception(record: logging.LogRecord) -> ExceptionInfo | None:
    exc_info: Any = record.exc_info
    if not isinstance(exc_info, tuple) or len(exc_info) != 3:  # noqa: PLR2004 - the triple
        return None
    kind, value, tb = exc_info
    if not isinstance(value, BaseException):
        value = None
    if not (isinstance(kind, type) and issubclass(kind, BaseException)):
        kind = None
    if not isinstance(tb, TracebackType):
        tb = None
    return exception_info(kind, value, tb)


def _context(record: logging.LogRecord) -> tuple[dict[str, Any], str | None]:
    extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}
    correlation = extras.pop("correlation_id", None)
    context = sanitize_attributes(extras)
    fixed = {
        "code.file.path": record.pathname,
        "code.function.name": record.funcName,
        "code.line.number": record.lineno,
        "thread.id": record.thread,
        "thread.name": record.threadName,
        "code.stacktrace": record.stack_info,
    }
    for key, value in fixed.items():
        clean = sanitize_value(value)
        if clean is not None:
            context[key] = clean
    return context, None if correlation is None else safe_str(correlation)


def _created(record: logging.LogRecord) -> datetime | None:
    try:
        return datetime.fromtimestamp(record.created, UTC)
    except Exception:  # noqa: BLE001 - a hand-made record with a bad `created`
        return None


def trusted_log_entry(data: dict[str, Any]) -> FlextLogEntry:
    """The entry `FlextLogEntry.model_validate(data)` gives, built without validation.

    `data` comes from a converter: every value already has its validated type (a `LogLevel`,
    sanitised strings and attributes, hex ids, an `ExceptionInfo`, an aware UTC timestamp).
    """
    values = {
        "id": data["id"] if "id" in data else new_entity_id(),
        "timestamp": data["timestamp"] if "timestamp" in data else utc_now(),
        "service_name": data.get("service_name"),
        "level": data.get("level", LogLevel.INFO),
        "message": data["message"],
        "logger_name": data.get("logger_name", ""),
        "context": data.get("context", {}),
        "correlation_id": data.get("correlation_id"),
        "trace_id": data.get("trace_id"),
        "span_id": data.get("span_id"),
        "exception": data.get("exception"),
    }
    return trusted(FlextLogEntry, values, set(data))


def stdlib_record_to_entry(
    record: logging.LogRecord,
    *,
    trace_id: int = 0,
    span_id: int = 0,
    service_name: str | None = None,
    validate: bool = False,
) -> FlextLogEntry:
    """Convert a stdlib log record to an entry; never raises.

    Every value is sanitised here, so the entry is built without validation (`trusted`);
    `validate=True` validates instead and gives an equal entry (held equal by a property test).

    Args:
        record: The record, as a `logging.Handler.emit` receives it.
        trace_id: The active span's trace id captured on the application thread (0 = none).
        span_id: The active span's span id (0 = none).
        service_name: The service name to set on the entry.
        validate: validate the fields with pydantic instead of trusting the converter.

    Returns:
        The entry. If conversion fails in an unforeseen way, a minimal entry whose message says
        so (the level and logger name kept) is returned instead.
    """
    level = level_from_levelno(getattr(record, "levelno", None))
    logger_name = safe_str(getattr(record, "name", ""))
    try:
        trace, span = hex_ids(trace_id, span_id)
        context, correlation_id = _context(record)
        data: dict[str, Any] = {
            "level": level,
            "message": _message(record),
            "logger_name": logger_name,
            "context": context,
            "correlation_id": correlation_id,
            "trace_id": trace,
            "span_id": span,
            "exception": _record_exception(record),
            "service_name": None if service_name is None else safe_str(service_name),
        }
        created = _created(record)
        if created is not None:
            data["timestamp"] = created
        if validate:
            return FlextLogEntry.model_validate(data)
        return trusted_log_entry(data)
    except Exception as exc:  # noqa: BLE001 - the converter never raises
        return FlextLogEntry(
            level=level,
            logger_name=logger_name,
            message=f"<log record conversion failed: {type(exc).__qualname__}>",
        )
