"""The entity pipeline: one bounded queue and one worker thread per pipeline.

The application thread only appends a reference (`submit`); the worker converts raw OpenTelemetry
objects to entities in batches, redacts them, lets observers (the alert engine) add entities, and
hands the batch to the sinks. A full queue drops the item and counts it per signal and reason,
with one warning per interval. The pipeline is fork-aware: the child starts with an empty queue
and a new worker, so parent data is never delivered twice.

What each payload kind is, and becomes (`build_pipeline`):

- `span` (a `ReadableSpan`) and `span_with_baggage` (the span and its parent's baggage): a trace;
- `span_stat` (an unsampled `ReadableSpan`): the derived metric and a rule sample only (see
  `derived`), never delivered to the sinks;
- `metrics` (`MetricsData`): one metric per data point;
- `log` (a stdlib `LogRecord` and the OTel `Context` it was logged in, from the logging bridge):
  a log entry, its export copy (`log_export`, see `log_export.py`) and, for processors of the
  application, its OTel twin (`log_twin`, see `logs.py`);
- `otel_log` (a `ReadWriteLogRecord` from the Logs API, or its export snapshot): a log entry;
- `entity` (an entity the application emitted): itself.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, cast, overload

from opentelemetry import trace

from flext_observability._internal import fork
from flext_observability._internal.convert.logs import log_record_to_entry
from flext_observability._internal.convert.severity import level_from_levelno, level_from_severity
from flext_observability._internal.convert.stdlib import stdlib_record_to_entry
from flext_observability._internal.convert.trace import span_to_trace
from flext_observability._internal.derived import DerivedMetrics, NoisePolicy, span_converters
from flext_observability._internal.guard import guard, logger
from flext_observability._internal.metric_series import MetricSeriesConverter, redacts_tags_only
from flext_observability._internal.signals import start_quiet
from flext_observability.models import Entity, FlextLogEntry
from flext_observability.rules._samples import MetricSample, SpanSample
from flext_observability.sinks._base import Sink

if TYPE_CHECKING:
    import logging

    from opentelemetry.context import Context
    from opentelemetry.sdk._logs import ReadableLogRecord, ReadWriteLogRecord
    from opentelemetry.sdk.metrics.export import MetricsData
    from opentelemetry.sdk.trace import ReadableSpan

    from flext_observability._internal.export_lane import SpanExportTap
    from flext_observability._internal.log_export import LogExportTap

__all__ = [
    "SIGNAL_OF_KIND",
    "Converter",
    "LogTwin",
    "Observer",
    "PayloadKind",
    "Pipeline",
    "build_pipeline",
]

PayloadKind = Literal[
    "span", "span_with_baggage", "span_stat", "metrics", "log", "otel_log", "entity"
]
"""What a queued payload is (the module docstring lists each kind's payload type)."""

Converter = Callable[[Any], Iterable[Entity]]
"""Turns one queued payload into entities (runs on the worker)."""

Observer = Callable[[Sequence[Entity]], Sequence[Entity]]
"""Sees each converted batch; returns extra entities to deliver (e.g. alerts)."""

LogTwin = Callable[["logging.LogRecord", "Context", FlextLogEntry], None]
"""Emits the OTel twin of a bridged stdlib record (on the worker; see `logs.py`)."""

SIGNAL_OF_KIND: Final[dict[PayloadKind, str]] = {
    "span": "traces",
    "span_with_baggage": "traces",
    "span_stat": "traces",
    "metrics": "metrics",
    "log": "logs",
    "otel_log": "logs",
    "entity": "entities",
}
"""The signal a payload kind's drops are counted under."""

# The worker reports its failures and goes on, even in strict mode: it must never die.
_OBSERVER = guard("pipeline.observer", reraise=False)
_REDACT = guard("pipeline.redact", reraise=False)
_AFTER_BATCH = guard("pipeline.after_batch", reraise=False)
_CONVERT_GUARDS = {
    kind: guard(f"pipeline.convert.{kind}", reraise=False) for kind in SIGNAL_OF_KIND
}


class _FlushMarker:
    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class Pipeline:
    """A bounded queue drained by a worker thread into sinks.

    Args:
        converters: payload kind → function turning the payload into entities.
        sinks: where entities go (called on the worker, guarded one by one).
        redact: applied to each entity before observers and sinks (None: no redaction).
        observers: called with each converted batch; may return extra entities.
        capacity: maximum queued items; more are dropped and counted.
        batch_size: items converted per batch.
        schedule_delay: seconds the worker sleeps when the queue is short.
        tick: called on the worker about once per `tick_interval` seconds (time-driven rules).
        warn_interval: seconds between two "dropped" warnings.
        observe_only: types of converted items that go to the observers only (never redacted,
            never delivered to sinks), such as the samples of unsampled spans for the rules.
        after_batch: called on the worker after each batch (say, to add what the converters
            counted to a metric once per batch).
        redacted_kinds: payload kinds whose converter already applied `redact` (the metric
            converter redacts once per series).
    """

    def __init__(
        self,
        *,
        converters: Mapping[PayloadKind, Converter],
        sinks: Sequence[Sink] = (),
        redact: Callable[[Entity], Entity] | None = None,
        observers: Sequence[Observer] = (),
        capacity: int = 8192,
        batch_size: int = 512,
        schedule_delay: float = 0.5,
        tick: Callable[[], Iterable[Entity]] | None = None,
        tick_interval: float = 1.0,
        warn_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        observe_only: tuple[type, ...] = (),
        after_batch: Callable[[], None] | None = None,
        redacted_kinds: frozenset[PayloadKind] = frozenset(),
    ) -> None:
        """Build the pipeline; the worker starts on `start()`."""
        self._observe_only = observe_only
        self._after_batch = after_batch
        self._redacted_kinds = redacted_kinds
        self._converters = dict(converters)
        self._sinks: list[Sink] = list(sinks)
        self._redact = redact
        self._observers = list(observers)
        self.capacity = capacity
        self._batch_size = batch_size
        self._delay = schedule_delay
        self._tick = tick
        self._tick_interval = tick_interval
        self._warn_interval = warn_interval
        self._clock = clock
        self._drops: collections.Counter[tuple[str, str]] = collections.Counter()
        self._delivered = 0
        self._last_warning = float("-inf")
        self._last_tick = clock()
        self._started = False
        self._stopping = False
        self._closed = False
        self._shutdown_deadline: float | None = None
        self._span_tap: SpanExportTap | None = None
        self._abandoned = False
        self._delivering = False
        self._in_flight: list[PayloadKind] = []
        self._reinit()
        fork.register(self, after_in_child=self._after_fork)

    def _reinit(self) -> None:
        self._queue: collections.deque[tuple[PayloadKind | Literal["flush"], Any]] = (
            collections.deque()
        )
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._flushes = 0  # flush markers queued and not reached yet
        self._deliver_lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def _after_fork(self) -> None:
        self._reinit()
        self._drops.clear()
        self._delivered = 0
        if self._started and not self._stopping:
            self._started = False
            self.start()

    # -- application thread ------------------------------------------------------------------

    @overload
    def submit(self, kind: Literal["span"], payload: ReadableSpan) -> bool: ...
    @overload
    def submit(
        self, kind: Literal["span_with_baggage"], payload: tuple[ReadableSpan, dict[str, str]]
    ) -> bool: ...
    @overload
    def submit(self, kind: Literal["span_stat"], payload: ReadableSpan) -> bool: ...
    @overload
    def submit(self, kind: Literal["metrics"], payload: MetricsData) -> bool: ...
    @overload
    def submit(self, kind: Literal["log"], payload: tuple[logging.LogRecord, Context]) -> bool: ...
    @overload
    def submit(
        self, kind: Literal["otel_log"], payload: ReadWriteLogRecord | ReadableLogRecord
    ) -> bool: ...
    @overload
    def submit(self, kind: Literal["entity"], payload: Entity) -> bool: ...
    def submit(self, kind: PayloadKind, payload: object) -> bool:
        """Queue a payload for conversion; never blocks. Returns False when dropped."""
        queue = self._queue
        if self._stopping or len(queue) >= self.capacity:
            self.count_drop(kind, "shutdown" if self._stopping else "queue_full")
            return False
        queue.append((kind, payload))
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return True

    def count_drop(self, kind: PayloadKind, reason: str, count: int = 1) -> None:
        """Count dropped items of a payload kind (under its signal); warn once per interval."""
        signal = SIGNAL_OF_KIND[kind]
        with self._lock:
            self._drops[signal, reason] += count
            now = self._clock()
            warn = now - self._last_warning >= self._warn_interval
            if warn:
                self._last_warning = now
        if warn:
            logger.warning(
                "flext-observability dropped telemetry (%s, %s); totals so far: %s",
                signal,
                reason,
                dict(self.dropped),
            )

    # -- inspection --------------------------------------------------------------------------

    @property
    def dropped(self) -> dict[tuple[str, str], int]:
        """Drops so far, by (signal, reason)."""
        with self._lock:
            return dict(self._drops)

    @property
    def stopped(self) -> bool:
        """Whether `shutdown()` has begun: nothing submitted from then on is delivered."""
        return self._stopping

    @property
    def delivered(self) -> int:
        """Entities handed to the sinks so far."""
        return self._delivered

    def stats(self) -> dict[str, int]:
        """Queue size, capacity and total drops (for the saturation health check)."""
        return {
            "queue_size": len(self._queue),
            "queue_capacity": self.capacity,
            "dropped": sum(self.dropped.values()),
        }

    @property
    def sinks(self) -> list[Sink]:
        """The sinks, in delivery order."""
        return list(self._sinks)

    def add_sink(self, sink: Sink) -> None:
        """Add a sink (takes effect with the next batch)."""
        self._sinks = [*self._sinks, sink]

    def set_span_tap(self, tap: SpanExportTap | None) -> None:
        """Route every batch's spans through `tap` (export) before they become entities.

        The tap redacts each span once and exports the sampled ones; the trace entities are
        built from the redacted spans and skip the entity redaction (captured baggage, which is
        not part of the span, is scrubbed by the tap). See `_internal/export_lane.py`.
        """
        self._span_tap = tap

    def add_observer(self, observer: Observer) -> None:
        """Add an observer (takes effect with the next batch)."""
        self._observers = [*self._observers, observer]

    # -- worker ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if self._started or self._closed:
            return
        self._started = True
        self._worker = threading.Thread(
            target=self._run, name="flext-observability-pipeline", daemon=True
        )
        start_quiet(self._worker)

    @property
    def worker_ident(self) -> int | None:
        """The worker thread's ident (records logged on it are never captured)."""
        worker = self._worker
        return worker.ident if worker is not None else None

    def _run(self) -> None:
        while not self._stopping:
            # Woken early because a batch filled up: convert full batches only and leave the
            # rest for the next wake-up (or a flush). Converting whatever trickled in while the
            # worker was busy would mean many tiny batches, each paying a store transaction
            # and an export call. On the schedule (timeout), everything is drained.
            woken = self._wake.wait(self._delay)
            self._wake.clear()
            self.drain(full_only=woken)
            self._maybe_tick()
        self.drain(self._shutdown_deadline)

    def _maybe_tick(self) -> None:
        if self._tick is None:
            return
        now = self._clock()
        if now - self._last_tick < self._tick_interval:
            return
        self._last_tick = now
        extra: list[Entity] = []
        with guard("pipeline.tick", reraise=False):  # the worker reports, never dies
            extra = list(self._tick())
        if extra:
            self._deliver(self._apply_redaction(extra))

    def drain(self, deadline: float | None = None, *, full_only: bool = False) -> None:
        """Convert and deliver everything queued now (the worker's loop body).

        `full_only`: stop when less than a batch is left, unless a flush is waiting.
        """
        queue = self._queue
        while queue:
            if deadline is not None and self._clock() >= deadline:
                return
            if full_only and len(queue) < self._batch_size and not self._flushes:
                return
            batch: list[tuple[PayloadKind, Any]] = []
            markers: list[_FlushMarker] = []
            while queue and len(batch) < self._batch_size:
                item = queue.popleft()
                if isinstance(item[1], _FlushMarker):
                    markers.append(item[1])
                    break
                batch.append(item)  # type: ignore[arg-type] # not a flush marker, see above
            self._in_flight = [kind for kind, _ in batch]
            self._process(batch)
            self._in_flight = []
            if self._after_batch is not None:
                with _AFTER_BATCH:
                    self._after_batch()
            for marker in markers:
                with self._lock:
                    self._flushes -= 1
                marker.done.set()

    def _process(self, batch: list[tuple[PayloadKind, Any]]) -> None:
        tap = self._span_tap  # read once: shutdown may unset it meanwhile
        tapped = self._tap_spans(batch, tap) if tap is not None else {}
        entities: list[Entity] = []
        scrubbed: list[bool] = []  # entities built from spans the tap already redacted
        observed_only: list[Any] = []
        for index, (kind, payload) in enumerate(batch):
            with _CONVERT_GUARDS[kind]:
                pre_redacted = index in tapped
                if pre_redacted:
                    payload = self._tapped_payload(kind, payload, tapped[index], tap)  # noqa: PLW2901 - the redacted stand-in
                    if payload is None:
                        continue
                clean = pre_redacted or kind in self._redacted_kinds
                for item in self._converters[kind](payload):
                    if isinstance(item, self._observe_only):
                        observed_only.append(item)
                    else:
                        entities.append(item)
                        scrubbed.append(clean)
                continue
            self.count_drop(kind, "conversion_error")
        if not entities and not observed_only:
            return
        entities = self._apply_redaction(entities, scrubbed)
        extra: list[Entity] = []
        for observer in self._observers:
            with _OBSERVER:
                extra.extend(observer([*entities, *observed_only]))
        if extra:
            entities.extend(self._apply_redaction(extra))
        if entities:
            self._deliver(entities)

    def _tap_spans(
        self, batch: list[tuple[PayloadKind, Any]], tap: SpanExportTap
    ) -> dict[int, ReadableSpan | None]:
        """Hand the batch's spans to the tap; their redacted versions by batch index."""
        indexes: list[int] = []
        spans: list[ReadableSpan] = []
        for index, (kind, payload) in enumerate(batch):
            if kind == "span":
                indexes.append(index)
                spans.append(payload)
            elif kind == "span_with_baggage":
                indexes.append(index)
                spans.append(payload[0])
        if not spans:
            return {}
        redacted: list[ReadableSpan | None] = [None] * len(spans)
        with guard("pipeline.span_tap", reraise=False):
            redacted = tap(spans)
        return dict(zip(indexes, redacted, strict=True))

    def _tapped_payload(
        self, kind: PayloadKind, payload: Any, span: ReadableSpan | None, tap: SpanExportTap | None
    ) -> Any:
        """The payload with the span the tap redacted (None when it could not be: dropped)."""
        if span is None:
            self.count_drop(kind, "redaction_error")
            return None
        if kind == "span_with_baggage" and tap is not None:
            return (span, tap.redact_context(payload[1]))
        return span

    def _apply_redaction(
        self, entities: list[Entity], scrubbed: list[bool] | None = None
    ) -> list[Entity]:
        redact = self._redact
        if redact is None:
            return entities
        out: list[Entity] = []
        for index, entity in enumerate(entities):
            if scrubbed is not None and scrubbed[index]:
                out.append(entity)
                continue
            with _REDACT:
                out.append(redact(entity))
                continue
            # Never deliver an entity we could not scrub: drop it and count.
            self.count_drop("entity", "redaction_error")
        return out

    def _deliver(self, entities: Sequence[Entity]) -> None:
        with self._deliver_lock:
            if self._abandoned:
                return  # shutdown's deadline passed: this batch was counted as dropped
            self._delivering = True
        try:
            self._write_sinks(entities)
        finally:
            self._delivering = False

    def _write_sinks(self, entities: Sequence[Entity]) -> None:
        for sink in self._sinks:
            with guard(f"sink.{type(sink).__name__}", reraise=False):
                sink.write(entities)
                continue
            self.count_drop("entity", "sink_error", len(entities))
        self._delivered += len(entities)

    # -- flush and shutdown ------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Deliver everything submitted before this call; False if `timeout` expired first."""
        if self._closed:
            return True
        marker = _FlushMarker()
        with self._lock:
            self._flushes += 1
        self._queue.append(("flush", marker))
        if not self._started or (self._worker is not None and not self._worker.is_alive()):
            self.drain()
        else:
            self._wake.set()
        if not marker.done.wait(timeout):
            return False
        return self._flush_sinks(timeout)

    def _flush_sinks(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else self._clock() + timeout
        ok = True
        for sink in self._sinks:
            remaining = None if deadline is None else max(0.0, deadline - self._clock())
            flushed = False
            with guard(f"sink.{type(sink).__name__}.flush"):
                flushed = sink.flush(remaining)
            ok = flushed and ok
        return ok

    def shutdown(self, timeout: float | None = None) -> bool:
        """Drain what is queued, stop the worker and close the sinks within `timeout`."""
        if self._closed:
            return True
        deadline = None if timeout is None else self._clock() + timeout
        self._shutdown_deadline = deadline
        self._stopping = True
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._wake.set()
            worker.join(None if deadline is None else max(0.0, deadline - self._clock()))
            finished = not worker.is_alive()
        else:
            self.drain(deadline)
            finished = True
        left = self._abandon(finished)
        self._closed = True
        for sink in self._sinks:
            remaining = None if deadline is None else max(0.0, deadline - self._clock())
            with guard(f"sink.{type(sink).__name__}.close", reraise=False):  # close every sink
                sink.close(remaining)
        return finished and not left

    def _abandon(self, finished: bool) -> int:  # noqa: FBT001 - internal
        """Count what the deadline left undelivered, exactly once; say the total in one line.

        Each queued payload is taken off the queue here (so the worker can never deliver it
        afterwards); a batch the worker holds counts too unless its sink write already began.
        """
        left: collections.Counter[PayloadKind] = collections.Counter()
        queue = self._queue
        while True:
            try:
                kind, _payload = queue.popleft()
            except IndexError:
                break
            if kind == "flush":
                _payload.done.set()  # a flush waiting on it learns there is nothing more
            else:
                left[kind] += 1
        if not finished:
            with self._deliver_lock:
                self._abandoned = True
                if not self._delivering:
                    left.update(self._in_flight)
        for kind, count in left.items():
            self._count_quietly(kind, "shutdown", count)
        total = sum(left.values())
        if total:
            logger.warning(
                "flext-observability: at shutdown %d queued items could not be delivered "
                "within the deadline and were dropped (totals: %s)",
                total,
                dict(self.dropped),
            )
        return total

    def _count_quietly(self, kind: PayloadKind, reason: str, count: int) -> None:
        with self._lock:
            self._drops[SIGNAL_OF_KIND[kind], reason] += count


def _log_converter(
    service_name: str | None,
    log_twin: LogTwin | None,
    derived: DerivedMetrics,
    log_export: LogExportTap | None,
) -> Converter:
    """A bridged stdlib record is counted, then becomes a log entry in its span context.

    Its export copy goes to `log_export` and its OTel twin to `log_twin` (each when given).
    """

    def convert(payload: tuple[logging.LogRecord, Context]) -> list[Entity]:
        record, context = payload
        if not derived.log(record.name, level_from_levelno(record.levelno).value):
            return []
        span_context = trace.get_current_span(context).get_span_context()
        entry = stdlib_record_to_entry(
            record,
            trace_id=span_context.trace_id,
            span_id=span_context.span_id,
            service_name=service_name,
        )
        if log_export is not None:
            log_export.bridged(record, context, entry)
        if log_twin is not None:
            log_twin(record, context, entry)
        return [entry]

    return convert


def build_pipeline(
    *,
    sinks: Sequence[Sink] = (),
    redact: Callable[[Entity], Entity] | None = None,
    observers: Sequence[Observer] = (),
    service_name: str | None = None,
    log_twin: LogTwin | None = None,
    log_export: LogExportTap | None = None,
    capacity: int = 8192,
    batch_size: int = 512,
    schedule_delay: float = 0.5,
    tick: Callable[[], Iterable[Entity]] | None = None,
    derived: DerivedMetrics | None = None,
) -> Pipeline:
    """Build a pipeline that converts every payload kind our components queue.

    `derived` records the derived metrics and applies the noise policy (default: an unbound
    one with the default exclusions, so rules still see every span). `log_export` gets every
    bridged record and every Logs API record for export, sent at the end of each batch.
    """
    pipeline_ref: list[Pipeline] = []
    derived = derived if derived is not None else DerivedMetrics(NoisePolicy())

    def skipped_point(_name: str, _exc: BaseException) -> None:
        pipeline_ref[0].count_drop("metrics", "conversion_error")

    # The metric converter redacts each series once (tags only) when `redact` is a Redactor's;
    # any other `redact` is applied by the pipeline to every entity.
    series_redact = redacts_tags_only(redact)
    converters: dict[PayloadKind, Converter] = {
        "metrics": cast(
            "Converter",
            MetricSeriesConverter(
                redact=redact if series_redact else None,
                on_skip=skipped_point,
                on_redaction_error=lambda: pipeline_ref[0].count_drop("entity", "redaction_error"),
            ),
        ),
        "log": _log_converter(service_name, log_twin, derived, log_export),
        "otel_log": lambda record: _otel_log(record, derived, log_export),
        "entity": lambda entity: [entity],
    }
    to_entity = lambda span, context: [span_to_trace(span, context=context)]  # noqa: E731
    for kind, convert in span_converters(derived, to_entity).items():
        converters[kind] = convert  # noqa: PERF403 - dict.update is invariant in the key type
    pipeline = Pipeline(
        converters=converters,
        sinks=sinks,
        redact=redact,
        observers=observers,
        capacity=capacity,
        batch_size=batch_size,
        schedule_delay=schedule_delay,
        tick=tick,
        observe_only=(SpanSample, MetricSample),
        after_batch=(
            derived.flush_counts
            if log_export is None
            else _after_batch(log_export.end_batch, derived.flush_counts)
        ),
        redacted_kinds=frozenset({"metrics"}) if series_redact or redact is None else frozenset(),
    )
    pipeline_ref.append(pipeline)
    return pipeline


def _after_batch(*steps: Callable[[], None]) -> Callable[[], None]:
    """Run every step after a batch, each on its own (one failing does not skip the next)."""

    def run() -> None:
        for step in steps:
            with _AFTER_BATCH:
                step()

    return run


def _otel_log(
    record: ReadWriteLogRecord | ReadableLogRecord,
    derived: DerivedMetrics,
    log_export: LogExportTap | None,
) -> list[Entity]:
    """A record emitted through the Logs API: exported, counted by scope name, converted."""
    if log_export is not None:
        log_export.emitted(cast("ReadableLogRecord", record))  # the processor's snapshot
    scope = record.instrumentation_scope
    log = record.log_record
    level = level_from_severity(log.severity_number, log.severity_text)
    if not derived.log(scope.name if scope is not None else "", level.value):
        return []
    return [log_record_to_entry(record)]
