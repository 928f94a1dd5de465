"""OTLP header entries are judged one by one: a malformed one is skipped, the rest are sent."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace

from _receivers import OtlpHttpCounter
from flext_observability import setup, testing
from flext_observability.settings import FlextObservabilitySettings

BAD = "bad key=v1,good=ok,x-crlf=a%0D%0AInjected: 1,x-nul=a%00b,=novalue,x-fine=2"


def test_malformed_header_entries_are_skipped_alone(caplog: pytest.LogCaptureFixture) -> None:
    """Names must be HTTP tokens and values free of CR/LF/NUL; secrets never echoed."""
    settings = FlextObservabilitySettings.load(environ={"OTEL_EXPORTER_OTLP_HEADERS": BAD})
    assert settings.otlp_for("traces").header_values() == {"good": "ok", "x-fine": "2"}
    problems = [p for p in settings.problems if "OTEL_EXPORTER_OTLP_HEADERS" in p]
    assert len(problems) == 4, problems
    assert not any("v1" in p or "Injected" in p for p in problems)
    del caplog


def test_spans_still_export_with_the_good_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real exporter sends the valid headers to a real receiver; the bad entry breaks nothing."""
    with OtlpHttpCounter() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", BAD)
        obs = setup(store_enabled=False, health_enabled=False)
        try:
            with trace.get_tracer("t").start_as_current_span("s"):
                logging.getLogger("app").warning("w")
            assert obs.force_flush(10.0)
        finally:
            testing.release()
        assert receiver.posts["/v1/traces"] >= 1
        sent = receiver.headers[0]
        assert (sent.get("good"), sent.get("x-fine"), sent.get("Injected")) == ("ok", "2", None)
