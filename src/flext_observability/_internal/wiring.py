"""Builds the whole system from settings, OpenTelemetry side included; called only by `setup()`.

The order: entity side first (redactor, store, notifiers, alert engine, pipeline), then the
three providers with their standard exporters and our components, then the logging bridge,
health checks, probe server and our own metrics. When a provider was already set by someone
else, our components attach to it instead.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

from opentelemetry import metrics, trace
from opentelemetry._logs import LogRecord, SeverityNumber, get_logger_provider, set_logger_provider
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.trace import TracerProvider

from flext_observability._internal import callbacks, cardinality, outbox
from flext_observability._internal import providers as _providers
from flext_observability._internal.convert.severity import severity_of_alert
from flext_observability._internal.derived import (
    DerivedMetrics,
    NoisePolicy,
    RecordAllSampler,
)
from flext_observability._internal.emit import EmitIdGenerator, Emitter
from flext_observability._internal.export_health import (
    ExportTracker,
    TrackedLogExporter,
    TrackedMetricExporter,
    TrackedSpanExporter,
)
from flext_observability._internal.export_lane import OnDrop, SpanExportTap
from flext_observability._internal.guard import logger
from flext_observability._internal.log_export import LogExportTap
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability._internal.runtime_metrics import (
    LoopWatcher,
    register_runtime_metrics,
    watch_loop,
)
from flext_observability.exceptions import ConfigurationError
from flext_observability.health import (
    HealthRegistry,
    export_health_check,
    pipeline_saturation_check,
    store_writable_check,
)
from flext_observability.logs import (
    BridgeDrainProcessor,
    EntityLogRecordProcessor,
    install_logging_handler,
    log_twin,
)
from flext_observability.models import Entity, FlextAlert, FlextHealthCheck
from flext_observability.processors import EntitySpanProcessor
from flext_observability.readers import EntityMetricReader, shares_collection
from flext_observability.redaction import Redactor
from flext_observability.redaction._exporters import RedactingMetricExporter
from flext_observability.rules import AlertEngine, AlertRule, Rule
from flext_observability.rules._alerts import Alerts
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.sinks._base import Sink
from flext_observability.sinks.store import SQLiteStore

__all__ = ["ALERT_LOGGER", "System", "build"]


ALERT_LOGGER = "flext_observability.alerts"


def _alert_logger(provider: LoggerProvider | None) -> Callable[[Sequence[Entity]], None]:
    """Emit each alert transition as an OTel log event named `flext.alert`."""
    if provider is None:
        return lambda _alerts: None
    otel_logger = provider.get_logger(ALERT_LOGGER)

    def log_alerts(entities: Sequence[Entity]) -> None:
        for alert in entities:
            if not isinstance(alert, FlextAlert):
                continue
            attributes: dict[str, Any] = {
                "alert.name": alert.name,
                "alert.rule": alert.source,
                "alert.status": alert.status.value,
                "alert.severity": alert.severity.value,
                "alert.fingerprint": alert.fingerprint,
            }
            if alert.value is not None:
                attributes["alert.value"] = alert.value
            if alert.threshold is not None:
                attributes["alert.threshold"] = alert.threshold
            otel_logger.emit(
                LogRecord(
                    event_name="flext.alert",
                    severity_number=SeverityNumber(severity_of_alert(alert.severity).number),
                    severity_text=alert.severity.value.upper(),
                    body=alert.message,
                    attributes=attributes,
                )
            )

    return log_alerts


def _file_rules(settings: FlextObservabilitySettings) -> list[AlertRule]:
    """Rules from the rules file, else from pyproject.

    A broken file named by an explicit argument fails fast. One named by the environment or
    pyproject only loses its rules (one warning), so the rest of the telemetry keeps working;
    strict mode fails fast there too.
    """
    if settings.alert_rules is None and not Path("pyproject.toml").is_file():
        return []
    # The rules file's modules (tomllib) load only when there is a file to read.
    from flext_observability.rules import load_rules_file, rules_from_pyproject  # noqa: PLC0415

    try:
        if settings.alert_rules is not None:
            return load_rules_file(settings.alert_rules)
        return rules_from_pyproject("pyproject.toml")
    except ConfigurationError as exc:
        if settings.strict or settings.source_of("alert_rules") == "argument":
            raise
        logger.warning("flext-observability: alert rules not loaded: %s", exc)
    return []


def _engine(settings: FlextObservabilitySettings, rules: Sequence[Rule]) -> AlertEngine:
    """The engine; file rules it refuses (say, a count above its sample cap) are lost alone."""
    file_rules = _file_rules(settings)
    try:
        return AlertEngine([*file_rules, *rules], service_name=settings.service_name)
    except ConfigurationError as exc:
        if not file_rules or settings.strict or settings.source_of("alert_rules") == "argument":
            raise
        origin = settings.alert_rules or Path("pyproject.toml")
        logger.warning("flext-observability: alert rules not loaded: %s: %s", origin, exc)
    return AlertEngine(list(rules), service_name=settings.service_name)


def _entity_side(
    settings: FlextObservabilitySettings,
    sinks: Sequence[Sink],
    engine: AlertEngine,
    log_provider: LoggerProvider | None,
    redactor: Redactor,
    *,
    derived: DerivedMetrics,
    log_export: LogExportTap | None,
) -> tuple[Pipeline, SQLiteStore | None]:
    store = (
        SQLiteStore(
            settings.store_path,
            retention_hours=settings.store_retention_hours,
            max_mb=settings.store_max_mb,
        )
        if settings.store_enabled
        else None
    )
    all_sinks: list[Sink] = [*([store] if store is not None else []), *sinks]
    # The HTTP sinks' modules (http.client, urllib.request) load only when one is configured.
    if settings.alert_webhook_url is not None:
        from flext_observability.sinks import WebhookSink  # noqa: PLC0415

        all_sinks.append(
            WebhookSink(
                settings.alert_webhook_url.get_secret_value(), suppress=suppress_instrumentation
            )
        )
    if settings.alertmanager_url is not None:
        from flext_observability.sinks import AlertmanagerSink  # noqa: PLC0415

        all_sinks.append(
            AlertmanagerSink(
                settings.alertmanager_url.get_secret_value(), suppress=suppress_instrumentation
            )
        )
    log_alerts = _alert_logger(log_provider)

    def observe(batch: Sequence[Entity]) -> Sequence[Entity]:
        alerts = engine.observe(batch)
        log_alerts(alerts)
        return alerts

    def tick() -> Sequence[Entity]:
        alerts = engine.evaluate()
        log_alerts(alerts)
        return alerts

    pipeline = build_pipeline(
        sinks=all_sinks,
        redact=redactor.redact_entity if settings.redaction_enabled else None,
        observers=[observe] if settings.alerts_enabled else [],
        tick=tick if settings.alerts_enabled else None,
        service_name=settings.service_name,
        log_twin=log_twin(log_provider) if log_provider is not None else None,
        log_export=log_export,
        capacity=settings.queue_size,
        batch_size=settings.batch_size,
        derived=derived,
    )
    pipeline.start()
    return pipeline, store


def _health(
    settings: FlextObservabilitySettings,
    pipeline: Pipeline,
    store: SQLiteStore | None,
    tracker: ExportTracker,
) -> HealthRegistry:
    def deliver(result: FlextHealthCheck) -> None:
        pipeline.submit("entity", result)

    registry = HealthRegistry(
        on_result=deliver,
        default_interval=settings.health_interval_s,
        service_name=settings.service_name,
    )
    registry.register("export", export_health_check(tracker.consecutive_failures), critical=False)
    registry.register("pipeline", pipeline_saturation_check(pipeline.stats), critical=False)
    if store is not None:
        registry.register("store", store_writable_check(settings.store_path), critical=False)
    return registry


# -- the OpenTelemetry side: providers, exporters, our metrics ----------------------------

_BUILT: weakref.WeakSet[object] = weakref.WeakSet()
"""Providers an earlier setup() built (OpenTelemetry lets a process set each global once)."""


def _outbox(
    settings: FlextObservabilitySettings, signal: str, exporters: Sequence[Any]
) -> list[Any]:
    """Put the OTLP exporters (HTTP, gRPC) behind the disk outbox next to the store, if enabled."""
    enabled = settings.outbox_enabled and settings.store_enabled
    return outbox.wrap_all(
        exporters,
        signal=signal,
        directory=settings.store_path.parent / "outbox" if enabled else None,
        max_bytes=int(settings.outbox_max_mb * 1024 * 1024),
        max_age_s=settings.outbox_max_age_s,
    )


def _note_attach(kind: str, existing: object) -> None:
    if existing in _BUILT:
        logger.warning(
            "flext-observability: setup() after shutdown() reuses the %s of the first setup "
            "(OpenTelemetry sets global providers once per process); its exporters stay shut "
            "down, entities still flow",
            kind,
        )
    else:
        logger.info("flext-observability: attaching to the %s that is already set", kind)


def _build_tracer_provider(
    settings: FlextObservabilitySettings,
    pipeline: Pipeline,
    tracker: ExportTracker,
    redactor: Redactor,
    policy: NoisePolicy,
    *,
    detach: list[Callable[[], object]],
) -> tuple[TracerProvider, bool]:
    """Our provider records every span (derived metrics), exports sampled and notable ones.

    A provider someone else set keeps its own sampler: there, only its sampled spans are seen,
    and our processor is detached from it at our shutdown (added to `detach`).
    """
    existing = trace.get_tracer_provider()
    if isinstance(existing, TracerProvider):
        _note_attach("TracerProvider", existing)
        processor = EntitySpanProcessor(pipeline, notable=policy.notable)
        existing.add_span_processor(processor)
        detach.append(processor.detach)
        return existing, False
    provider = TracerProvider(
        resource=_providers.build_resource(settings),
        sampler=RecordAllSampler(_providers.build_sampler(settings), policy),
        span_limits=_providers.build_span_limits(settings),
        id_generator=EmitIdGenerator(),
        shutdown_on_exit=False,
    )
    # One processor, one queue, one worker per signal: the pipeline's worker redacts each batch
    # of spans once, hands it to the exporters' lanes and stores the same redacted spans
    # (`_internal/export_lane.py`), instead of a BatchSpanProcessor per exporter beside it.
    # The processor queues sampled spans and notable unsampled ones; the tap exports both.
    # Redaction happens before the lanes, so the outbox (when on) only ever holds scrubbed spans.
    exporters = [
        TrackedSpanExporter(exporter, tracker)
        for exporter in _outbox(settings, "traces", _providers.build_span_exporters(settings))
    ]
    tap = (
        SpanExportTap(
            exporters,
            redactor=redactor,
            on_drop=lambda count, reason: pipeline.count_drop("span", reason, count),
            **_lane_arguments("BSP"),
        )
        if exporters
        else None
    )
    provider.add_span_processor(
        EntitySpanProcessor(
            pipeline,
            notable=policy.notable,
            export=tap,
            shutdown_timeout=settings.shutdown_timeout_ms / 1000,
        )
    )
    trace.set_tracer_provider(provider)
    _BUILT.add(provider)
    return provider, True


def _detach_reader(provider: MeterProvider, reader: EntityMetricReader) -> None:
    """Our last collection into the pipeline, then no thread of ours left in `provider`."""
    reader.shutdown()
    provider.remove_metric_reader(reader)


def _build_meter_provider(
    settings: FlextObservabilitySettings,
    pipeline: Pipeline,
    tracker: ExportTracker,
    redactor: Redactor,
    derived: DerivedMetrics,
    *,
    detach: list[Callable[[], object]],
) -> tuple[MeterProvider, bool]:
    """Our MeterProvider: one reader feeds the entities and every push exporter it can.

    A push exporter (OTLP) that wants what the entity reader collects (`shares_collection`) is
    fed from the entity reader's collection: one reader means one per-series storage that every
    measurement on the application thread updates, and one collection per interval. Other push
    exporters keep their own periodic reader; pull exporters (Prometheus) are readers anyway.
    """
    interval_s = settings.metric_export_interval_ms / 1000
    existing = metrics.get_meter_provider()
    if isinstance(existing, MeterProvider):
        _note_attach("MeterProvider", existing)
        reader = EntityMetricReader(pipeline, interval_s=interval_s)
        existing.add_metric_reader(reader)
        detach.append(lambda: _detach_reader(existing, reader))
        derived.bind(existing)  # the application's readers: through the SDK's histogram
        return existing, False

    def wrap(exporter: Any) -> Any:
        (spilling,) = _outbox(settings, "metrics", [exporter])
        return TrackedMetricExporter(RedactingMetricExporter(spilling, redactor=redactor), tracker)

    exporters = _providers.build_metric_exporters(settings)
    shared = [e for e in exporters if not isinstance(e, MetricReader) and shares_collection(e)]
    entity_reader = EntityMetricReader(
        pipeline,
        interval_s=interval_s,
        exporters=[wrap(exporter) for exporter in shared],
        export_timeout_s=settings.metric_export_timeout_ms / 1000,
    )
    others = [e for e in exporters if not any(e is s for s in shared)]
    # Ours first: the provider flushes and shuts readers down in order, so the store's points
    # never wait behind an OTLP export that blocks on an unreachable collector (the shared
    # exporters run after the entities were queued, see `EntityMetricReader`).
    readers = [entity_reader, *_providers.build_metric_readers(settings, wrap, others)]
    resource = _providers.build_resource(settings)
    provider = MeterProvider(
        resource=resource,
        metric_readers=readers,
        exemplar_filter=_providers.build_exemplar_filter(),
        shutdown_on_exit=False,
    )
    callbacks.time_box(provider)
    derived.bind(provider, readers, resource)  # every reader is ours: see `SpanDurations`
    metrics.set_meter_provider(provider)
    _BUILT.add(provider)
    return provider, True


def _build_logger_provider(settings: FlextObservabilitySettings) -> tuple[LoggerProvider, bool]:
    existing = get_logger_provider()
    if isinstance(existing, LoggerProvider):
        _note_attach("LoggerProvider", existing)
        return existing, False
    provider = LoggerProvider(
        resource=_providers.build_resource(settings),
        shutdown_on_exit=False,
        log_record_limits=_providers.build_log_record_limits(settings),
    )
    set_logger_provider(provider)
    _BUILT.add(provider)
    return provider, True


def _log_export(
    settings: FlextObservabilitySettings,
    provider: LoggerProvider,
    tracker: ExportTracker,
    redactor: Redactor,
    on_drop: OnDrop,
) -> LogExportTap | None:
    """The log exporters behind one tap that the pipeline's worker feeds (None: no exporter).

    Like spans (`_build_tracer_provider`): no `BatchLogRecordProcessor` per exporter, no SDK
    `Logger.emit` per bridged record; the worker builds each record's export copy, redacts it
    and hands the batch to the exporters' lanes (`log_export.LogExportTap`), so the outbox (when on)
    only ever holds scrubbed records.
    """
    exporters = [
        TrackedLogExporter(exporter, tracker)
        for exporter in _outbox(settings, "logs", _providers.build_log_exporters(settings))
    ]
    if not exporters:
        return None
    return LogExportTap(
        exporters,
        provider=provider,
        redactor=redactor,
        on_drop=on_drop,
        **_lane_arguments("BLRP"),
    )


class _LaneArguments(TypedDict):
    max_queue: int
    batch_size: int
    schedule_delay: float | None


def _lane_arguments(prefix: Literal["BSP", "BLRP"]) -> _LaneArguments:
    """A tap's lane settings from the batch processor variables (`OTEL_BSP_*`, `OTEL_BLRP_*`)."""
    batch = _providers.batch_arguments(prefix)
    delay_ms = batch.get("schedule_delay_millis")
    return {
        "max_queue": batch.get("max_queue_size") or 2048,
        "batch_size": batch.get("max_export_batch_size") or 512,
        "schedule_delay": None if delay_ms is None else delay_ms / 1000,
    }


def _register_own_metrics(
    meter_provider: MeterProvider, pipeline: Pipeline, health: HealthRegistry
) -> None:
    meter = meter_provider.get_meter("flext_observability")
    # Observable instruments cannot be unregistered: on an application's provider, which lives
    # on after our shutdown, they report nothing once our pipeline has stopped.

    def dropped(_options: CallbackOptions) -> list[Observation]:
        if pipeline.stopped:
            return []
        return [
            Observation(count, {"signal": signal, "reason": reason})
            for (signal, reason), count in pipeline.dropped.items()
        ]

    def queue_size(_options: CallbackOptions) -> list[Observation]:
        if pipeline.stopped:
            return []
        return [Observation(pipeline.stats()["queue_size"])]

    def health_status(_options: CallbackOptions) -> list[Observation]:
        if pipeline.stopped:
            return []
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


@dataclass(frozen=True, slots=True, kw_only=True)
class System:
    """Every component `build` assembled; `setup()` wraps it in the `FlextObservability` handle."""

    settings: FlextObservabilitySettings
    pipeline: Pipeline
    tracer_provider: TracerProvider | None
    meter_provider: MeterProvider | None
    logger_provider: LoggerProvider | None
    owned_providers: tuple[Any, ...]
    """The providers we built: shut down at our shutdown (one set by someone else is flushed)."""
    emitter: Emitter
    health: HealthRegistry
    alerts: Alerts
    store: SQLiteStore | None
    cleanups: list[Callable[[], object]]
    """What stops at shutdown besides the providers and the pipeline (scheduler, server, ...)."""


def build(
    settings: FlextObservabilitySettings, *, sinks: Sequence[Sink], rules: Sequence[Rule]
) -> System:
    """Build every component from `settings`."""
    redactor = Redactor(
        enabled=settings.redaction_enabled,
        extra_patterns=settings.redaction_extra_patterns,
        allow=settings.redaction_allow,
    )
    tracker = ExportTracker()
    cardinality.install()
    engine = _engine(settings, rules)
    log_provider, owns_logs = (
        _build_logger_provider(settings) if settings.logs_enabled else (None, True)
    )
    policy = NoisePolicy(settings.exclude, slow_ms=settings.sampling_keep_slow_ms)
    derived = DerivedMetrics(policy)
    pipeline_ref: list[Pipeline] = []  # the tap is built first: the pipeline feeds it
    log_export = (
        _log_export(
            settings,
            log_provider,
            tracker,
            redactor,
            lambda count, reason: pipeline_ref[0].count_drop("otel_log", reason, count),
        )
        if log_provider is not None and owns_logs
        else None
    )
    pipeline, store = _entity_side(
        settings, sinks, engine, log_provider, redactor, derived=derived, log_export=log_export
    )
    pipeline_ref.append(pipeline)
    # What we add to a provider someone else set is detached from it at our shutdown (that
    # provider is only flushed, never shut down): no thread of ours, no queueing after.
    cleanups: list[Callable[[], object]] = []
    tracer_provider, owns_traces = (
        _build_tracer_provider(settings, pipeline, tracker, redactor, policy, detach=cleanups)
        if settings.traces_enabled
        else (None, True)
    )
    meter_provider, owns_metrics = (
        _build_meter_provider(settings, pipeline, tracker, redactor, derived, detach=cleanups)
        if settings.metrics_enabled
        else (None, True)
    )
    if log_provider is not None:
        if owns_logs:
            # First: the twins of bridged records reach an application's processors on this
            # provider before those flush or stop (see `BridgeDrainProcessor`).
            log_provider.add_log_record_processor(
                BridgeDrainProcessor(
                    pipeline, shutdown_timeout=settings.shutdown_timeout_ms / 1000 / 2
                )
            )
        log_processor = EntityLogRecordProcessor(
            pipeline, export=log_export, shutdown_timeout=settings.shutdown_timeout_ms / 1000
        )
        log_provider.add_log_record_processor(log_processor)
        cleanups.append(log_processor.detach if not owns_logs else lambda: None)
        cleanups.append(install_logging_handler(pipeline, settings.log_level))
    health = _health(settings, pipeline, store, tracker)
    if settings.health_enabled:
        health.start()
        cleanups.append(lambda: health.stop(settings.shutdown_timeout_ms / 1000))
    if settings.health_port is not None:
        from flext_observability.health import ProbeServer  # noqa: PLC0415 - http.server

        token = settings.health_token.get_secret_value() if settings.health_token else None
        server = ProbeServer(
            health,
            host=settings.health_host,
            port=settings.health_port,
            token=token,
            message_filter=redactor.redact_text,
        )
        try:
            server.start()
            cleanups.append(server.stop)
        except ConfigurationError as exc:
            # A busy port must not take telemetry down with it (strict mode: fail fast).
            if settings.strict:
                raise
            logger.warning("flext-observability: probe server not started: %s", exc)
    if meter_provider is not None:
        _register_own_metrics(meter_provider, pipeline, health)
        if settings.runtime_metrics:
            cleanups.append(register_runtime_metrics(meter_provider))
            watch_loop()  # setup() called inside a running event loop
            if tracer_provider is not None:
                tracer_provider.add_span_processor(LoopWatcher())
    emitter = Emitter(
        pipeline=pipeline,
        tracer_provider=tracer_provider,
        meter=meter_provider.get_meter("flext_observability.emit") if meter_provider else None,
        logger_provider=log_provider,
    )
    return System(
        settings=settings,
        pipeline=pipeline,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=log_provider,
        owned_providers=tuple(
            provider
            for provider, owned in (
                (tracer_provider, owns_traces),
                (meter_provider, owns_metrics),
                (log_provider, owns_logs),
            )
            if provider is not None and owned
        ),
        emitter=emitter,
        health=health,
        alerts=Alerts(engine, pipeline),
        store=store,
        cleanups=cleanups,
    )
