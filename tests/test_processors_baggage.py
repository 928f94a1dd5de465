"""`EntitySpanProcessor` copies the parent context's baggage into the trace entity's `context`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import baggage, context
from opentelemetry.sdk.trace import TracerProvider

from flext_observability.models import FlextTrace
from flext_observability.processors import EntitySpanProcessor
from flext_observability.sinks import MemorySink


@pytest.fixture
def traced() -> Iterator[tuple[TracerProvider, MemorySink]]:
    """A real provider whose only processor is an `EntitySpanProcessor` into a MemorySink."""
    sink = MemorySink()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(EntitySpanProcessor(sinks=[sink]))
    yield provider, sink
    provider.shutdown()


def _contexts(provider: TracerProvider, sink: MemorySink) -> dict[str, dict[str, str]]:
    assert provider.force_flush()
    return {trace.operation_name: dict(trace.context) for trace in sink.of_type(FlextTrace)}


def test_baggage_of_the_current_and_of_an_explicit_parent_context(
    traced: tuple[TracerProvider, MemorySink],
) -> None:
    """Current-context baggage, explicit-parent baggage and no baggage all map as given."""
    provider, sink = traced
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("plain"):
        pass
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        with tracer.start_as_current_span("current"):
            pass
    finally:
        context.detach(token)
    explicit = baggage.set_baggage("region", "eu", baggage.set_baggage("tier", 2))
    tracer.start_span("explicit", context=explicit).end()
    assert _contexts(provider, sink) == {
        "plain": {},
        "current": {"tenant": "acme"},
        "explicit": {"region": "eu", "tier": "2"},
    }


def test_capture_can_be_turned_off() -> None:
    """With `capture_baggage=False` the entity context stays empty."""
    sink = MemorySink()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(EntitySpanProcessor(sinks=[sink], capture_baggage=False))
    try:
        token = context.attach(baggage.set_baggage("tenant", "acme"))
        try:
            provider.get_tracer("test").start_span("span").end()
        finally:
            context.detach(token)
        assert _contexts(provider, sink) == {"span": {}}
    finally:
        provider.shutdown()
