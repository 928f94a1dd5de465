"""Process and runtime metrics, named by the OpenTelemetry semantic conventions.

On by default (`FLEXT_OBSERVABILITY_RUNTIME_METRICS=false` turns them off). Names come from the
installed `opentelemetry-semantic-conventions` package:

| metric | instrument, unit | attributes |
|---|---|---|
| `process.cpu.time` | observable counter, s | `cpu.mode` (`user`, `system`) |
| `process.cpu.utilization` | observable gauge, 1 (share of the CPUs available) | `cpu.mode` |
| `process.memory.usage` | observable up-down counter, By (resident set size) | |
| `process.memory.virtual` | observable up-down counter, By | |
| `process.unix.file_descriptor.count` | observable up-down counter | |
| `process.thread.count` | observable up-down counter (OS threads) | |
| `cpython.gc.collections` | observable counter | `cpython.gc.generation` |
| `cpython.gc.collected_objects`, `cpython.gc.uncollectable_objects` | observable counter | idem |

The conventions have no GC-time or event-loop metric; ours are `flext.cpython.gc.duration`
(observable counter, s, per `cpython.gc.generation`; timed by a `gc.callbacks` hook, two clock
reads per collection) and `flext.asyncio.event_loop.lag` (observable gauge, s: the largest delay
of a 0.5 s timer on a running event loop since the last collection). A loop is watched once a
span starts on it (`LoopWatcher`, one C call per span start) or when `setup()` runs inside it.

Everything is read on the metric reader's thread at collection time (Linux `/proc`, else the
`resource` module); a value the platform cannot give is left out.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.semconv._incubating.attributes.cpu_attributes import CPU_MODE
from opentelemetry.semconv._incubating.attributes.cpython_attributes import CPYTHON_GC_GENERATION
from opentelemetry.semconv._incubating.metrics.cpython_metrics import (
    CPYTHON_GC_COLLECTED_OBJECTS,
    CPYTHON_GC_COLLECTIONS,
    CPYTHON_GC_UNCOLLECTABLE_OBJECTS,
)
from opentelemetry.semconv._incubating.metrics.process_metrics import (
    PROCESS_CPU_TIME,
    PROCESS_CPU_UTILIZATION,
    PROCESS_MEMORY_USAGE,
    PROCESS_MEMORY_VIRTUAL,
    PROCESS_THREAD_COUNT,
    PROCESS_UNIX_FILE_DESCRIPTOR_COUNT,
)

from flext_observability._internal import fork
from flext_observability._internal.guard import guard

__all__ = ["GC_DURATION", "LOOP_LAG", "LoopWatcher", "register_runtime_metrics", "watch_loop"]

GC_DURATION = "flext.cpython.gc.duration"
LOOP_LAG = "flext.asyncio.event_loop.lag"
_PROBE_INTERVAL = 0.5
_PROC = Path("/proc/self")
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _GcTimer:
    """Accumulates the time spent in each generation's collections (a `gc.callbacks` hook)."""

    def __init__(self) -> None:
        self.seconds = [0.0] * len(gc.get_count())
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            generation = info.get("generation", 0)
            if 0 <= generation < len(self.seconds):
                self.seconds[generation] += time.perf_counter() - self._started
            self._started = None


class _LoopLag:
    """The largest timer delay per watched loop since the last collection."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every loop (also in a forked child, which has none of the parent's loops)."""
        self._lock = threading.Lock()
        self._worst: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, float] = (
            weakref.WeakKeyDictionary()
        )

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if loop in self._worst:
                return
            self._worst[loop] = 0.0
        loop.call_soon_threadsafe(self._arm, weakref.ref(loop))

    def _arm(self, ref: weakref.ref[asyncio.AbstractEventLoop]) -> None:
        loop = ref()
        if loop is None or loop.is_closed():
            return
        due = loop.time() + _PROBE_INTERVAL
        loop.call_at(due, self._fire, ref, due)

    def _fire(self, ref: weakref.ref[asyncio.AbstractEventLoop], due: float) -> None:
        loop = ref()
        if loop is None:
            return
        lag = max(loop.time() - due, 0.0)
        with self._lock:
            self._worst[loop] = max(self._worst.get(loop, 0.0), lag)
        self._arm(ref)

    def collect(self) -> float | None:
        """The worst lag over the running loops since the last call (None: no loop watched)."""
        with self._lock:
            live = [loop for loop in self._worst if not loop.is_closed()]
            if not live:
                return None
            worst = max(self._worst[loop] for loop in live)
            for loop in live:
                self._worst[loop] = 0.0
        return worst


_LAG = _LoopLag()
fork.register(_LAG, after_in_child=_LAG.reset)


def watch_loop(loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """Measure the lag of `loop` (default: the running one); False when there is none."""
    if loop is None:
        loop = asyncio.events._get_running_loop()  # noqa: SLF001 - the fast C accessor
    if loop is None or loop.is_closed():
        return False
    _LAG.watch(loop)
    return True


class LoopWatcher(SpanProcessor):
    """Starts watching the event loop a span starts on (once per loop)."""

    def __init__(self) -> None:
        """Remember nothing yet."""
        self._seen: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._get = asyncio.events._get_running_loop  # noqa: SLF001 - the fast C accessor

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:  # noqa: ARG002 - interface
        """One C call when no loop runs; the first span on a loop starts its probe."""
        loop = self._get()
        if loop is not None and loop not in self._seen:
            with guard("runtime_metrics.watch_loop"):  # never break the caller's span
                self._seen.add(loop)
                _LAG.watch(loop)

    def on_end(self, span: ReadableSpan) -> None:
        """Nothing to do."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def _memory() -> tuple[int, int] | None:
    """(resident, virtual) bytes."""
    statm = _read(_PROC / "statm")
    if statm is not None:
        fields = statm.split()
        return int(fields[1]) * _PAGE, int(fields[0]) * _PAGE
    return None


def _threads() -> int:
    status = _read(_PROC / "status")
    if status is not None:
        for line in status.splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return threading.active_count()


def _fds() -> int | None:
    for directory in (_PROC / "fd", Path("/dev/fd")):
        try:
            return sum(1 for _ in directory.iterdir())
        except OSError:
            continue
    return None


class _Cpu:
    """CPU time and utilisation (the change since the previous collection)."""

    def __init__(self) -> None:
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
        self._cpus: int = available or os.cpu_count() or 1
        self._last: tuple[float, float, float] | None = None

    @staticmethod
    def times() -> tuple[float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime, usage.ru_stime

    def time_points(self, _options: CallbackOptions) -> list[Observation]:
        user, system = self.times()
        return [Observation(user, {CPU_MODE: "user"}), Observation(system, {CPU_MODE: "system"})]

    def utilization_points(self, _options: CallbackOptions) -> list[Observation]:
        user, system = self.times()
        now = time.monotonic()
        last, self._last = self._last, (now, user, system)
        if last is None or now <= last[0]:
            return []
        span = (now - last[0]) * self._cpus
        return [
            Observation(max(user - last[1], 0.0) / span, {CPU_MODE: "user"}),
            Observation(max(system - last[2], 0.0) / span, {CPU_MODE: "system"}),
        ]


def _gc_points(key: str) -> Callable[[CallbackOptions], Sequence[Observation]]:
    def points(_options: CallbackOptions) -> list[Observation]:
        return [
            Observation(stats[key], {CPYTHON_GC_GENERATION: generation})
            for generation, stats in enumerate(gc.get_stats())
        ]

    return points


def _guarded(
    name: str, callback: Callable[[CallbackOptions], Iterable[Observation]]
) -> Callable[[CallbackOptions], Sequence[Observation]]:
    @guard(f"runtime_metrics.{name}", default=())  # a callback never breaks collection
    def run(options: CallbackOptions) -> Sequence[Observation]:
        return list(callback(options))

    return run


def register_runtime_metrics(provider: MeterProvider) -> Callable[[], None]:
    """Create the runtime instruments on `provider`; return the cleanup (removes the GC hook)."""
    meter = provider.get_meter("flext_observability.runtime")
    cpu = _Cpu()
    timer = _GcTimer()
    gc.callbacks.append(timer)

    def memory(index: int) -> Callable[[CallbackOptions], Sequence[Observation]]:
        def points(_options: CallbackOptions) -> list[Observation]:
            values = _memory()
            return [] if values is None else [Observation(values[index])]

        return points

    def fds(_options: CallbackOptions) -> list[Observation]:
        count = _fds()
        return [] if count is None else [Observation(count)]

    def gc_time(_options: CallbackOptions) -> list[Observation]:
        return [
            Observation(seconds, {CPYTHON_GC_GENERATION: generation})
            for generation, seconds in enumerate(timer.seconds)
        ]

    def threads(_options: CallbackOptions) -> list[Observation]:
        return [Observation(_threads())]

    def lag(_options: CallbackOptions) -> list[Observation]:
        worst = _LAG.collect()
        return [] if worst is None else [Observation(worst)]

    counter, updown, gauge = (
        meter.create_observable_counter,
        meter.create_observable_up_down_counter,
        meter.create_observable_gauge,
    )
    specs: list[tuple[Callable[..., Any], str, Callable[[CallbackOptions], Any], str, str]] = [
        (counter, PROCESS_CPU_TIME, cpu.time_points, "s", "CPU seconds, by mode."),
        (gauge, PROCESS_CPU_UTILIZATION, cpu.utilization_points, "1", "Share of the CPUs used."),
        (updown, PROCESS_MEMORY_USAGE, memory(0), "By", "Resident set size."),
        (updown, PROCESS_MEMORY_VIRTUAL, memory(1), "By", "Virtual memory size."),
        (updown, PROCESS_UNIX_FILE_DESCRIPTOR_COUNT, fds, "{file_descriptor}", "Open fds."),
        (
            updown,
            PROCESS_THREAD_COUNT,
            lambda _o: [Observation(_threads())],
            "{thread}",
            "Threads.",
        ),
        (counter, CPYTHON_GC_COLLECTIONS, _gc_points("collections"), "{collection}", "GC runs."),
        (counter, CPYTHON_GC_COLLECTED_OBJECTS, _gc_points("collected"), "{object}", "Collected."),
        (
            counter,
            CPYTHON_GC_UNCOLLECTABLE_OBJECTS,
            _gc_points("uncollectable"),
            "{object}",
            "Uncollectable objects.",
        ),
        (counter, GC_DURATION, gc_time, "s", "Seconds spent in GC, by generation."),
        (gauge, LOOP_LAG, lag, "s", "Largest asyncio timer delay since the last collection."),
    ]
    for create, name, callback, unit, description in specs:
        create(name, callbacks=[_guarded(name, callback)], unit=unit, description=description)

    def remove() -> None:
        if timer in gc.callbacks:
            gc.callbacks.remove(timer)

    return remove
