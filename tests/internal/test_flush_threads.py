"""A black-holed collector: timed-out flushes never pile threads up, store metrics still flow."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from opentelemetry import metrics, trace

from flext_observability import setup, testing
from flext_observability.models import FlextMetric
from flext_observability.sinks import MemorySink

pytestmark = pytest.mark.slow


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP endpoint on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


def test_repeated_timed_out_flushes_keep_the_thread_count_flat(
    black_hole: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 flushes of 20 ms against a black-holed collector add at most one thread per provider."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", black_hole)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3000")
    obs = setup(store_enabled=False, health_enabled=False, shutdown_timeout_ms=500)
    try:
        with trace.get_tracer("t").start_as_current_span("s"):
            pass
        assert obs.force_flush(0.02) is False
        before = threading.active_count()
        results = {obs.force_flush(0.02) for _ in range(60)}
        grown = threading.active_count() - before
    finally:
        testing.release()
    assert results == {False}
    assert grown <= 3, grown


def test_store_metrics_never_wait_behind_a_blocked_otlp_export(
    black_hole: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the collector black-holed, a flush still delivers the metric points to our sinks."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", black_hole)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "4000")
    sink = MemorySink()
    obs = setup(sinks=[sink], store_enabled=False, health_enabled=False, shutdown_timeout_ms=500)
    try:
        metrics.get_meter("t").create_counter("orders").add(3)
        obs.force_flush(1.5)
        names = {m.name for m in sink.of_type(FlextMetric)}
    finally:
        testing.release()
    assert "orders" in names
