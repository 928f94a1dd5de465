"""The logging bridge: stdlib `logging` records become OTel log records *and* entities.

`EntityLoggingHandler.emit` runs on the application thread and does almost nothing: it skips
excluded loggers and re-entrant calls, captures the current OTel context (one context-variable
read), and queues a reference to the record. The pipeline's worker formats the message, builds
the `FlextLogEntry` and the OTel record the exporters get (`_internal/log_export.LogExportTap`,
when `setup()` owns the `LoggerProvider`). So the handler never raises into the caller, never
blocks on an exporter, and never recurses: records from the SDK's, the transports' and our own
loggers, and records logged on the pipeline's worker thread, are never captured.

`EntityLogRecordProcessor` covers logs emitted through the OTel Logs API directly (not through
this handler): it queues them for conversion to entities (and, given the tap, for export). When
a processor of the application is on the provider, the OTel twin of a bridged record is emitted
through the provider on the worker (`log_twin`) while `BRIDGE_ACTIVE` is set, so that this
processor does not convert it a second time. `setup()` installs the handler
(`install_logging_handler`) and adds `BridgeDrainProcessor` first to its `LoggerProvider`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.context import Context, get_current
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor, ReadWriteLogRecord

from flext_observability._internal import logging_config
from flext_observability._internal.guard import guard
from flext_observability._internal.log_export import LogExportTap, api_record
from flext_observability._internal.pipeline import LogTwin, Pipeline, build_pipeline
from flext_observability.models import FlextLogEntry
from flext_observability.sinks._base import Sink

__all__ = ["EXCLUDED_LOGGERS", "EntityLogRecordProcessor", "EntityLoggingHandler"]

EXCLUDED_LOGGERS: tuple[str, ...] = (
    "opentelemetry",
    "flext_observability",
    "urllib3",
    "requests",
    "grpc",
    "httpx",
    "httpcore",
)
"""Logger names (and their children) never captured: the SDK, transports, and ourselves."""

_CACHE_LIMIT = 10_000


class _BridgeFlag(threading.local):
    active = False


BRIDGE_ACTIVE = _BridgeFlag()
"""True on the worker while it emits a bridged stdlib record into the OTel Logs SDK."""


def _has_other_processors(provider: LoggerProvider) -> bool:
    """Whether a processor other than ours (an exporter's, the user's) is on `provider`.

    Our own two ignore twins (`EntityLogRecordProcessor` skips them, `BridgeDrainProcessor` only
    drains), so a provider with nothing else needs no twin at all. Read from the SDK's private
    processor tuple; if that ever changes shape, twins are always emitted.
    """
    multi = getattr(provider, "_multi_log_record_processor", None)
    processors = getattr(multi, "_log_record_processors", None)
    if not isinstance(processors, tuple):
        return True
    return any(not isinstance(p, _OWN_PROCESSORS) for p in processors)


def log_twin(provider: LoggerProvider) -> LogTwin:
    """Return what emits a bridged record's OTel twin through `provider` (on the worker).

    Called only on the pipeline's worker: the SDK logger per name and the processors verdict
    are kept here (the provider's `get_logger` takes a lock and files the logger every call).
    """
    loggers: dict[str, Any] = {}
    verdict: list[Any] = [None, True]  # the processor tuple last judged, and the verdict

    def others() -> bool:
        multi = getattr(provider, "_multi_log_record_processor", None)
        processors = getattr(multi, "_log_record_processors", None)
        if processors is None or processors is not verdict[0]:  # the SDK replaces the tuple
            verdict[:] = [processors, _has_other_processors(provider)]
        return bool(verdict[1])

    def emit_twin(record: logging.LogRecord, context: Context, entry: FlextLogEntry) -> None:
        if not others():
            return  # only our own processors would see it (store-only setup): nothing to do
        logger = loggers.get(record.name)
        if logger is None:
            if len(loggers) >= _CACHE_LIMIT:
                loggers.clear()
            logger = loggers[record.name] = provider.get_logger(record.name)
        otel_record = api_record(record, context, entry)
        BRIDGE_ACTIVE.active = True
        try:
            logger.emit(otel_record)
        finally:
            BRIDGE_ACTIVE.active = False

    return emit_twin


def install_logging_handler(pipeline: Pipeline, log_level: str) -> Callable[[], None]:
    """Attach one `EntityLoggingHandler` to the root logger; return its removal."""
    root = logging.getLogger()
    level = logging.getLevelName(log_level)
    level = level if isinstance(level, int) else logging.INFO
    for handler in list(root.handlers):
        if isinstance(handler, EntityLoggingHandler):
            if handler.pipeline.stopped:
                # A shut-down setup's bridge that came back (say, a saved handler list was
                # restored): it would swallow every record, so it makes way for ours.
                root.removeHandler(handler)
                continue
            return lambda: None  # never two bridges: records would be duplicated
    handler = EntityLoggingHandler(pipeline, level=level)
    root.addHandler(handler)
    logging_config.keep_on_root(handler)  # basicConfig()/dictConfig() after setup() still work
    if root.level > level or root.level == logging.NOTSET:
        # The root level gates every logger without its own level; lower it so the captured
        # level is really captured (documented: FLEXT_OBSERVABILITY_LOG_LEVEL).
        root.setLevel(level)

    def remove() -> None:
        logging_config.release(handler)
        root.removeHandler(handler)

    return remove


class EntityLoggingHandler(logging.Handler):
    """A stdlib handler feeding the entity pipeline (and, through it, the OTel log pipeline).

    Args:
        pipeline: a shared pipeline (as `setup()` builds); when omitted the handler owns one.
        sinks: sinks for an owned pipeline.
        level: the lowest level captured.
        exclude: logger-name prefixes never captured (defaults to `EXCLUDED_LOGGERS`).
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        sinks: Sequence[Sink] = (),
        level: int = logging.NOTSET,
        exclude: Sequence[str] = EXCLUDED_LOGGERS,
    ) -> None:
        """Attach to `pipeline`, or build and own one that delivers to `sinks`."""
        super().__init__(level=level)
        self._owned = pipeline is None
        self._pipeline = pipeline if pipeline is not None else build_pipeline(sinks=sinks)
        self._pipeline.start()
        self._exclude = tuple(exclude)
        self._excluded_cache: dict[str, bool] = {}
        self._local = threading.local()

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline this handler feeds."""
        return self._pipeline

    def _is_excluded(self, name: str) -> bool:
        cached = self._excluded_cache.get(name)
        if cached is None:
            cached = any(name == p or name.startswith(p + ".") for p in self._exclude)
            if len(self._excluded_cache) < _CACHE_LIMIT:  # bounded: logger names are few
                self._excluded_cache[name] = cached
        return cached

    def handle(self, record: logging.LogRecord) -> bool:
        """Skip the handler lock: `emit` only appends to a thread-safe queue."""
        if not self.filter(record):
            return False
        self.emit(record)
        return True

    @guard("EntityLoggingHandler.emit")  # per record, on the application thread: one call
    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record with the current context; never raises, never blocks."""
        local = self._local
        if getattr(local, "active", False):
            return
        local.active = True
        try:
            if self._is_excluded(record.name):
                return
            if threading.get_ident() == self._pipeline.worker_ident:
                return
            self._pipeline.submit("log", (record, get_current()))
        finally:
            local.active = False

    def flush(self) -> None:
        """Nothing to do on the caller's thread; `force_flush` on the setup handle delivers."""

    def close(self) -> None:
        """Detach; an owned pipeline is shut down."""
        try:
            if self._owned:
                self._pipeline.shutdown(5.0)
        finally:
            super().close()


class EntityLogRecordProcessor(LogRecordProcessor):
    """Queues OTel log records (emitted through the Logs API) for conversion to entities.

    Records that our own logging bridge emits from the worker are skipped: the handler already
    produced their entity.

    Args:
        pipeline: a shared pipeline (as `setup()` builds); when omitted the processor owns one.
        sinks: sinks for an owned pipeline.
        export: the log exporters' tap, which the pipeline feeds (`build_pipeline(log_export=)`);
            the processor snapshots each record for it, then flushes and shuts it down.
        shutdown_timeout: seconds `shutdown()` gives the pipeline and the exporters.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        sinks: Sequence[Sink] = (),
        export: LogExportTap | None = None,
        shutdown_timeout: float = 5.0,
    ) -> None:
        """Attach to `pipeline`, or build and own one that delivers to `sinks`."""
        self._owned = pipeline is None
        self._pipeline = pipeline if pipeline is not None else build_pipeline(sinks=sinks)
        self._pipeline.start()
        self._export = export
        self._shutdown_timeout = shutdown_timeout
        self._detached = False

    def detach(self) -> None:
        """Stop queueing records (see `EntitySpanProcessor.detach`)."""
        self._detached = True

    @guard("EntityLogRecordProcessor.on_emit")  # per record: one call
    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Queue the record; never blocks, never raises."""
        if BRIDGE_ACTIVE.active or self._detached:
            return
        if self._export is not None:
            # Exported from the worker: keep what a batch processor would have kept, now.
            self._pipeline.submit("otel_log", LogExportTap.snapshot(log_record))
            return
        self._pipeline.submit("otel_log", log_record)

    def shutdown(self) -> None:
        """Export what was emitted, stop the exporters; shut an owned pipeline down.

        Records emitted afterwards are ignored.
        """
        deadline = time.monotonic() + self._shutdown_timeout
        try:
            if self._owned:
                self._pipeline.shutdown(self._shutdown_timeout)
            elif self._export is not None:
                self._pipeline.flush(self._shutdown_timeout)
            if self._export is not None:
                self._export.shutdown(max(0.0, deadline - time.monotonic()))
        finally:
            self.detach()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Deliver (and export) every record queued so far; False if the timeout expired."""
        deadline = time.monotonic() + timeout_millis / 1000
        ok = self._pipeline.flush(timeout_millis / 1000)
        if self._export is not None:
            ok = self._export.flush(max(0.0, deadline - time.monotonic())) and ok
        return ok


class BridgeDrainProcessor(LogRecordProcessor):
    """Drains the pipeline into the `LoggerProvider` before its exporting processors flush.

    The logging bridge emits a record's OTel twin from the pipeline's worker, so records still
    queued when the provider flushes or shuts down would miss the exporters (lost from OTLP at
    exit). `setup()` adds this processor *first*: the provider flushes and shuts processors down
    in order, so the queued records reach the batch processors before those export and stop.
    Internal (not re-exported).

    Args:
        pipeline: the pipeline feeding the provider.
        shutdown_timeout: seconds the drain may take at shutdown.
    """

    def __init__(self, pipeline: Pipeline, *, shutdown_timeout: float) -> None:
        """Remember the pipeline and the shutdown bound."""
        self._pipeline = pipeline
        self._shutdown_timeout = shutdown_timeout

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        """Nothing to do per record."""

    @guard("BridgeDrainProcessor.shutdown")
    def shutdown(self) -> None:
        """Drain the pipeline (bounded) so the exporters still see its log records."""
        self._pipeline.flush(self._shutdown_timeout)

    @guard("BridgeDrainProcessor.force_flush", default=False)
    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Drain the pipeline within the timeout; False if it expired."""
        return self._pipeline.flush(timeout_millis / 1000)


_OWN_PROCESSORS = (EntityLogRecordProcessor, BridgeDrainProcessor)
