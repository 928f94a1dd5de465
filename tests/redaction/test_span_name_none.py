"""A span named None is exported as the stock SDK exports it (empty name), not dropped."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from _receivers import OtlpHttpCounter
from flext_observability import setup, testing


def test_a_span_named_none_reaches_the_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redaction passes a None name through; the real exporter sends it as an empty name."""
    with OtlpHttpCounter() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
        obs = setup(store_enabled=False, health_enabled=False)
        try:
            tracer = trace.get_tracer("t")
            tracer.start_span(None).end()  # type: ignore[arg-type] # what callers really pass
            tracer.start_span("named").end()
            assert obs.force_flush(10.0)
        finally:
            testing.release()
        assert sorted(receiver.span_names()) == ["", "named"]
