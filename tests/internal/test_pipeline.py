"""The entity pipeline: bounded queue, counted drops, flush, shutdown deadline, fork."""

from __future__ import annotations

import multiprocessing
import threading
import tracemalloc
from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.sdk.trace import TracerProvider

from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability.models import Entity, FlextTrace
from flext_observability.processors import EntitySpanProcessor
from flext_observability.sinks.memory import MemorySink


class StuckSink:
    """A sink whose writes block until released (a black-holed destination)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.received: list[Entity] = []

    def write(self, entities: Sequence[Entity]) -> None:
        self.entered.set()
        self.release.wait(30)
        self.received.extend(entities)

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        self.release.set()


class RaisingSink:
    """A sink that always fails."""

    def write(self, entities: Sequence[Entity]) -> None:
        raise RuntimeError("sink is broken")

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        return None


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    """A hand-built tracer provider (no globals)."""
    tp = TracerProvider(shutdown_on_exit=False)
    yield tp
    tp.shutdown()


def test_spans_become_traces_through_a_hand_built_provider(provider: TracerProvider) -> None:
    """EntitySpanProcessor on its own delivers every ended span as a FlextTrace."""
    sink = MemorySink()
    processor = EntitySpanProcessor(sinks=[sink])
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("outer"), tracer.start_as_current_span("inner"):
        pass
    assert processor.force_flush(5000)
    traces = sink.of_type(FlextTrace)
    assert sorted(t.operation_name for t in traces) == ["inner", "outer"]
    inner = next(t for t in traces if t.operation_name == "inner")
    outer = next(t for t in traces if t.operation_name == "outer")
    assert (inner.trace_id, inner.parent_span_id) == (outer.trace_id, outer.span_id)
    processor.pipeline.shutdown(5)


def test_ten_times_capacity_into_a_stuck_sink_keeps_memory_flat_and_counts_drops(
    provider: TracerProvider,
) -> None:
    """Queue stays bounded; dropped == emitted - delivered exactly, once the sink recovers."""
    stuck = StuckSink()
    pipeline = build_pipeline(sinks=[stuck], capacity=200, batch_size=50, schedule_delay=0.01)
    processor = EntitySpanProcessor(pipeline)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("t")
    pipeline.start()
    with tracer.start_as_current_span("first"):
        pass
    assert stuck.entered.wait(10)  # the worker is now blocked inside the sink
    tracemalloc.start()
    emitted = 1
    for _ in range(2):  # 2 x 10 x capacity spans while stuck
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            with tracer.start_as_current_span("s"):
                pass
            emitted += 1
        growth = tracemalloc.get_traced_memory()[0] - before
        assert len(pipeline._queue) <= pipeline.capacity
    tracemalloc.stop()
    # The second round of 2000 spans adds no retained memory beyond the bounded queue.
    assert growth < 2_000_000
    stuck.release.set()
    assert pipeline.flush(10)
    delivered = len(stuck.received)
    dropped = sum(count for (signal, _), count in pipeline.dropped.items() if signal == "traces")
    assert pipeline.dropped.keys() == {("traces", "queue_full")}
    assert dropped == emitted - delivered
    assert delivered <= pipeline.capacity + 1
    pipeline.shutdown(5)


def test_a_failing_sink_is_guarded_and_counted_while_others_still_receive() -> None:
    """One broken sink never stops delivery to the others; its batches count as drops."""
    memory = MemorySink()
    pipeline = build_pipeline(sinks=[RaisingSink(), memory], schedule_delay=0.01)
    pipeline.start()
    trace = FlextTrace(operation_name="op")
    assert pipeline.submit("entity", trace)
    assert pipeline.flush(5)
    assert memory.entities == [trace]
    assert pipeline.dropped == {("entities", "sink_error"): 1}
    pipeline.shutdown(5)


def test_a_poisoned_item_never_sinks_its_batch() -> None:
    """A payload that fails conversion is dropped and counted; the rest of the batch arrives."""
    memory = MemorySink()
    pipeline = build_pipeline(sinks=[memory], schedule_delay=0.01)
    good = FlextTrace(operation_name="good")
    pipeline.submit("entity", good)
    pipeline.submit("span", object())  # type: ignore[call-overload] # not a span: conversion fails
    pipeline.submit("entity", good)
    assert pipeline.flush(5)  # not started: flush drains on the caller
    assert memory.entities == [good, good]
    assert pipeline.dropped == {("traces", "conversion_error"): 1}
    pipeline.shutdown(5)


def test_flush_returns_false_when_its_timeout_expires() -> None:
    """force_flush honours its timeout: a stuck sink makes it return False quickly."""
    stuck = StuckSink()
    pipeline = build_pipeline(sinks=[stuck], schedule_delay=0.01)
    pipeline.start()
    pipeline.submit("entity", FlextTrace(operation_name="op"))
    assert stuck.entered.wait(10)
    pipeline.submit("entity", FlextTrace(operation_name="op2"))
    assert pipeline.flush(0.1) is False
    stuck.release.set()
    assert pipeline.flush(10) is True
    pipeline.shutdown(5)


def test_shutdown_keeps_its_deadline_with_a_stuck_sink_and_counts_the_rest() -> None:
    """shutdown(timeout) returns False within the deadline and counts what it could not deliver."""
    stuck = StuckSink()
    pipeline = build_pipeline(sinks=[stuck], schedule_delay=0.01, batch_size=1)
    pipeline.start()
    for _ in range(5):
        pipeline.submit("entity", FlextTrace(operation_name="op"))
    assert stuck.entered.wait(10)
    assert pipeline.shutdown(0.2) is False
    assert pipeline.dropped[("entities", "shutdown")] >= 1
    assert pipeline.submit("entity", FlextTrace(operation_name="late")) is False
    stuck.release.set()


def _child_submits(pipeline: Pipeline, conn: multiprocessing.connection.Connection) -> None:
    memory = MemorySink()
    pipeline.add_sink(memory)
    queued_at_fork = len(pipeline._queue)
    pipeline.submit("entity", FlextTrace(operation_name="from-child"))
    pipeline.flush(5)
    conn.send((queued_at_fork, [e.operation_name for e in memory.of_type(FlextTrace)]))
    conn.close()


def test_a_forked_child_starts_empty_and_delivers_its_own_items() -> None:
    """After fork the child's queue is empty (no double delivery) and its worker runs."""
    memory = MemorySink()
    pipeline = build_pipeline(sinks=[memory], schedule_delay=0.05)
    pipeline.start()
    pipeline.submit("entity", FlextTrace(operation_name="parent"))
    ctx = multiprocessing.get_context("fork")
    parent_conn, child_conn = ctx.Pipe()
    process = ctx.Process(target=_child_submits, args=(pipeline, child_conn))
    process.start()
    queued_at_fork, child_names = parent_conn.recv()
    process.join(10)
    assert (queued_at_fork, child_names, process.exitcode) == (0, ["from-child"], 0)
    assert pipeline.flush(5)
    assert [e.operation_name for e in memory.of_type(FlextTrace)] == ["parent"]
    pipeline.shutdown(5)
