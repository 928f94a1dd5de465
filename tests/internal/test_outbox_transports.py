"""Which exporters the outbox drives, and through which transport."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetrics,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk.trace.export import ConsoleSpanExporter

from flext_observability._internal.outbox import OutboxExporter, transport_for, wrap_all

_ENDPOINT = "http://127.0.0.1:9"  # nothing is sent in these tests


@pytest.mark.parametrize(
    ("cls", "signal", "transport"),
    [
        (GrpcSpans, "traces", "_GrpcTransport"),
        (GrpcMetrics, "metrics", "_GrpcTransport"),
        (GrpcLogs, "logs", "_GrpcTransport"),
        (HttpSpans, "traces", "_HttpTransport"),
        (HttpMetrics, "metrics", "_HttpTransport"),
        (HttpLogs, "logs", "_HttpTransport"),
    ],
)
def test_every_otlp_exporter_gets_its_transport(cls: type, signal: str, transport: str) -> None:
    """Each OTLP exporter, gRPC or HTTP, of each signal is driven through its own transport."""
    exporter = cls(endpoint=_ENDPOINT)
    try:
        chosen = transport_for(exporter, signal)
        assert type(chosen).__name__ == transport
        if transport == "_GrpcTransport":
            service = {"traces": "TraceService", "metrics": "MetricsService", "logs": "LogsService"}
            assert chosen._method.endswith(f".{service[signal]}/Export")  # type: ignore[union-attr]
    finally:
        exporter.shutdown()


def test_other_exporters_are_left_as_they_are(tmp_path: Path) -> None:
    """A console exporter is not wrapped; an OTLP one beside it is."""
    console = ConsoleSpanExporter()
    grpc_exporter = GrpcSpans(endpoint=_ENDPOINT)
    try:
        wrapped = wrap_all(
            [console, grpc_exporter],
            signal="traces",
            directory=tmp_path,
            max_bytes=1 << 20,
            max_age_s=60.0,
        )
        assert wrapped[0] is console
        assert isinstance(wrapped[1], OutboxExporter)
        assert transport_for(console, "traces") is None
        with pytest.raises(TypeError, match="ConsoleSpanExporter"):
            OutboxExporter(console, signal="traces", directory=tmp_path, max_bytes=1, max_age_s=1)
    finally:
        grpc_exporter.shutdown()
