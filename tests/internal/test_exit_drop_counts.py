"""At shutdown with a backlog, the drop count is exact and said in one line (issue 9, #4)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from flext_observability._internal.pipeline import build_pipeline
from flext_observability.models import Entity, FlextMetric, MetricType


class SlowSink:
    """A sink whose every write takes a while (an overloaded disk), counting what it got."""

    def __init__(self) -> None:
        self.received = 0
        self._lock = threading.Lock()

    def write(self, entities: Sequence[Entity]) -> None:
        time.sleep(0.02)
        with self._lock:
            self.received += len(entities)

    def flush(self, timeout: float | None = None) -> bool:
        del timeout
        return True

    def close(self, timeout: float | None = None) -> None:
        del timeout


def test_backlog_at_shutdown_is_counted_exactly_in_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Delivered + dropped == submitted, and one warning line gives the total."""
    sink = SlowSink()
    pipeline = build_pipeline(sinks=[sink], batch_size=10)
    pipeline.start()
    now = datetime.now(UTC)
    submitted = 2000
    for n in range(submitted):
        assert pipeline.submit(
            "entity", FlextMetric(name="m", value=n, metric_type=MetricType.GAUGE, timestamp=now)
        )
    caplog.set_level(logging.WARNING, logger="flext_observability")
    assert pipeline.shutdown(0.2) is False
    time.sleep(0.3)  # a write in flight at the deadline finishes; nothing else may arrive
    received = sink.received
    time.sleep(0.2)
    dropped = sum(pipeline.dropped.values())
    assert sink.received == received
    assert received + dropped == submitted
    lines = [r.getMessage() for r in caplog.records if "at shutdown" in r.getMessage()]
    said = (
        f"flext-observability: at shutdown {dropped} queued items could not be delivered "
        f"within the deadline and were dropped (totals: {dict(pipeline.dropped)})"
    )
    assert lines == [said]
