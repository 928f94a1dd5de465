"""The OpenTelemetry side of `setup()`: providers, exporters, the logging bridge, our metrics.

Our components attach to the three providers (built here with their standard exporters).

When a provider was already set by someone else, our components attach to it instead.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider, set_logger_provider
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from flext_observability._internal import providers as _providers
from flext_observability._internal.emit import EmitIdGenerator
from flext_observability._internal.export_health import (
    ExportTracker,
    TrackedLogExporter,
    TrackedMetricExporter,
    TrackedSpanExporter,
)
from flext_observability._internal.guard import logger
from flext_observability._internal.pipeline import Pipeline
from flext_observability.health import (
    HealthRegistry,
)
from flext_observability.logs import (
    BridgeDrainProcessor,
    EntityLoggingHandler,
)
from flext_observability.processors import EntitySpanProcessor
from flext_observability.readers import EntityMetricReader
from flext_observability.redaction import Redactor
from flext_observability.redaction._exporters import (
    RedactingLogRecordExporter,
    RedactingMetricExporter,
    RedactingSpanExporter,
)
from flext_observability.settings import FlextObservabilitySettings

__all__ = [
    "add_log_exporters",
    "build_logger_provider",
    "build_meter_provider",
    "build_tracer_provider",
    "install_logging_handler",
    "register_own_metrics",
]

_BUILT: weakref.WeakSet[object] = weakref.WeakSet()
"""Providers an earlier setup() built (OpenTelemetry lets a process set each global once)."""


def note_attach(kind: str, existing: object) -> None:
    if existing in _BUILT:
        logger.warning(
            "flext-observability: setup() after shutdown() reuses the %s of the first setup "
            "(OpenTelemetry sets global providers once per process); its exporters stay shut "
            "down, entities still flow",
            kind,
        )
    else:
        logger.info("flext-observability: attaching to the %s that is already set", kind)


def build_tracer_provider(
    settings: FlextObservabilitySettings,
    pipeline: Pipeline,
    tracker: ExportTracker,
    redactor: Redactor,
) -> tuple[TracerProvider, bool]:
    existing = trace.get_tracer_provider()
    if isinstance(existing, TracerProvider):
        note_attach("TracerProvider", existing)
        existing.add_span_processor(EntitySpanProcessor(pipeline))
        return existing, False
    provider = TracerProvider(
        resource=_providers.build_resource(settings),
        sampler=_providers.build_sampler(settings),
        span_limits=_providers.build_span_limits(settings),
        id_generator=EmitIdGenerator(),
        shutdown_on_exit=False,
    )
    for exporter in _providers.build_span_exporters(settings):
        wrapped = TrackedSpanExporter(RedactingSpanExporter(exporter, redactor=redactor), tracker)
        provider.add_span_processor(
            BatchSpanProcessor(wrapped, **_providers.batch_arguments("BSP"))
        )
    provider.add_span_processor(EntitySpanProcessor(pipeline))
    trace.set_tracer_provider(provider)
    _BUILT.add(provider)
    return provider, True


def build_meter_provider(
    settings: FlextObservabilitySettings,
    pipeline: Pipeline,
    tracker: ExportTracker,
    redactor: Redactor,
) -> tuple[MeterProvider, bool]:
    entity_reader = EntityMetricReader(
        pipeline, interval_s=settings.metric_export_interval_ms / 1000
    )
    existing = metrics.get_meter_provider()
    if isinstance(existing, MeterProvider):
        note_attach("MeterProvider", existing)
        existing.add_metric_reader(entity_reader)
        return existing, False

    def wrap(exporter: Any) -> Any:
        return TrackedMetricExporter(RedactingMetricExporter(exporter, redactor=redactor), tracker)

    # Ours first: the provider flushes and shuts readers down in order, so the store's points
    # never wait behind an OTLP export that blocks on an unreachable collector.
    readers = [entity_reader, *_providers.build_metric_readers(settings, wrap)]
    provider = MeterProvider(
        resource=_providers.build_resource(settings),
        metric_readers=readers,
        exemplar_filter=_providers.build_exemplar_filter(),
        shutdown_on_exit=False,
    )
    metrics.set_meter_provider(provider)
    _BUILT.add(provider)
    return provider, True


def build_logger_provider(settings: FlextObservabilitySettings) -> tuple[LoggerProvider, bool]:
    existing = get_logger_provider()
    if isinstance(existing, LoggerProvider):
        note_attach("LoggerProvider", existing)
        return existing, False
    provider = LoggerProvider(
        resource=_providers.build_resource(settings),
        shutdown_on_exit=False,
        log_record_limits=_providers.build_log_record_limits(settings),
    )
    set_logger_provider(provider)
    _BUILT.add(provider)
    return provider, True


def add_log_exporters(
    settings: FlextObservabilitySettings,
    provider: LoggerProvider,
    pipeline: Pipeline,
    tracker: ExportTracker,
    redactor: Redactor,
) -> None:
    """Add the pipeline drain first, then the exporting processors (`BridgeDrainProcessor`)."""
    drain_timeout = settings.shutdown_timeout_ms / 1000 / 2
    provider.add_log_record_processor(
        BridgeDrainProcessor(pipeline, shutdown_timeout=drain_timeout)
    )
    for exporter in _providers.build_log_exporters(settings):
        wrapped = TrackedLogExporter(
            RedactingLogRecordExporter(exporter, redactor=redactor), tracker
        )
        provider.add_log_record_processor(
            BatchLogRecordProcessor(wrapped, **_providers.batch_arguments("BLRP"))
        )


def install_logging_handler(
    settings: FlextObservabilitySettings, pipeline: Pipeline
) -> Callable[[], None]:
    """Attach one `EntityLoggingHandler` to the root logger; return its removal."""
    root = logging.getLogger()
    level = logging.getLevelName(settings.log_level)
    level = level if isinstance(level, int) else logging.INFO
    for handler in root.handlers:
        if isinstance(handler, EntityLoggingHandler):
            return lambda: None  # never two bridges: records would be duplicated
    handler = EntityLoggingHandler(pipeline, level=level)
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        # The root level gates every logger without its own level; lower it so the captured
        # level is really captured (documented: FLEXT_OBSERVABILITY_LOG_LEVEL).
        root.setLevel(level)

    def remove() -> None:
        root.removeHandler(handler)

    return remove


def register_own_metrics(
    meter_provider: MeterProvider, pipeline: Pipeline, health: HealthRegistry
) -> None:
    meter = meter_provider.get_meter("flext_observability")

    def dropped(_options: CallbackOptions) -> list[Observation]:
        return [
            Observation(count, {"signal": signal, "reason": reason})
            for (signal, reason), count in pipeline.dropped.items()
        ]

    def queue_size(_options: CallbackOptions) -> list[Observation]:
        return [Observation(pipeline.stats()["queue_size"])]

    def health_status(_options: CallbackOptions) -> list[Observation]:
        return [Observation(value, attrs) for value, attrs in health.gauge_points()]

    meter.create_observable_counter(
        "flext.observability.dropped",
        callbacks=[dropped],
        unit="{item}",
        description="Telemetry items dropped by flext-observability, by signal and reason.",
    )
    meter.create_observable_gauge(
        "flext.observability.queue.size",
        callbacks=[queue_size],
        unit="{item}",
        description="Items waiting in the entity pipeline's queue.",
    )
    meter.create_observable_gauge(
        "flext.health.status",
        callbacks=[health_status],
        description="Health check status: 1 healthy, 0.5 degraded, 0 unhealthy, -1 unknown.",
    )
