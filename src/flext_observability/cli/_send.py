"""`flext-observability doctor --send`: one span, metric point and log record, per signal verdicts.

Each is sent through the OTLP exporter the settings configure for its signal (same endpoint,
protocol, headers, TLS files and compression as the running app would use, timeout capped at
`_TIMEOUT_MS`). The line per signal says whether the endpoint accepted it, with the endpoint
secret-masked; on failure it names the likely cause from what the exporter reported: the gRPC
port spoken to with HTTP or the reverse, a missing `/v1/<signal>` path, TLS, authentication,
nothing listening. Exporter messages are redacted and escaped before they are printed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any, TextIO
from urllib.parse import urlsplit

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flext_observability._internal.providers import build_otlp_exporter, build_resource
from flext_observability.cli._format import line
from flext_observability.redaction import Redactor
from flext_observability.settings import FlextObservabilitySettings, Signal
from flext_observability.settings._parse import mask_url

__all__ = ["cmd_send"]

_TIMEOUT_MS = 4000
_SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")
_MAX_DETAIL = 240


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a message we cannot render is just skipped
            self.messages.append(record.getMessage())


def _span_batch(resource: Resource) -> Sequence[Any]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("flext_observability.doctor").start_span("flext-observability doctor").end()
    return memory.get_finished_spans()


def _metric_batch(resource: Resource) -> Any:
    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=resource, metric_readers=[reader], shutdown_on_exit=False)
    provider.get_meter("flext_observability.doctor").create_counter("flext.doctor.sent").add(1)
    return reader.get_metrics_data()


def _log_batch(resource: Resource) -> Sequence[Any]:
    memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # untyped in the SDK
    provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("flext_observability.doctor")
    logger.emit(body="flext-observability doctor --send")
    return memory.get_finished_logs()


_BATCHES: dict[Signal, Callable[[Resource], Any]] = {
    "traces": _span_batch,
    "metrics": _metric_batch,
    "logs": _log_batch,
}


_TLS = (
    "TLS: an https:// endpoint on a plain-HTTP port (use http://), or a certificate the client "
    "does not trust (OTEL_EXPORTER_OTLP_CERTIFICATE)"
)
_GRPC_PORT = (
    "this looks like the OTLP/gRPC port (usually 4317) spoken to over HTTP: use the OTLP/HTTP "
    "port (usually 4318) or OTEL_EXPORTER_OTLP_PROTOCOL=grpc"
)
_HTTP_PORT = (
    "this looks like the OTLP/HTTP port (usually 4318) spoken to over gRPC: use the OTLP/gRPC "
    "port (usually 4317) or OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"
)
_MISSING_PATH = (
    "missing path: a per-signal endpoint is used as is, so it must end with /v1/{signal} (or "
    "set OTEL_EXPORTER_OTLP_ENDPOINT, which gets it appended)"
)


def _likely_cause(signal: Signal, protocol: str, endpoint: str, messages: list[str]) -> str:
    text = " ".join(messages)
    lowered = text.lower()
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    where = f"{parts.hostname}:{parts.port or ''}".rstrip(":")
    grpc = protocol == "grpc"
    causes = (
        (
            "ssl" in lowered or "certificate" in lowered or "tls" in lowered,
            _TLS,
        ),
        (
            "refused" in lowered,
            f"nothing listens on {where}",
        ),
        (
            not grpc and ("connection reset" in lowered or "aborted" in lowered),
            _GRPC_PORT,
        ),
        (
            grpc and ("unimplemented" in lowered or "http2 header" in lowered),
            _HTTP_PORT,
        ),
        (
            not grpc and "404" in text and not parts.path.rstrip("/").endswith(f"/v1/{signal}"),
            _MISSING_PATH.format(signal=signal),
        ),
        (
            "401" in text or "403" in text or "unauthenticated" in lowered,
            "authentication: check OTEL_EXPORTER_OTLP_HEADERS",
        ),
        (
            "timeout" in lowered or "deadline" in lowered,
            f"{where} accepts connections but does not answer in time",
        ),
    )
    return next((cause for matched, cause in causes if matched), "see the exporter's message")


def _exporter_loggers_with_filters() -> list[logging.Logger]:
    return [
        logger
        for name, logger in list(logging.Logger.manager.loggerDict.items())
        if name.startswith("opentelemetry.exporter")
        and isinstance(logger, logging.Logger)
        and logger.filters
    ]


def _send_one(settings: FlextObservabilitySettings, signal: Signal, out: TextIO) -> bool:
    config = settings.otlp_for(signal)
    shown = mask_url(config.endpoint or "(the exporter's default endpoint)")
    collect = _Collect()
    exporter_logger = logging.getLogger("opentelemetry.exporter")
    exporter_logger.addHandler(collect)
    propagate, exporter_logger.propagate = exporter_logger.propagate, False
    level = exporter_logger.level
    exporter_logger.setLevel(logging.DEBUG)
    # The exporters' loggers drop a message equal to the previous one; each signal needs its own.
    filtered = _exporter_loggers_with_filters()
    saved = {logger: list(logger.filters) for logger in filtered}
    for logger in filtered:
        logger.filters.clear()
    try:
        exporter = build_otlp_exporter(settings, signal)
        try:
            result = exporter.export(_BATCHES[signal](build_resource(settings)))
        finally:
            exporter.shutdown()
    except Exception as exc:  # noqa: BLE001 - any failure is a verdict to print
        collect.messages.append(f"{type(exc).__name__}: {exc}")
        result = None
    finally:
        exporter_logger.removeHandler(collect)
        exporter_logger.propagate = propagate
        exporter_logger.setLevel(level)
        for logger, filters in saved.items():
            logger.filters[:] = filters
    if getattr(result, "name", "") == "SUCCESS":
        out.write(line(f"send {signal}: accepted by {shown} ({config.protocol})"))
        return True
    redact = Redactor().redact_text
    detail = redact(collect.messages[-1])[:_MAX_DETAIL] if collect.messages else "no detail"
    cause = _likely_cause(signal, config.protocol, config.endpoint or "", collect.messages)
    out.write(
        line(
            f"send {signal}: NOT accepted by {shown} ({config.protocol}): {detail}; "
            f"likely cause: {cause}"
        )
    )
    return False


def cmd_send(settings: FlextObservabilitySettings, out: TextIO) -> int:
    """Send one item per signal through the configured OTLP exporters; 1 if any was refused."""
    capped: dict[str, int] = {
        f"otlp_{signal}_timeout_ms": min(
            _TIMEOUT_MS, int(settings.otlp_for(signal).timeout_s * 1000) or _TIMEOUT_MS
        )
        for signal in _SIGNALS
    }
    settings = settings.with_overrides(**capped)
    ok = True
    for signal in _SIGNALS:
        if "otlp" not in settings.exporters_for(signal):
            out.write(line(f"send {signal}: no OTLP exporter configured (nothing to send)"))
            continue
        ok = _send_one(settings, signal, out) and ok
    return 0 if ok else 1
