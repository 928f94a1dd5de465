"""The entity pipeline: one bounded queue and one worker thread per pipeline.

The application thread only appends a reference (`submit`); the worker converts raw OpenTelemetry
objects to entities in batches, redacts them, lets observers (the alert engine) add entities, and
hands the batch to the sinks. A full queue drops the item and counts it per signal and reason,
with one warning per interval. The pipeline is fork-aware: the child starts with an empty queue
and a new worker, so parent data is never delivered twice.
"""

from __future__ import annotations

import collections
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from flext_observability._internal.guard import is_strict, logger, report_internal_error
from flext_observability.sinks._base import Entity, Sink

__all__ = ["Converter", "Observer", "Pipeline"]

Converter = Callable[[Any], Iterable[Entity]]
"""Turns one queued payload into entities (runs on the worker)."""

Observer = Callable[[Sequence[Entity]], Sequence[Entity]]
"""Sees each converted batch; returns extra entities to deliver (e.g. alerts)."""

SIGNAL_OF_KIND = {
    "span": "traces",
    "span_stat": "traces",
    "metrics": "metrics",
    "log": "logs",
    "otel_log": "logs",
    "entity": "entities",
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
    """

    def __init__(
        self,
        *,
        converters: Mapping[str, Converter],
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
    ) -> None:
        """Build the pipeline; the worker starts on `start()`."""
        self._observe_only = observe_only
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
        self._reinit()
        weak = weakref.WeakMethod(self._after_fork)

        def _after_fork_in_child() -> None:
            method = weak()
            if method is not None:
                method()

        os.register_at_fork(after_in_child=_after_fork_in_child)

    def _reinit(self) -> None:
        self._queue: collections.deque[tuple[str, Any]] = collections.deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def _after_fork(self) -> None:
        self._reinit()
        self._drops.clear()
        self._delivered = 0
        if self._started and not self._stopping:
            self._started = False
            self.start()

    # -- application thread ------------------------------------------------------------------

    def submit(self, kind: str, payload: Any) -> bool:
        """Queue a payload for conversion; never blocks. Returns False when dropped."""
        queue = self._queue
        if self._stopping or len(queue) >= self.capacity:
            self.count_drop(kind, "shutdown" if self._stopping else "queue_full")
            return False
        queue.append((kind, payload))
        if len(queue) >= self._batch_size and not self._wake.is_set():
            self._wake.set()
        return True

    def count_drop(self, kind: str, reason: str, count: int = 1) -> None:
        """Count dropped items of a payload kind (or signal); warn once per interval."""
        signal = SIGNAL_OF_KIND.get(kind, kind)
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
        self._worker.start()

    @property
    def worker_ident(self) -> int | None:
        """The worker thread's ident (records logged on it are never captured)."""
        worker = self._worker
        return worker.ident if worker is not None else None

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._delay)
            self._wake.clear()
            self.drain()
            self._maybe_tick()
        self.drain(self._shutdown_deadline)

    def _maybe_tick(self) -> None:
        if self._tick is None:
            return
        now = self._clock()
        if now - self._last_tick < self._tick_interval:
            return
        self._last_tick = now
        try:
            extra = list(self._tick())
        except Exception as exc:  # noqa: BLE001 - the worker reports, never dies
            report_internal_error("pipeline.tick", exc)
            return
        if extra:
            self._deliver(self._apply_redaction(extra))

    def drain(self, deadline: float | None = None) -> None:
        """Convert and deliver everything queued now (the worker's loop body)."""
        queue = self._queue
        while queue:
            if deadline is not None and self._clock() >= deadline:
                return
            batch: list[tuple[str, Any]] = []
            markers: list[_FlushMarker] = []
            while queue and len(batch) < self._batch_size:
                item = queue.popleft()
                if isinstance(item[1], _FlushMarker):
                    markers.append(item[1])
                    break
                batch.append(item)
            self._process(batch)
            for marker in markers:
                marker.done.set()

    def _process(self, batch: list[tuple[str, Any]]) -> None:
        entities: list[Entity] = []
        observed_only: list[Any] = []
        for kind, payload in batch:
            try:
                converted = self._converters[kind](payload)
                if self._observe_only:
                    for item in converted:
                        target = observed_only if isinstance(item, self._observe_only) else entities
                        target.append(item)
                else:
                    entities.extend(converted)
            except Exception as exc:  # noqa: BLE001 - the worker reports, never dies
                report_internal_error(f"pipeline.convert.{kind}", exc)
                self.count_drop(kind, "conversion_error")
        if not entities and not observed_only:
            return
        entities = self._apply_redaction(entities)
        extra: list[Entity] = []
        for observer in self._observers:
            try:
                extra.extend(observer([*entities, *observed_only]))
            except Exception as exc:  # noqa: BLE001 - the worker reports, never dies
                report_internal_error("pipeline.observer", exc)
        if extra:
            entities.extend(self._apply_redaction(extra))
        if entities:
            self._deliver(entities)

    def _apply_redaction(self, entities: list[Entity]) -> list[Entity]:
        redact = self._redact
        if redact is None:
            return entities
        out: list[Entity] = []
        for entity in entities:
            try:
                out.append(redact(entity))
            except Exception as exc:  # noqa: BLE001 - the worker reports, never dies
                # Never deliver an entity we could not scrub: drop it and count.
                report_internal_error("pipeline.redact", exc)
                self.count_drop("entity", "redaction_error")
        return out

    def _deliver(self, entities: Sequence[Entity]) -> None:
        for sink in self._sinks:
            try:
                sink.write(entities)
            except Exception as exc:  # noqa: BLE001 - the worker reports, never dies
                report_internal_error(f"sink.{type(sink).__name__}", exc)
                self.count_drop("entity", "sink_error", len(entities))
        self._delivered += len(entities)

    # -- flush and shutdown ------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Deliver everything submitted before this call; False if `timeout` expired first."""
        if self._closed:
            return True
        marker = _FlushMarker()
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
            try:
                ok = sink.flush(remaining) and ok
            except Exception as exc:
                if is_strict():
                    raise
                report_internal_error(f"sink.{type(sink).__name__}.flush", exc)
                ok = False
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
        left = len(self._queue)
        if left:
            self.count_drop("entity", "shutdown", left)
        self._closed = True
        for sink in self._sinks:
            remaining = None if deadline is None else max(0.0, deadline - self._clock())
            try:
                sink.close(remaining)
            except Exception as exc:  # noqa: BLE001 - closing must finish for every sink
                report_internal_error(f"sink.{type(sink).__name__}.close", exc)
        return finished and not left
