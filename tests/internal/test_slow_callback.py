"""A slow observable callback never starves the store's metric collection (issue 9, #3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import pytest
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from flext_observability import setup, testing
from flext_observability.models import FlextMetric
from flext_observability.sinks import MemorySink

pytestmark = pytest.mark.slow


def test_a_slow_callback_is_time_boxed_and_the_rest_is_collected() -> None:
    """A callback that hangs 20 s: the counter still reaches the sink within a 3 s flush."""
    release = threading.Event()

    def hanging(_options: CallbackOptions) -> Iterable[Observation]:
        release.wait(20)
        return [Observation(1.0)]

    sink = MemorySink()
    obs = setup(sinks=[sink], store_enabled=False, health_enabled=False)
    try:
        meter = metrics.get_meter("slow")
        meter.create_observable_gauge("slow.gauge", callbacks=[hanging])
        meter.create_counter("fast.count").add(2)
        started = time.monotonic()
        obs.force_flush(3.0)
        elapsed = time.monotonic() - started
        names = {m.name for m in sink.of_type(FlextMetric)}
    finally:
        release.set()
        testing.release()
    assert "fast.count" in names
    assert elapsed < 10.0, elapsed
