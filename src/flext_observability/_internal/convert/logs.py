"""Convert an OpenTelemetry SDK log record to a `FlextLogEntry` (pure; pipeline worker).

`log_record_to_entry` takes what `LogRecordProcessor.on_emit` receives in SDK 1.45 (a
`ReadWriteLogRecord`) or what an exporter receives (a `ReadableLogRecord`); both wrap the API
`LogRecord` with its resource and scope. It never raises:

- level from `severity_number` (TRACE/DEBUG → debug, INFO → info, WARN → warning, ERROR → error,
  FATAL → critical); when unspecified, from `severity_text` (`trace`, `debug`, `info`,
  `warn`/`warning`, `error`, `fatal`/`critical`, case-insensitive, a trailing digit ignored);
  else info;
- `message` from the body: a str as is; None → ""; bytes decoded as UTF-8; other values
  rendered as JSON-ish text (all cleaned and cut at 64 Ki characters);
- `context` = the attributes, sanitised, minus every `exception.*` key (type, message and
  stacktrace form `exception`, falling back to the record's exception object) and
  `correlation_id` (its own field); `code.*` stays; the record's `event_name`, if any, is added
  as `event.name`;
- `logger_name` = the instrumentation scope name, else a `logger.name` attribute;
- `trace_id`/`span_id` when valid (non-zero); `timestamp` = the record timestamp, else the
  observed timestamp; `service_name` from the resource.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord, ReadWriteLogRecord

from flext_observability._internal.convert.sanitize import (
    jsonish,
    sanitize_attributes,
    sanitize_value,
)
from flext_observability._internal.convert.severity import level_from_severity
from flext_observability._internal.convert.stdlib import exception_info, hex_ids, trusted_log_entry
from flext_observability._internal.convert.trace import resource_service_name, scope_name
from flext_observability._internal.text import MAX_STRING_LENGTH, safe_str
from flext_observability._internal.time import ns_to_datetime
from flext_observability.models._log import ExceptionInfo, FlextLogEntry

__all__ = ["log_record_to_entry"]

_EXCEPTION_KEYS = ("exception.type", "exception.message", "exception.stacktrace")


def _body_text(body: object) -> str:
    if body is None:
        return ""
    if isinstance(body, str | bytes | bytearray):
        value = sanitize_value(body)
        return value if isinstance(value, str) else ""
    if isinstance(body, bool | int | float):
        return safe_str(body)
    return jsonish(body, MAX_STRING_LENGTH)


def _exception(attributes: dict[str, Any], error: object) -> ExceptionInfo | None:
    values = {key: attributes.get(key) for key in _EXCEPTION_KEYS}
    for key in [key for key in attributes if key.startswith("exception.")]:
        del attributes[key]
    if values["exception.type"] is None and values["exception.message"] is None:
        if isinstance(error, BaseException):
            return exception_info(type(error), error, error.__traceback__)
        return None
    return ExceptionInfo(
        type=safe_str(values["exception.type"] or ""),
        message=safe_str(values["exception.message"] or ""),
        stacktrace=safe_str(values["exception.stacktrace"] or ""),
    )


def _entry(record: ReadWriteLogRecord | ReadableLogRecord, *, validate: bool) -> FlextLogEntry:
    log = record.log_record
    context = sanitize_attributes(log.attributes)
    correlation = context.pop("correlation_id", None)
    exception = _exception(context, getattr(log, "exception", None))
    logger_name = scope_name(record.instrumentation_scope)
    if logger_name is None:
        attribute = context.get("logger.name")
        logger_name = attribute if isinstance(attribute, str) else ""
    event_name = getattr(log, "event_name", None)
    if event_name:
        context["event.name"] = safe_str(event_name)
    trace_id, span_id = hex_ids(log.trace_id, log.span_id)
    timestamp = log.timestamp or log.observed_timestamp
    data: dict[str, Any] = {
        "level": level_from_severity(log.severity_number, log.severity_text),
        "message": _body_text(log.body),
        "logger_name": logger_name,
        "context": context,
        "correlation_id": None if correlation is None else safe_str(correlation),
        "trace_id": trace_id,
        "span_id": span_id,
        "exception": exception,
        "service_name": resource_service_name(record.resource),
    }
    if timestamp:
        data["timestamp"] = ns_to_datetime(timestamp)
    return FlextLogEntry.model_validate(data) if validate else trusted_log_entry(data)


def log_record_to_entry(
    record: ReadWriteLogRecord | ReadableLogRecord, *, validate: bool = False
) -> FlextLogEntry:
    """Convert an SDK log record to an entry; never raises.

    Every value is sanitised here, so the entry is built without validation (`trusted`);
    `validate=True` validates instead and gives an equal entry (held equal by a property test).

    Args:
        record: What a `LogRecordProcessor.on_emit` (or a log exporter) receives.
        validate: validate the fields with pydantic instead of trusting the converter.

    Returns:
        The entry. If conversion fails in an unforeseen way, a minimal entry whose message says
        so is returned instead.
    """
    try:
        return _entry(record, validate=validate)
    except Exception as exc:  # noqa: BLE001 - the converter never raises
        return FlextLogEntry(message=f"<log record conversion failed: {type(exc).__qualname__}>")
