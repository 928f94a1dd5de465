"""Builds the whole system from settings; called only by `setup()`.

The order: entity side first (redactor, store, notifiers, alert engine, pipeline), then the
three providers with their standard exporters and our components, then the logging bridge,
health checks, probe server and our own metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk._logs import LoggerProvider

from flext_observability._internal import cardinality
from flext_observability._internal.emit import Emitter
from flext_observability._internal.entity_pipeline import build_pipeline
from flext_observability._internal.export_health import (
    ExportTracker,
)
from flext_observability._internal.guard import logger
from flext_observability._internal.handle import FlextObservability
from flext_observability._internal.pipeline import Pipeline
from flext_observability._internal.wiring_otel import (
    add_log_exporters,
    build_logger_provider,
    build_meter_provider,
    build_tracer_provider,
    install_logging_handler,
    register_own_metrics,
)
from flext_observability.exceptions import ConfigurationError
from flext_observability.health import (
    HealthRegistry,
    ProbeServer,
    export_health_check,
    pipeline_saturation_check,
    store_writable_check,
)
from flext_observability.logs import (
    EntityLogRecordProcessor,
)
from flext_observability.models import AlertSeverity, FlextAlert, FlextHealthCheck
from flext_observability.redaction import Redactor
from flext_observability.rules import (
    AlertEngine,
    AlertRule,
    Rule,
    load_rules_file,
    rules_from_pyproject,
)
from flext_observability.rules._alerts import Alerts
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.sinks._base import Entity, Sink
from flext_observability.sinks.store import SQLiteStore
from flext_observability.sinks.webhook import WebhookSink

__all__ = ["build"]


_ALERT_SEVERITY = {
    AlertSeverity.INFO: SeverityNumber.INFO,
    AlertSeverity.WARNING: SeverityNumber.WARN,
    AlertSeverity.ERROR: SeverityNumber.ERROR,
    AlertSeverity.CRITICAL: SeverityNumber.FATAL,
}
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
                    severity_number=_ALERT_SEVERITY[alert.severity],
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
    try:
        if settings.alert_rules is not None:
            return load_rules_file(settings.alert_rules)
        if Path("pyproject.toml").is_file():
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
    if settings.alert_webhook_url is not None:
        all_sinks.append(
            WebhookSink(
                settings.alert_webhook_url.get_secret_value(), suppress=suppress_instrumentation
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
        log_provider=log_provider,
        capacity=settings.queue_size,
        batch_size=settings.batch_size,
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


def build(
    settings: FlextObservabilitySettings, *, sinks: Sequence[Sink], rules: Sequence[Rule]
) -> FlextObservability:
    """Build every component from `settings` and return the handle."""
    redactor = Redactor(
        enabled=settings.redaction_enabled,
        extra_patterns=settings.redaction_extra_patterns,
        allow=settings.redaction_allow,
    )
    tracker = ExportTracker()
    cardinality.install()
    engine = _engine(settings, rules)
    log_provider, owns_logs = (
        build_logger_provider(settings) if settings.logs_enabled else (None, True)
    )
    pipeline, store = _entity_side(settings, sinks, engine, log_provider, redactor)
    cleanups: list[Callable[[], object]] = []
    tracer_provider, owns_traces = (
        build_tracer_provider(settings, pipeline, tracker, redactor)
        if settings.traces_enabled
        else (None, True)
    )
    meter_provider, owns_metrics = (
        build_meter_provider(settings, pipeline, tracker, redactor)
        if settings.metrics_enabled
        else (None, True)
    )
    if log_provider is not None:
        if owns_logs:
            add_log_exporters(settings, log_provider, pipeline, tracker, redactor)
        log_provider.add_log_record_processor(EntityLogRecordProcessor(pipeline))
        cleanups.append(install_logging_handler(settings, pipeline))
    health = _health(settings, pipeline, store, tracker)
    if settings.health_enabled:
        health.start()
        cleanups.append(lambda: health.stop(settings.shutdown_timeout_ms / 1000))
    if settings.health_port is not None:
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
        register_own_metrics(meter_provider, pipeline, health)
    emitter = Emitter(
        pipeline=pipeline,
        tracer_provider=tracer_provider,
        meter=meter_provider.get_meter("flext_observability.emit") if meter_provider else None,
        logger_provider=log_provider,
    )
    return FlextObservability(
        settings=settings,
        pipeline=pipeline,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        logger_provider=log_provider,
        owns_providers=owns_traces and owns_metrics and owns_logs,
        emitter=emitter,
        health=health,
        alerts=Alerts(engine, pipeline),
        store=store,
        cleanups=cleanups,
    )
