"""Cost of redaction on the export path and on the entity pipeline.

Run: `.venv/bin/python benchmarks/bench_redaction.py`. Prints microseconds per item and the
ratio to the unwrapped baseline; numbers are machine-dependent, the ratios less so.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable, Sequence

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from flext_observability.models import AttributeValue, FlextTrace
from flext_observability.redaction import Redactor
from flext_observability.redaction._exporters import RedactingSpanExporter

CLEAN_ATTRIBUTES: dict[str, AttributeValue] = {
    "http.request.method": "GET",
    "http.route": "/api/v1/orders/{id}",
    "http.response.status_code": 200,
    "url.scheme": "https",
    "url.path": "/api/v1/orders/42",
    "server.address": "shop.example.com",
    "server.port": 443,
    "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64)",
    "network.protocol.version": "1.1",
    "app.cache_hit": True,
}
SECRET_ATTRIBUTES: dict[str, AttributeValue] = {
    **CLEAN_ATTRIBUTES,
    "http.request.header.authorization": "Bearer abc.def-123456",
    "url.full": "https://bob:pw@shop.example.com/api?token=abc&page=2",
}
BATCH = 512


class _Null(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:  # noqa: ARG002 - a sink
        return SpanExportResult.SUCCESS


def _spans(attributes: dict[str, AttributeValue]) -> list[ReadableSpan]:
    provider = TracerProvider()
    tracer = provider.get_tracer("bench")
    out = []
    for _ in range(BATCH):
        span = tracer.start_span("GET /api/v1/orders/{id}", attributes=attributes)
        span.end()
        out.append(span._readable_span())  # type: ignore[attr-defined] # noqa: SLF001 - as processors
    provider.shutdown()
    return out


def _per_item(fn: Callable[[], object], items: int, repeat: int = 7, number: int = 20) -> float:
    best = min(timeit.repeat(fn, repeat=repeat, number=number))
    return best / number / items * 1e6


def main() -> None:
    """Print the per-span and per-entity costs and their ratios."""
    null = _Null()
    wrapper = RedactingSpanExporter(null)
    clean = _spans(CLEAN_ATTRIBUTES)
    secret = _spans(SECRET_ATTRIBUTES)
    base = _per_item(lambda: null.export(clean), BATCH)
    clean_cost = _per_item(lambda: wrapper.export(clean), BATCH)
    secret_cost = _per_item(lambda: wrapper.export(secret), BATCH)
    print(f"bare exporter call           {base:8.2f} us/span")
    print(f"wrapper, 10 clean attributes {clean_cost:8.2f} us/span")
    print(f"wrapper, 12 attrs, 2 secrets {secret_cost:8.2f} us/span")
    encode = _per_item(lambda: encode_spans(clean).SerializeToString(), BATCH, number=5)
    print(f"ratio secret/clean           {secret_cost / clean_cost:8.2f}x")
    print(f"OTLP protobuf encoding       {encode:8.2f} us/span")
    print(f"ratio wrapper/encoding       {clean_cost / encode:8.2f}x")

    redactor = Redactor()
    trace = FlextTrace(operation_name="GET /api/v1/orders/{id}", attributes=CLEAN_ATTRIBUTES)
    dirty = FlextTrace(operation_name="GET /api/v1/orders/{id}", attributes=SECRET_ATTRIBUTES)
    entity_clean = _per_item(lambda: redactor.redact_entity(trace), 1, number=2000)
    entity_dirty = _per_item(lambda: redactor.redact_entity(dirty), 1, number=2000)
    print(f"redact_entity, clean trace   {entity_clean:8.2f} us/entity")
    print(f"redact_entity, 2 secrets     {entity_dirty:8.2f} us/entity")
    print(f"ratio dirty/clean            {entity_dirty / entity_clean:8.2f}x")


if __name__ == "__main__":
    main()
