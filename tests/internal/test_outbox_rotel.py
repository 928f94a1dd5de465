"""The OTLP outbox with a real collector stopped and restarted mid-run (issue 9, #5)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace

from _receivers import Rotel
from flext_observability import setup, testing
from flext_observability._internal.outbox import OutboxExporter

pytestmark = pytest.mark.slow


@pytest.fixture
def rotel(tmp_path: Path) -> Iterator[Rotel]:
    """A real OTLP receiver (rotel), stopped at the end."""
    collector = Rotel(tmp_path)
    yield collector
    collector.stop()


def _outboxes() -> list[OutboxExporter]:
    """The outbox exporters behind the global tracer provider's processors (found by walking)."""
    found: list[OutboxExporter] = []
    seen: set[int] = set()
    todo: list[tuple[object, int]] = [(trace.get_tracer_provider(), 0)]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 8:
            continue
        seen.add(id(obj))
        if isinstance(obj, OutboxExporter):
            found.append(obj)
            continue
        children = (
            list(obj)
            if isinstance(obj, list | tuple)
            else list(getattr(obj, "__dict__", {}).values())
        )
        todo.extend(
            (child, depth + 1)
            for child in children
            if not isinstance(child, str | int | float | bytes)
        )
    return found


def _span(name: str) -> None:
    with trace.get_tracer("outbox").start_as_current_span(name):
        pass


def test_batches_spill_while_the_collector_is_down_and_replay_in_order(
    rotel: Rotel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Down: batches go to disk next to the store. Back: they arrive first, in order, once."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "500")
    obs = setup(
        store_path=tmp_path / "store" / "t.db",
        health_enabled=False,
        logs_enabled=False,
        metrics_enabled=False,
    )
    try:
        _span("before-outage")
        assert obs.force_flush(10.0)
        rotel.wait_for("before-outage")
        rotel.pause()
        for n in range(3):
            _span(f"during-outage-{n}")
            obs.force_flush(10.0)
        outbox_dir = tmp_path / "store" / "outbox" / "traces"
        assert len(list(outbox_dir.glob("*.otlp"))) == 3
        rotel.resume()
        _span("after-outage")
        assert obs.force_flush(10.0)
        text = rotel.wait_for("during-outage-2", "after-outage")
        (outbox,) = _outboxes()
        assert (outbox.spilled, outbox.replayed, outbox.dropped) == (3, 3, 0)
    finally:
        testing.release()
    order = [text.index(f"during-outage-{n}") for n in range(3)] + [text.index("after-outage")]
    assert order == sorted(order)
    assert all(text.count(f"during-outage-{n}") == text.count("after-outage") for n in range(3))
    assert list(outbox_dir.glob("*.otlp")) == []


def test_the_size_bound_drops_the_oldest_and_counts(
    rotel: Rotel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny outbox keeps the newest batches; the dropped ones are counted, never silent."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.http_endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "300")
    obs = setup(
        store_path=tmp_path / "store" / "t.db",
        health_enabled=False,
        logs_enabled=False,
        metrics_enabled=False,
        outbox_max_mb=0.0005,  # ~500 bytes: about one batch
    )
    try:
        rotel.pause()
        for n in range(4):
            _span(f"bounded-{n}")
            obs.force_flush(10.0)
        (outbox,) = _outboxes()
        kept = len(list((tmp_path / "store" / "outbox" / "traces").glob("*.otlp")))
        assert kept >= 1
        assert outbox.spilled == 4
        assert outbox.dropped == 4 - kept
        rotel.resume()
        time.sleep(0.2)
        _span("bounded-after")
        assert obs.force_flush(10.0)
        text = rotel.wait_for("bounded-3", "bounded-after")
    finally:
        testing.release()
    assert "bounded-0" not in text
