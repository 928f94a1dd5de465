"""Log export fed by the entity pipeline: each bridged record read once, no SDK logger per record.

The log counterpart of `export_lane.SpanExportTap`, used when `setup()` owns the
`LoggerProvider` (see `LogExportTap`).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import Logger as SDKLogger
from opentelemetry.sdk._logs import (
    LoggerProvider,
    LogRecordLimits,
    ReadableLogRecord,
    ReadWriteLogRecord,
)
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.resources import Resource

from flext_observability._internal import fork
from flext_observability._internal.convert.severity import severity_of_levelno
from flext_observability._internal.emit import log_attributes
from flext_observability._internal.export_lane import (
    ExportLane,
    OnDrop,
    flush_lanes,
    lanes_for,
    shutdown_lanes,
)
from flext_observability.models import FlextLogEntry
from flext_observability.redaction import Redactor
from flext_observability.redaction._exporters import redact_log_record
from flext_observability.redaction._otel_data import each

__all__ = ["LogExportTap", "api_record"]

_CACHE_LIMIT = 10_000
_SEVERITY_TEXT = {"WARNING": "WARN", "CRITICAL": "FATAL"}
_PLAIN_TYPES = frozenset({str, int, float, bool})


def api_record(record: logging.LogRecord, context: Context, entry: FlextLogEntry) -> LogRecord:
    """The OTel log record of a bridged stdlib record (its entry gives body and attributes)."""
    return LogRecord(
        timestamp=int(record.created * 1e9),
        observed_timestamp=time.time_ns(),
        context=context,
        severity_text=_SEVERITY_TEXT.get(record.levelname, record.levelname),
        severity_number=SeverityNumber(severity_of_levelno(record.levelno)),
        body=entry.message,
        attributes=log_attributes(entry),
    )


_EMPTY_CONTEXT = Context()
_REDACT_SITE = "redaction.export.log"


class LogExportTap:
    """The log exporters, fed by the entity pipeline's worker (no SDK logger or batch processor).

    When `setup()` owns the `LoggerProvider`, a bridged stdlib record is exported without going
    through the SDK's `Logger.emit` (a `ReadWriteLogRecord` with `BoundedAttributes`, every
    processor, a `BatchLogRecordProcessor` copying it and waking its thread): the worker, which
    already converts the record to its entry, builds the same `ReadableLogRecord` the batch
    processor would have handed the exporter (`bridged`). Records emitted through the Logs API
    reach the worker through `EntityLogRecordProcessor`, which snapshots them on emit as the
    batch processor did (`snapshot`, then `emitted`). At the end of each pipeline batch the
    records are redacted (`redact_log_record`, as `RedactingLogRecordExporter` did on the batch
    thread) and handed, in one piece, to each exporter's `ExportLane`; a full lane drops and
    counts under `("logs", "export_queue_full")`.

    Attributes go through the SDK's `BoundedAttributes` only when it could change them (more
    than the count limit, a value length limit, a key or value outside plain str, int, float,
    bool): otherwise a plain dict carries exactly what the SDK would keep. A record for a logger
    the provider disables is not exported, as `Logger.emit` would not have.

    Args:
        exporters: the log exporters (each gets its own lane).
        provider: the `LoggerProvider` whose resource, scopes and limits the records carry.
        redactor: the export redaction rules (shared with the entities).
        on_drop: told about records not exported and why.
        max_queue, batch_size, schedule_delay: each lane's (see `ExportLane`).
    """

    def __init__(
        self,
        exporters: Sequence[LogRecordExporter],
        *,
        provider: LoggerProvider,
        redactor: Redactor,
        on_drop: OnDrop,
        max_queue: int = 2048,
        batch_size: int = 512,
        schedule_delay: float | None = None,
    ) -> None:
        """One lane per exporter."""
        self._provider = provider
        self._redactor = redactor
        self._on_drop = on_drop
        limits = getattr(provider, "_log_record_limits", None)
        self._limits = limits if isinstance(limits, LogRecordLimits) else LogRecordLimits()
        self._max_attributes = self._limits.max_log_record_attributes
        self._plain = self._limits.max_log_record_attribute_length is None
        self._loggers: dict[str, Any] = {}
        self._pending: list[ReadableLogRecord] = []
        self._closed = False
        # A child forked mid-batch never exports the parent's records (its lanes start empty).
        fork.register(self, after_in_child=self._forget_pending)
        self._lanes: list[ExportLane[ReadableLogRecord]] = lanes_for(
            exporters,
            on_drop=on_drop,
            max_queue=max_queue,
            batch_size=batch_size,
            schedule_delay=schedule_delay,
        )

    def _forget_pending(self) -> None:
        self._pending = []

    def bridged(self, record: logging.LogRecord, context: Context, entry: FlextLogEntry) -> None:
        """Queue the export copy of a bridged record (worker; sent with the batch)."""
        logger = self._loggers.get(record.name)
        if logger is None:
            if len(self._loggers) >= _CACHE_LIMIT:
                self._loggers.clear()
            logger = self._loggers[record.name] = self._provider.get_logger(record.name)
        enabled = getattr(logger, "_is_enabled", None)
        if not isinstance(logger, SDKLogger) or (enabled is not None and not enabled()):
            return  # the provider is disabled, or this logger is: `Logger.emit` drops it
        api = api_record(record, context, entry)
        api.context = _EMPTY_CONTEXT  # what the batch processor's copy keeps: no context
        attributes = api.attributes
        if attributes and not self._plain_attributes(attributes):
            api = ReadWriteLogRecord(api, limits=self._limits).log_record  # the SDK's bounding
        self._pending.append(
            ReadableLogRecord(
                log_record=api,
                resource=logger.resource,
                instrumentation_scope=logger.instrumentation_scope,
                limits=self._limits,
            )
        )

    def _plain_attributes(self, attributes: Mapping[str, Any]) -> bool:
        """Whether `BoundedAttributes` would keep `attributes` exactly as they are."""
        limit = self._max_attributes
        if not self._plain or (limit is not None and len(attributes) > limit):
            return False
        return all(
            type(key) is str and key and type(value) in _PLAIN_TYPES
            for key, value in attributes.items()
        )

    @staticmethod
    def snapshot(record: ReadWriteLogRecord) -> ReadableLogRecord:
        """What the batch processor kept of an emitted record (application thread, on emit)."""
        api = copy.copy(record.log_record)
        api.context = _EMPTY_CONTEXT
        return ReadableLogRecord(
            log_record=api,
            resource=record.resource if record.resource is not None else Resource.create({}),
            instrumentation_scope=record.instrumentation_scope,
            limits=record.limits,
        )

    def emitted(self, record: ReadableLogRecord) -> None:
        """Queue a Logs API record's snapshot (worker; sent with the batch)."""
        self._pending.append(record)

    def end_batch(self) -> None:
        """Redact the batch's records and hand them to every lane (worker)."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        if self._closed:
            self._on_drop(len(pending), "shutdown")
            return
        redactor = self._redactor
        scrubbed = each(pending, lambda r: redact_log_record(redactor, r), _REDACT_SITE)
        if scrubbed is None:
            self._on_drop(len(pending), "redaction_error")
            return
        if len(scrubbed) < len(pending):
            self._on_drop(len(pending) - len(scrubbed), "redaction_error")
        if scrubbed:
            for lane in self._lanes:
                lane.offer(scrubbed)

    def flush(self, timeout: float | None = None) -> bool:
        """Flush every lane within `timeout` (shared)."""
        return flush_lanes(self._lanes, timeout)

    def shutdown(self, timeout: float | None = None) -> None:
        """Shut every lane down within `timeout`; records that arrive later are counted."""
        self._closed = True
        shutdown_lanes(self._lanes, timeout)
