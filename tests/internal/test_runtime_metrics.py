"""Process/runtime metrics: semantic-convention names, on by default, off by the setting."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from opentelemetry.semconv._incubating.metrics import cpython_metrics, process_metrics

from flext_observability._internal.runtime_metrics import GC_DURATION, LOOP_LAG
from flext_observability.testing import capture, release

SEMCONV = {
    process_metrics.PROCESS_CPU_TIME,
    process_metrics.PROCESS_CPU_UTILIZATION,
    process_metrics.PROCESS_MEMORY_USAGE,
    process_metrics.PROCESS_MEMORY_VIRTUAL,
    process_metrics.PROCESS_UNIX_FILE_DESCRIPTOR_COUNT,
    process_metrics.PROCESS_THREAD_COUNT,
    cpython_metrics.CPYTHON_GC_COLLECTIONS,
    cpython_metrics.CPYTHON_GC_COLLECTED_OBJECTS,
    cpython_metrics.CPYTHON_GC_UNCOLLECTABLE_OBJECTS,
}


def _collect(reader: InMemoryMetricReader) -> dict[str, list[tuple[dict[str, Any], float]]]:
    data = reader.get_metrics_data()
    found: dict[str, list[tuple[dict[str, Any], float]]] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if isinstance(point, NumberDataPoint):
                        found.setdefault(metric.name, []).append(
                            (dict(point.attributes or {}), float(point.value))
                        )
    return found


@pytest.fixture
def reader() -> InMemoryMetricReader:
    """A meter provider with an in-memory reader, set before setup()."""
    memory = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[memory]))
    return memory


def test_runtime_metrics_are_on_by_default_with_semconv_names(
    reader: InMemoryMetricReader,
) -> None:
    """CPU, memory, fds, threads and GC per generation are reported under their semconv names."""
    cap = capture()
    try:
        gc.collect()
        reader.get_metrics_data()  # first utilisation reading needs a previous one
        sum(i * i for i in range(200_000))
        found = _collect(reader)
    finally:
        release(cap)
    assert set(found) >= SEMCONV | {GC_DURATION}
    assert {a["cpu.mode"] for a, _ in found["process.cpu.time"]} == {"user", "system"}
    assert found["process.memory.usage"][0][1] > 1_000_000
    assert found["process.unix.file_descriptor.count"][0][1] >= 3
    assert found["process.thread.count"][0][1] >= 1
    collections = {a["cpython.gc.generation"]: v for a, v in found["cpython.gc.collections"]}
    assert set(collections) == {0, 1, 2}
    assert collections[2] >= 1
    gc_seconds = {a["cpython.gc.generation"]: v for a, v in found[GC_DURATION]}
    assert gc_seconds[2] > 0
    assert all(0 <= v <= 1 for _, v in found["process.cpu.utilization"])


def test_the_setting_turns_them_off(reader: InMemoryMetricReader) -> None:
    """FLEXT_OBSERVABILITY_RUNTIME_METRICS=false: none of the runtime metrics exist."""
    callbacks = len(gc.callbacks)
    cap = capture(runtime_metrics=False)
    try:
        assert len(gc.callbacks) == callbacks
        found = _collect(reader)
    finally:
        release(cap)
    assert not set(found) & (SEMCONV | {GC_DURATION, LOOP_LAG})


def test_event_loop_lag_is_measured_once_a_span_starts_on_the_loop(
    reader: InMemoryMetricReader,
) -> None:
    """A loop blocked for 0.8 s shows a lag of at least 0.3 s (watched from its first span)."""
    cap = capture()
    tracer = trace.get_tracer("test")

    async def main() -> None:
        with tracer.start_as_current_span("request"):
            await asyncio.sleep(0.1)  # the probe is armed: due 0.5 s after the span started
            time.sleep(0.8)  # noqa: ASYNC251 - blocking the loop on purpose
            await asyncio.sleep(0.1)

    try:
        asyncio.run(main())
        assert _collect(reader).get(LOOP_LAG, []) == []  # the loop is closed: nothing reported

        async def watched() -> float:
            await main()
            lags = _collect(reader)[LOOP_LAG]
            return lags[0][1]

        assert asyncio.run(watched()) >= 0.3
    finally:
        release(cap)
    assert len([c for c in gc.callbacks if type(c).__name__ == "_GcTimer"]) == 0
