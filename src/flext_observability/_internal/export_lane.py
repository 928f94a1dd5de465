"""Span export fed by the entity pipeline: each span is queued, read and redacted once.

When `setup()` owns both the export path and the entity path, `EntitySpanProcessor` is the only
span processor. Its `on_end` appends the span to the pipeline's queue (nothing else on the
application thread); on the pipeline's worker, `SpanExportTap` redacts each batch's spans once
(`redact_span`), hands the sampled ones to every exporter's `ExportLane` in one piece, and gives
the same redacted spans back to become the entities (which then need no second redaction). That
replaces a `BatchSpanProcessor` per exporter: its queue, its lock on every `on_end` and its
thread reading every span.

An `ExportLane` is a thread that only exports, with the instrumentation suppressed (so an
instrumented HTTP client does not trace our own exports). The network therefore never blocks
the worker: a lane that falls behind drops whole batches beyond its capacity, counted under
`(signal, "export_queue_full")`. Exporters are plain SDK exporters, so anything that wraps
one (export health tracking, an on-disk outbox) sits exactly where it sat behind a
`BatchSpanProcessor`. Log records take the same lanes (`log_export.LogExportTap`).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter

from flext_observability._internal import fork
from flext_observability._internal.derived import as_sampled
from flext_observability._internal.guard import guard
from flext_observability._internal.signals import start_quiet
from flext_observability.redaction import Redactor
from flext_observability.redaction._exporters import redact_span

__all__ = [
    "ExportLane",
    "Exporter",
    "OnDrop",
    "SpanExportTap",
    "flush_lanes",
    "lanes_for",
    "shutdown_lanes",
]

OnDrop = Callable[[int, str], None]
"""Called with a number of items (spans, log records) not exported and the reason."""

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Exporter(Protocol[T_contra]):
    """What a lane drives: an SDK span or log record exporter (or a wrapper of one)."""

    def export(self, batch: Sequence[T_contra], /) -> object:
        """Send a batch."""
        ...

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Send what the exporter buffers."""
        ...

    def shutdown(self) -> None:
        """Release the exporter."""
        ...


_EXPORT = guard("export_lane.export", reraise=False)
_FLUSH = guard("export_lane.flush", reraise=False)
_SHUTDOWN = guard("export_lane.shutdown", reraise=False)
_REDACT = guard("redaction.export.span", reraise=False)


class ExportLane(Generic[T]):
    """One exporter on its own thread, fed whole batches of (already redacted) items.

    Args:
        exporter: the exporter (OTLP, console, ...), called only from the lane's thread.
        on_drop: told about items dropped because the lane is full or shut down.
        max_queue: items waiting at most; a batch beyond it is cut and the rest dropped.
        batch_size: items per `export()` call.
        schedule_delay: seconds items may wait for `batch_size` of them to gather before they
            are exported anyway, as a batch processor's `OTEL_BSP_SCHEDULE_DELAY` /
            `OTEL_BLRP_SCHEDULE_DELAY` (a flush or shutdown exports at once). None or 0: each
            batch the pipeline hands over is exported as it comes (the pipeline's own schedule
            already gathers them).
    """

    def __init__(
        self,
        exporter: Exporter[T],
        *,
        on_drop: OnDrop,
        max_queue: int = 2048,
        batch_size: int = 512,
        schedule_delay: float | None = None,
    ) -> None:
        """Build the lane; its thread starts with the first batch."""
        self._exporter = exporter
        self._on_drop = on_drop
        self._max_queue = max_queue
        self._batch_size = batch_size
        self._delay = schedule_delay or 0.0
        self._closed = False
        self._reinit()
        fork.register(self, after_in_child=self._reinit)

    def _reinit(self) -> None:
        # A fork child starts empty, with no thread (it starts with the next batch).
        self._cond = threading.Condition()
        self._batches: collections.deque[list[T]] = collections.deque()
        self._queued = 0
        self._oldest = 0.0  # when the oldest waiting item was queued (monotonic)
        self._flushing = 0  # flushes waiting: export now, whatever the delay
        self._busy = False
        self._thread: threading.Thread | None = None

    def offer(self, spans: list[T]) -> None:
        """Queue a batch for export; never blocks (what does not fit is dropped and counted)."""
        dropped, reason = 0, ""
        with self._cond:
            if self._closed:
                dropped, reason = len(spans), "shutdown"
            else:
                room = self._max_queue - self._queued
                if len(spans) > room:
                    dropped, reason = len(spans) - max(room, 0), "export_queue_full"
                    spans = spans[: max(room, 0)]
                if spans:
                    if not self._batches:
                        self._oldest = time.monotonic()
                    self._batches.append(spans)
                    self._queued += len(spans)
                    self._cond.notify()
                    if self._thread is None:
                        self._thread = threading.Thread(
                            target=self._run, name="flext-observability-export", daemon=True
                        )
                        start_quiet(self._thread)
        if dropped:
            self._on_drop(dropped, reason)

    def _wait_for_batch(self) -> float | None:
        """Seconds to wait before the waiting items are due (None: none wait; 0: due now)."""
        if not self._batches:
            return None
        if self._closed or self._flushing or self._queued >= self._batch_size:
            return 0.0
        return max(0.0, self._oldest + self._delay - time.monotonic())

    def _run(self) -> None:
        while True:
            with self._cond:
                while (wait := self._wait_for_batch()) != 0.0 and not self._closed:
                    self._cond.wait(wait)
                if not self._batches:
                    return  # closed and drained
                # Take every waiting batch up to `batch_size` items: the worker hands over
                # small batches when it is busy, and each export call has a fixed cost.
                batch = self._batches.popleft()
                while self._batches and len(batch) + len(self._batches[0]) <= self._batch_size:
                    batch = batch + self._batches.popleft()
                self._queued -= len(batch)
                self._oldest = time.monotonic()  # what is left waits its own delay from now
                self._busy = True
            try:
                with suppress_instrumentation():
                    for start in range(0, len(batch), self._batch_size):
                        with _EXPORT:  # a failing export loses that batch only
                            self._exporter.export(batch[start : start + self._batch_size])
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _wait_idle(self, deadline: float | None) -> bool:
        with self._cond:
            self._flushing += 1  # due now, whatever the schedule delay
            self._cond.notify_all()
            try:
                while self._batches or self._busy:
                    if self._thread is None or not self._thread.is_alive():
                        return False
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
            finally:
                self._flushing -= 1
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Export everything queued, then flush the exporter; False if `timeout` ran out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        idle = self._wait_idle(deadline)
        flushed = False
        remaining = 30.0 if deadline is None else max(0.0, deadline - time.monotonic())
        with _FLUSH:
            flushed = self._exporter.force_flush(int(remaining * 1000)) is not False
        return idle and flushed

    def shutdown(self, timeout: float | None = None) -> None:
        """Export what is queued (within `timeout`), stop the thread, shut the exporter down."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._cond:
            left = self._queued
            self._batches.clear()
            self._queued = 0
        if left:
            self._on_drop(left, "shutdown")
        with _SHUTDOWN:
            self._exporter.shutdown()


class SpanExportTap:
    """Redacts a batch of spans once and hands the sampled ones to every exporter's lane.

    Runs on the pipeline's worker (`Pipeline.set_span_tap`). `__call__` returns the redacted
    spans, in order, with None where a span could not be redacted (it is neither exported nor
    stored; the error is reported).

    Args:
        exporters: the span exporters, each given its own `ExportLane`.
        redactor: the rules, shared with the entities (None or disabled: no redaction).
        on_drop: told about spans the lanes dropped.
        max_queue, batch_size, schedule_delay: each lane's (see `ExportLane`).
    """

    def __init__(
        self,
        exporters: Sequence[SpanExporter],
        *,
        redactor: Redactor | None,
        on_drop: OnDrop,
        max_queue: int = 2048,
        batch_size: int = 512,
        schedule_delay: float | None = None,
    ) -> None:
        """One lane per exporter."""
        self._redactor = redactor if redactor is not None and redactor.enabled else None
        self._lanes: list[ExportLane[ReadableSpan]] = lanes_for(
            exporters,
            on_drop=on_drop,
            max_queue=max_queue,
            batch_size=batch_size,
            schedule_delay=schedule_delay,
        )

    def __call__(self, spans: list[ReadableSpan]) -> list[ReadableSpan | None]:
        """Redact `spans`, export the sampled ones, return the redacted ones (see class doc)."""
        redactor = self._redactor
        redacted: list[ReadableSpan | None]
        if redactor is None:
            redacted = list(spans)
        else:
            redacted = []
            for span in spans:
                clean: ReadableSpan | None = None
                with _REDACT:  # never export or store what could not be scrubbed
                    clean = redact_span(redactor, span)
                redacted.append(clean)
        # The processor queues sampled spans, and unsampled ones only when they are notable
        # (failed or slow, see `_internal.derived`): those are exported marked as sampled.
        sampled = [
            span if span.context.trace_flags.sampled else as_sampled(span)
            for span in redacted
            if span is not None and span.context is not None
        ]
        if sampled:
            for lane in self._lanes:
                lane.offer(sampled)
        return redacted

    def redact_context(self, context: Mapping[str, str]) -> dict[str, str]:
        """Scrub captured baggage, the one part of a trace entity that is not in the span."""
        if self._redactor is None:
            return dict(context)
        return self._redactor.redact_attributes(context)

    def flush(self, timeout: float | None = None) -> bool:
        """Flush every lane within `timeout` (shared)."""
        return flush_lanes(self._lanes, timeout)

    def shutdown(self, timeout: float | None = None) -> None:
        """Shut every lane (and its exporter) down within `timeout` (shared)."""
        shutdown_lanes(self._lanes, timeout)


def lanes_for(
    exporters: Sequence[Exporter[T]],
    *,
    on_drop: OnDrop,
    max_queue: int,
    batch_size: int,
    schedule_delay: float | None,
) -> list[ExportLane[T]]:
    """One `ExportLane` per exporter, all with the same settings (a tap's lanes)."""
    return [
        ExportLane(
            exporter,
            on_drop=on_drop,
            max_queue=max_queue,
            batch_size=batch_size,
            schedule_delay=schedule_delay,
        )
        for exporter in exporters
    ]


def flush_lanes(lanes: Sequence[ExportLane[T]], timeout: float | None) -> bool:
    """Flush every lane within `timeout` (shared); False if any did not finish."""
    deadline = None if timeout is None else time.monotonic() + timeout
    ok = True
    for lane in lanes:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        ok = lane.flush(remaining) and ok
    return ok


def shutdown_lanes(lanes: Sequence[ExportLane[T]], timeout: float | None) -> None:
    """Shut every lane (and its exporter) down within `timeout` (shared)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for lane in lanes:
        lane.shutdown(None if deadline is None else max(0.0, deadline - time.monotonic()))
