"""Builds the OpenTelemetry pieces `setup()` needs: resource, sampler, limits, exporters.

The standard exporters are named by `OTEL_{TRACES,METRICS,LOGS}_EXPORTER`.

Exporter names: `otlp` (gRPC or HTTP/protobuf per the OTLP protocol settings), `console`, `none`,
and any exporter registered in OpenTelemetry's entry-point groups
(`opentelemetry_traces_exporter`, `opentelemetry_metrics_exporter`, `opentelemetry_logs_exporter`),
e.g. `prometheus` when `opentelemetry-exporter-prometheus` is installed. When no exporter is named,
OTLP is used if an OTLP endpoint is configured, and nothing otherwise (the embedded store still
holds everything).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Literal, TypedDict

from opentelemetry.sdk._logs import LogRecordLimits
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter, LogRecordExporter
from opentelemetry.sdk.metrics import (
    AlwaysOffExemplarFilter,
    AlwaysOnExemplarFilter,
    ExemplarFilter,
    TraceBasedExemplarFilter,
)
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from flext_observability._internal.guard import is_strict, logger
from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.settings._otel_env import OtelEnvironment, validate_otel_environment

__all__ = [
    "Signal",
    "batch_arguments",
    "build_exemplar_filter",
    "build_log_exporters",
    "build_log_record_limits",
    "build_metric_exporters",
    "build_metric_readers",
    "build_otlp_exporter",
    "build_resource",
    "build_sampler",
    "build_span_exporters",
    "build_span_limits",
    "exporter_names",
    "remember_validated_env",
    "validated_env",
]

Signal = Literal["traces", "metrics", "logs"]


def build_resource(settings: FlextObservabilitySettings) -> Resource:
    """Return the resource: OTel's detected attributes overlaid with ours."""
    return Resource.create(dict(settings.resource_attributes_full()))


def _ratio(arg: str | None, default: float) -> float:
    if arg is None:
        return default
    try:
        value = float(arg)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        logger.warning(
            "flext-observability: OTEL_TRACES_SAMPLER_ARG=%r is invalid: "
            "expected a number from 0 to 1; using %s",
            arg,
            default,
        )
        return default
    return value


def build_sampler(settings: FlextObservabilitySettings) -> Sampler:
    """Honour `OTEL_TRACES_SAMPLER`/`_ARG`; else parent-based ratio from settings."""
    name = settings.traces_sampler

    def ratio() -> float:  # judged only when a ratio sampler uses it
        return _ratio(settings.traces_sampler_arg, 1.0)

    builtin: dict[str, Callable[[], Sampler]] = {
        "always_on": lambda: ALWAYS_ON,
        "always_off": lambda: ALWAYS_OFF,
        "traceidratio": lambda: TraceIdRatioBased(ratio()),
        "parentbased_always_on": lambda: ParentBased(ALWAYS_ON),
        "parentbased_always_off": lambda: ParentBased(ALWAYS_OFF),
        "parentbased_traceidratio": lambda: ParentBased(TraceIdRatioBased(ratio())),
    }
    if name is None:
        return ParentBased(TraceIdRatioBased(settings.sampling_ratio))
    if name in builtin:
        return builtin[name]()
    for entry in entry_points(group="opentelemetry_traces_sampler", name=name):
        factory = entry.load()
        return factory(settings.traces_sampler_arg)  # type: ignore[no-any-return]
    logger.warning(
        "flext-observability: OTEL_TRACES_SAMPLER=%r is not a known sampler; "
        "using parentbased_traceidratio(%s)",
        name,
        settings.sampling_ratio,
    )
    return ParentBased(TraceIdRatioBased(settings.sampling_ratio))


_validated: tuple[tuple[tuple[str, str], ...], OtelEnvironment] | None = None


def validated_env() -> OtelEnvironment:
    """The `OTEL_*` values that passed validation (setup already removed the invalid ones).

    Judged once per distinct `OTEL_*` environment: building the providers asks several times,
    and judging the entry-point variables reads every installed package's metadata.
    """
    cached = _validated
    if cached is not None and cached[0] == _otel_key():
        return cached[1]
    result = validate_otel_environment(dict(os.environ), scrub=False)
    remember_validated_env(result)
    return result


def remember_validated_env(result: OtelEnvironment) -> None:
    """Keep `result` (setup's own judgement, invalid variables already removed) for this env."""
    global _validated  # noqa: PLW0603 - a one-entry cache
    _validated = (_otel_key(), result)


def _otel_key() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("OTEL_")))


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None


def build_span_limits(settings: FlextObservabilitySettings) -> SpanLimits:
    """Return span limits from validated values (each one given explicitly, never re-read)."""
    env = validated_env()
    return SpanLimits(
        max_attributes=settings.attribute_count_limit,
        max_span_attributes=settings.span_attribute_count_limit,
        max_events=settings.span_event_count_limit,
        max_links=settings.span_link_count_limit,
        max_attribute_length=settings.attribute_value_length_limit,
        max_event_attributes=_int_or_none(env.get("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT")),
        max_link_attributes=_int_or_none(env.get("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT")),
        max_span_attribute_length=_int_or_none(env.get("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT")),
    )


def build_log_record_limits(settings: FlextObservabilitySettings) -> LogRecordLimits:
    """Return log record limits from validated values."""
    env = validated_env()
    return LogRecordLimits(
        max_attributes=settings.attribute_count_limit,
        max_attribute_length=settings.attribute_value_length_limit,
        max_log_record_attributes=_int_or_none(env.get("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT")),
        max_log_record_attribute_length=_int_or_none(
            env.get("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT")
        ),
    )


class BatchArguments(TypedDict):
    """The keyword arguments both SDK batch processors take."""

    max_queue_size: int | None
    schedule_delay_millis: int | None
    max_export_batch_size: int | None
    export_timeout_millis: int | None


def batch_arguments(prefix: Literal["BSP", "BLRP"]) -> BatchArguments:
    """Queue size, delay, batch size and timeout of a batch processor, from validated values."""
    env = validated_env()
    return BatchArguments(
        max_queue_size=_int_or_none(env.get(f"OTEL_{prefix}_MAX_QUEUE_SIZE")),
        schedule_delay_millis=_int_or_none(env.get(f"OTEL_{prefix}_SCHEDULE_DELAY")),
        max_export_batch_size=_int_or_none(env.get(f"OTEL_{prefix}_MAX_EXPORT_BATCH_SIZE")),
        export_timeout_millis=_int_or_none(env.get(f"OTEL_{prefix}_EXPORT_TIMEOUT")),
    )


def build_exemplar_filter() -> ExemplarFilter | None:
    """The exemplar filter named by a valid `OTEL_METRICS_EXEMPLAR_FILTER` (None: SDK default)."""
    name = validated_env().get("OTEL_METRICS_EXEMPLAR_FILTER")
    filters: dict[object, Callable[[], ExemplarFilter]] = {
        "always_on": AlwaysOnExemplarFilter,
        "always_off": AlwaysOffExemplarFilter,
        "trace_based": TraceBasedExemplarFilter,
    }
    factory = filters.get(name)
    return factory() if factory is not None else None


def exporter_names(settings: FlextObservabilitySettings, signal: Signal) -> tuple[str, ...]:
    """The exporters for `signal`: as configured, else `otlp` when an endpoint is set."""
    return tuple(name for name in settings.exporters_for(signal) if name != "none")


def _otlp_kwargs(
    settings: FlextObservabilitySettings, signal: Signal
) -> tuple[str, dict[str, Any]]:
    config = settings.otlp_for(signal)
    protocol = config.protocol
    kwargs: dict[str, Any] = {"timeout": config.timeout_s}
    if config.headers:
        kwargs["headers"] = config.header_values()
    endpoint = config.endpoint
    if protocol == "grpc":
        if endpoint:
            kwargs["endpoint"] = endpoint
        if config.insecure is not None:
            kwargs["insecure"] = config.insecure
        elif endpoint and endpoint.startswith("http://"):
            kwargs["insecure"] = True
        from grpc import (  # type: ignore[import-untyped] # noqa: PLC0415 - optional transport
            Compression as GrpcCompression,
        )

        gzip = config.compression == "gzip"
        kwargs["compression"] = GrpcCompression.Gzip if gzip else GrpcCompression.NoCompression
        # Each signal's channel owns its connections: gRPC otherwise shares them between channels
        # to the same collector, so the fresh channel the exporter (and the outbox) opens after
        # UNAVAILABLE would inherit the shared connection's reconnect backoff (up to 2 minutes)
        # and keep failing after the collector is back.
        kwargs["channel_options"] = (("grpc.use_local_subchannel_pool", 1),)
        return "grpc", kwargs
    if endpoint:
        kwargs["endpoint"] = endpoint  # settings already appended /v1/<signal> where due
    env = validated_env()
    upper = signal.upper()
    for param, suffix in (
        ("certificate_file", "CERTIFICATE"),
        ("client_certificate_file", "CLIENT_CERTIFICATE"),
        ("client_key_file", "CLIENT_KEY"),
    ):
        path = env.get(f"OTEL_EXPORTER_OTLP_{upper}_{suffix}") or env.get(
            f"OTEL_EXPORTER_OTLP_{suffix}"
        )
        if path is not None:
            kwargs[param] = str(path)
    from opentelemetry.exporter.otlp.proto.http import Compression  # noqa: PLC0415 - optional

    gzip = config.compression == "gzip"
    kwargs["compression"] = Compression.Gzip if gzip else Compression.NoCompression
    if protocol == "http/json":
        logger.warning(
            "OTLP protocol http/json is not supported by the Python exporters; using http/protobuf"
        )
    return "http", kwargs


def _entry_point(group: str, name: str) -> Any:
    """Load a registered exporter; an unknown name is skipped with a warning (strict: raised)."""
    for entry in entry_points(group=group, name=name):
        return entry.load()
    variable = "OTEL_" + group.removeprefix("opentelemetry_").upper()  # OTEL_TRACES_EXPORTER
    msg = (
        f"{variable} names exporter {name!r}, which is not installed: no entry point {name!r} "
        f"in group {group!r} "
        "(install the exporter package, or use otlp, console or none)"
    )
    if is_strict():
        raise ConfigurationError(msg)
    logger.warning("flext-observability: %s; skipping it", msg)
    return None


# The OTLP exporter classes per signal and transport, imported only when used.
_OTLP_CLASSES: dict[tuple[Signal, str], tuple[str, str]] = {
    ("traces", "grpc"): (
        "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
        "OTLPSpanExporter",
    ),
    ("traces", "http"): (
        "opentelemetry.exporter.otlp.proto.http.trace_exporter",
        "OTLPSpanExporter",
    ),
    ("metrics", "grpc"): (
        "opentelemetry.exporter.otlp.proto.grpc.metric_exporter",
        "OTLPMetricExporter",
    ),
    ("metrics", "http"): (
        "opentelemetry.exporter.otlp.proto.http.metric_exporter",
        "OTLPMetricExporter",
    ),
    ("logs", "grpc"): ("opentelemetry.exporter.otlp.proto.grpc._log_exporter", "OTLPLogExporter"),
    ("logs", "http"): ("opentelemetry.exporter.otlp.proto.http._log_exporter", "OTLPLogExporter"),
}
_CONSOLE: dict[Signal, Callable[[], Any]] = {
    "traces": ConsoleSpanExporter,
    "metrics": ConsoleMetricExporter,
    "logs": ConsoleLogRecordExporter,
}


def _build_exporter(settings: FlextObservabilitySettings, signal: Signal, name: str) -> Any:
    if name == "otlp":
        transport, kwargs = _otlp_kwargs(settings, signal)
        module, cls = _OTLP_CLASSES[signal, transport]
        return getattr(importlib.import_module(module), cls)(**kwargs)
    if name == "console":
        return _CONSOLE[signal]()
    factory = _entry_point(f"opentelemetry_{signal}_exporter", name)
    return factory() if factory is not None else None


def build_otlp_exporter(settings: FlextObservabilitySettings, signal: Signal) -> Any:
    """The OTLP exporter `signal` would use (for `doctor --send`)."""
    return _build_exporter(settings, signal, "otlp")


def _build_exporters(settings: FlextObservabilitySettings, signal: Signal) -> list[Any]:
    """Instantiate the exporters named for `signal`: otlp, console, or registered ones.

    An exporter that fails to start (say, Prometheus on a busy port) is skipped with a warning
    naming it, so the other exporters and our own components keep working; strict mode raises.
    """
    exporters: list[Any] = []
    for name in exporter_names(settings, signal):
        try:
            exporter = _build_exporter(settings, signal, name)
        except ConfigurationError:
            raise
        except Exception as exc:
            msg = f"the {name!r} {signal} exporter could not start: {type(exc).__name__}: {exc}"
            if is_strict():
                raise ConfigurationError(msg) from exc
            logger.warning("flext-observability: %s; continuing without it", msg)
            continue
        if exporter is not None:
            exporters.append(exporter)
    return exporters


def build_span_exporters(settings: FlextObservabilitySettings) -> list[SpanExporter]:
    """Instantiate the span exporters named for traces."""
    return _build_exporters(settings, "traces")


def build_log_exporters(settings: FlextObservabilitySettings) -> list[LogRecordExporter]:
    """Instantiate the log exporters named for logs."""
    return _build_exporters(settings, "logs")


def build_metric_exporters(settings: FlextObservabilitySettings) -> list[Any]:
    """Instantiate the metric exporters: push exporters, and pull readers (Prometheus) as is."""
    return _build_exporters(settings, "metrics")


def build_metric_readers(
    settings: FlextObservabilitySettings,
    wrap: Callable[[MetricExporter], MetricExporter] = lambda exporter: exporter,
    exporters: list[Any] | None = None,
) -> list[MetricReader]:
    """Instantiate metric readers: push exporters behind a periodic reader, pull readers as is.

    `exporters` (from `build_metric_exporters`) defaults to every configured one.
    """
    interval = settings.metric_export_interval_ms
    timeout = settings.metric_export_timeout_ms
    readers: list[MetricReader] = []
    chosen = build_metric_exporters(settings) if exporters is None else exporters
    for exporter in chosen:
        if isinstance(exporter, MetricReader):
            readers.append(exporter)  # a pull exporter such as Prometheus is a reader itself
        else:
            readers.append(
                PeriodicExportingMetricReader(
                    wrap(exporter), export_interval_millis=interval, export_timeout_millis=timeout
                )
            )
    return readers
