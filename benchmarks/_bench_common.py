"""Shared pieces of the pipeline benchmarks: no-op exporters, sinks, the interleaved runner.

Every benchmark compares "ours" with the bare OpenTelemetry SDK measured in the same process,
interleaved (the order alternates every repeat, so drift and warm-up hit both sides alike), and
reports the median of the per-repeat ratios ours / bare. Nothing here asserts on time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from flext_observability.sinks import MemorySink, SQLiteStore
from flext_observability.sinks._base import Sink

SINK_KINDS = ("store", "memory")


class NoOpSpanExporter(SpanExporter):
    """Accepts and discards every batch (so the network is not measured)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:  # noqa: ARG002
        """Discard."""
        return SpanExportResult.SUCCESS


class NoOpLogExporter(LogRecordExporter):
    """Accepts and discards every batch of log records."""

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:  # noqa: ARG002
        """Discard."""
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:  # noqa: ARG002
        """Nothing is buffered."""
        return True


@dataclass(frozen=True)
class Result:
    """One row of the report: medians of both sides and the median per-repeat ratio."""

    name: str
    measures: str
    unit: str
    ours: float
    bare: float
    ratio: float
    target: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None when the row is informational."""
        return None if self.target is None else self.ratio <= self.target

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with the pass mark)."""
        return {**asdict(self), "passed": self.passed}


def timed_block(
    work: Callable[[], object], flush: Callable[[], object], count: int
) -> Callable[[], tuple[float, float, float]]:
    """A block measuring `work` (count items): app-thread CPU, app-thread wall, total CPU.

    App-thread CPU is `thread_time` around `work`; wall is `perf_counter` around it (so it
    includes GIL waits); total CPU is `process_time` from the start until `flush` returns, all
    threads included. Each is per item, in microseconds.
    """

    def run() -> tuple[float, float, float]:
        cpu0 = time.process_time_ns()
        thread0 = time.thread_time_ns()
        wall0 = time.perf_counter_ns()
        work()
        wall1 = time.perf_counter_ns()
        thread1 = time.thread_time_ns()
        flush()
        cpu1 = time.process_time_ns()
        return (
            (thread1 - thread0) / count / 1000,
            (wall1 - wall0) / count / 1000,
            (cpu1 - cpu0) / count / 1000,
        )

    return run


Block = Callable[[], Sequence[float]]
"""Runs one timed block; returns its measurements (one per metric the benchmark reports)."""


def interleaved(bare: Block, ours: Block, repeats: int) -> tuple[list[list[float]], ...]:
    """Run both blocks `repeats` times, alternating which goes first.

    Returns, per metric index, three lists: bare samples, ours samples and per-repeat ratios,
    as `(bare_by_metric, ours_by_metric, ratio_by_metric)`.
    """
    bare_samples: list[list[float]] = []
    ours_samples: list[list[float]] = []
    ratios: list[list[float]] = []
    for repeat in range(repeats):
        if repeat % 2 == 0:
            b, o = bare(), ours()
        else:
            o, b = ours(), bare()
        if not bare_samples:
            bare_samples = [[] for _ in b]
            ours_samples = [[] for _ in o]
            ratios = [[] for _ in b]
        for index, (bv, ov) in enumerate(zip(b, o, strict=True)):
            bare_samples[index].append(bv)
            ours_samples[index].append(ov)
            ratios[index].append(ov / bv if bv > 0 else float("inf"))
    return bare_samples, ours_samples, ratios


def summarise(
    samples: tuple[list[list[float]], ...],
    index: int,
    *,
    name: str,
    measures: str,
    unit: str,
    target: float | None = None,
    extra: dict[str, Any] | None = None,
) -> Result:
    """Build the report row for metric `index` of an `interleaved` run."""
    bare_samples, ours_samples, ratios = samples
    return Result(
        name=name,
        measures=measures,
        unit=unit,
        ours=statistics.median(ours_samples[index]),
        bare=statistics.median(bare_samples[index]),
        ratio=statistics.median(ratios[index]),
        target=target,
        extra={"repeats": len(ratios[index]), **(extra or {})},
    )


class SinkFactory:
    """Builds the sink the "ours" side delivers to, and removes its files at the end."""

    def __init__(self, kind: str) -> None:
        """`kind` is "store" (SQLite in a temp dir) or "memory" (a bounded MemorySink)."""
        if kind not in SINK_KINDS:
            raise ValueError(f"sink kind: expected one of {SINK_KINDS}, got {kind!r}")
        self.kind = kind
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def make(self) -> Sink:
        """A fresh sink of the configured kind."""
        if self.kind == "memory":
            return MemorySink(max_items=20_000)
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="flext-bench-")
        return SQLiteStore(Path(self._tmp.name) / "bench.db", retention_hours=None, max_mb=None)

    def cleanup(self) -> None:
        """Remove the temp dir (after the sinks were closed)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
