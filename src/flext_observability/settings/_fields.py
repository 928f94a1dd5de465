"""The fields of `FlextObservabilitySettings`: type, default, sources and documentation.

Each annotation carries a `Setting` marker (parser + environment names); with no names listed the
variable is `FLEXT_OBSERVABILITY_<FIELD>`. The docstring under each field is its documentation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from flext_observability.settings import _parse as p
from flext_observability.settings import _parse_lists as pl
from flext_observability.settings._sources import SETTINGS_CONFIG, ResourceKey, Setting

__all__ = ["SettingsFields"]

Protocol = Literal["grpc", "http/protobuf", "http/json"]
_OTLP = "OTEL_EXPORTER_OTLP_"


class SettingsFields(BaseSettings):
    """Field declarations; behaviour lives in `flext_observability.settings`."""

    model_config = SETTINGS_CONFIG

    # --- service and resource -----------------------------------------------------------------
    service_name: Annotated[
        str,
        Setting(
            p.TEXT,
            ("FLEXT_OBSERVABILITY_SERVICE_NAME", "OTEL_SERVICE_NAME", ResourceKey("service.name")),
        ),
    ] = "unknown_service"
    """`service.name` of every resource; also read from `OTEL_SERVICE_NAME` and
    `service.name` in `OTEL_RESOURCE_ATTRIBUTES`."""
    service_version: Annotated[
        str | None,
        Setting(p.TEXT, ("FLEXT_OBSERVABILITY_SERVICE_VERSION", ResourceKey("service.version"))),
    ] = None
    """`service.version`; also read from `service.version` in `OTEL_RESOURCE_ATTRIBUTES`."""
    environment: Annotated[
        str | None,
        Setting(
            p.TEXT,
            ("FLEXT_OBSERVABILITY_ENVIRONMENT", ResourceKey("deployment.environment.name")),
        ),
    ] = None
    """`deployment.environment.name` (e.g. `production`)."""
    resource_attributes: Annotated[
        dict[str, str], Setting(pl.PAIRS, ("OTEL_RESOURCE_ATTRIBUTES",))
    ] = Field(default_factory=dict)
    """Extra resource attributes, `k=v,k2=v2` percent-decoded; malformed pairs are skipped."""

    # --- switches -----------------------------------------------------------------------------
    traces_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Trace spans and convert them to `FlextTrace` entities."""
    metrics_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Collect metrics and convert points to `FlextMetric` entities."""
    logs_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Capture stdlib logging as OTel logs and `FlextLogEntry` entities."""
    alerts_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Evaluate alert rules and deliver alerts."""
    health_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Run registered health checks."""

    # --- sampling -----------------------------------------------------------------------------
    sampling_ratio: Annotated[float, Setting(p.RATIO)] = 1.0
    """Parent-based trace-id ratio sampling, used when `traces_sampler` is unset."""
    traces_sampler: Annotated[str | None, Setting(pl.SAMPLER, ("OTEL_TRACES_SAMPLER",))] = None
    """OTel sampler name; a non-built-in name is looked up as an entry point (noted)."""
    traces_sampler_arg: Annotated[str | None, Setting(p.TEXT, ("OTEL_TRACES_SAMPLER_ARG",))] = None
    """Argument of the sampler (the ratio for the `*traceidratio` samplers)."""

    # --- metrics export -----------------------------------------------------------------------
    metric_export_interval_ms: Annotated[
        int, Setting(p.POSITIVE_MS, ("OTEL_METRIC_EXPORT_INTERVAL",))
    ] = 60000
    """Milliseconds between two metric collections."""
    metric_export_timeout_ms: Annotated[
        int, Setting(p.NON_NEGATIVE_MS, ("OTEL_METRIC_EXPORT_TIMEOUT",))
    ] = 30000
    """Milliseconds a metric export may take."""

    # --- exporters (None: OTLP when an endpoint is configured, else none) ----------------------
    traces_exporter: Annotated[
        tuple[str, ...] | None, Setting(pl.TRACES_EXPORTERS, ("OTEL_TRACES_EXPORTER",))
    ] = None
    """Span exporters; `none` (alone) gives an empty tuple; unset lets setup decide."""
    metrics_exporter: Annotated[
        tuple[str, ...] | None, Setting(pl.METRICS_EXPORTERS, ("OTEL_METRICS_EXPORTER",))
    ] = None
    """Metric exporters; `none` (alone) gives an empty tuple; unset lets setup decide."""
    logs_exporter: Annotated[
        tuple[str, ...] | None, Setting(pl.LOGS_EXPORTERS, ("OTEL_LOGS_EXPORTER",))
    ] = None
    """Log exporters; `none` (alone) gives an empty tuple; unset lets setup decide."""

    # --- OTLP ---------------------------------------------------------------------------------
    otlp_endpoint: Annotated[str | None, Setting(pl.URL, (_OTLP + "ENDPOINT",), url=True)] = None
    """Base OTLP endpoint (http/https URL); HTTP adds `/v1/<signal>` to it."""
    otlp_traces_endpoint: Annotated[
        str | None, Setting(pl.URL, (_OTLP + "TRACES_ENDPOINT",), url=True)
    ] = None
    """Traces endpoint, used as is; overrides `otlp_endpoint`."""
    otlp_metrics_endpoint: Annotated[
        str | None, Setting(pl.URL, (_OTLP + "METRICS_ENDPOINT",), url=True)
    ] = None
    """Metrics endpoint, used as is; overrides `otlp_endpoint`."""
    otlp_logs_endpoint: Annotated[
        str | None, Setting(pl.URL, (_OTLP + "LOGS_ENDPOINT",), url=True)
    ] = None
    """Logs endpoint, used as is; overrides `otlp_endpoint`."""
    otlp_protocol: Annotated[Protocol, Setting(p.PROTOCOL, (_OTLP + "PROTOCOL",))] = "http/protobuf"
    """OTLP transport: `grpc`, `http/protobuf` or `http/json`."""
    otlp_traces_protocol: Annotated[
        Protocol | None, Setting(p.PROTOCOL, (_OTLP + "TRACES_PROTOCOL",))
    ] = None
    """Traces transport; overrides `otlp_protocol`."""
    otlp_metrics_protocol: Annotated[
        Protocol | None, Setting(p.PROTOCOL, (_OTLP + "METRICS_PROTOCOL",))
    ] = None
    """Metrics transport; overrides `otlp_protocol`."""
    otlp_logs_protocol: Annotated[
        Protocol | None, Setting(p.PROTOCOL, (_OTLP + "LOGS_PROTOCOL",))
    ] = None
    """Logs transport; overrides `otlp_protocol`."""
    otlp_headers: Annotated[
        dict[str, SecretStr], Setting(pl.SECRET_PAIRS, (_OTLP + "HEADERS",), secret=True)
    ] = Field(default_factory=dict)
    """Headers sent with every export (secret), `k=v,k2=v2` percent-decoded."""
    otlp_traces_headers: Annotated[
        dict[str, SecretStr] | None,
        Setting(pl.SECRET_PAIRS, (_OTLP + "TRACES_HEADERS",), secret=True),
    ] = None
    """Traces headers (secret); replace `otlp_headers` for traces."""
    otlp_metrics_headers: Annotated[
        dict[str, SecretStr] | None,
        Setting(pl.SECRET_PAIRS, (_OTLP + "METRICS_HEADERS",), secret=True),
    ] = None
    """Metrics headers (secret); replace `otlp_headers` for metrics."""
    otlp_logs_headers: Annotated[
        dict[str, SecretStr] | None,
        Setting(pl.SECRET_PAIRS, (_OTLP + "LOGS_HEADERS",), secret=True),
    ] = None
    """Logs headers (secret); replace `otlp_headers` for logs."""
    otlp_timeout_ms: Annotated[int, Setting(p.NON_NEGATIVE_MS, (_OTLP + "TIMEOUT",))] = 10000
    """Milliseconds one OTLP export may take (milliseconds as the OTel spec says, not seconds)."""
    otlp_traces_timeout_ms: Annotated[
        int | None, Setting(p.NON_NEGATIVE_MS, (_OTLP + "TRACES_TIMEOUT",))
    ] = None
    """Traces export timeout in milliseconds; overrides `otlp_timeout_ms`."""
    otlp_metrics_timeout_ms: Annotated[
        int | None, Setting(p.NON_NEGATIVE_MS, (_OTLP + "METRICS_TIMEOUT",))
    ] = None
    """Metrics export timeout in milliseconds; overrides `otlp_timeout_ms`."""
    otlp_logs_timeout_ms: Annotated[
        int | None, Setting(p.NON_NEGATIVE_MS, (_OTLP + "LOGS_TIMEOUT",))
    ] = None
    """Logs export timeout in milliseconds; overrides `otlp_timeout_ms`."""
    otlp_compression: Annotated[
        Literal["gzip", "none"] | None, Setting(p.COMPRESSION, (_OTLP + "COMPRESSION",))
    ] = None
    """Export compression, `gzip` or `none`; unset uses the exporter's default."""
    otlp_insecure: Annotated[bool | None, Setting(p.BOOL, (_OTLP + "INSECURE",))] = None
    """gRPC only: connect without TLS; unset follows the endpoint scheme."""

    # --- limits (OTel meanings) ---------------------------------------------------------------
    attribute_count_limit: Annotated[
        int | None, Setting(p.NON_NEGATIVE_INT, ("OTEL_ATTRIBUTE_COUNT_LIMIT",))
    ] = None
    """Most attributes kept per span, event, link or log record."""
    attribute_value_length_limit: Annotated[
        int | None, Setting(p.NON_NEGATIVE_INT, ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",))
    ] = None
    """Longest string attribute value kept (longer ones are truncated)."""
    span_attribute_count_limit: Annotated[
        int | None, Setting(p.NON_NEGATIVE_INT, ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",))
    ] = None
    """Most attributes kept per span."""
    span_event_count_limit: Annotated[
        int | None, Setting(p.NON_NEGATIVE_INT, ("OTEL_SPAN_EVENT_COUNT_LIMIT",))
    ] = None
    """Most events kept per span."""
    span_link_count_limit: Annotated[
        int | None, Setting(p.NON_NEGATIVE_INT, ("OTEL_SPAN_LINK_COUNT_LIMIT",))
    ] = None
    """Most links kept per span."""

    # --- embedded store -----------------------------------------------------------------------
    store_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Write entities to the embedded SQLite store."""
    store_path: Annotated[Path, Setting(p.PATH)] = Path(".flext-observability/telemetry.db")
    """SQLite file of the store."""
    store_retention_hours: Annotated[float, Setting(p.POSITIVE_NUMBER)] = 168.0
    """Hours entities are kept in the store."""
    store_max_mb: Annotated[float, Setting(p.POSITIVE_NUMBER)] = 256.0
    """Size in MB above which the oldest entities are removed."""

    # --- logging and redaction ----------------------------------------------------------------
    log_level: Annotated[str, Setting(p.LOG_LEVEL)] = "INFO"
    """Lowest stdlib level captured: a level name (stored uppercase, WARN is WARNING) or number."""
    redaction_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Scrub secrets and PII before every sink and exporter."""
    redaction_extra_patterns: Annotated[tuple[str, ...], Setting(pl.REGEXES)] = ()
    """Extra regular expressions to redact; commas inside brackets/braces do not split."""
    redaction_allow: Annotated[tuple[str, ...], Setting(pl.NAMES)] = ()
    """Key names never redacted (avoid false positives)."""

    # --- behaviour ----------------------------------------------------------------------------
    strict: Annotated[bool, Setting(p.BOOL)] = False
    """Raise on bad configuration and internal errors instead of warning."""
    shutdown_timeout_ms: Annotated[int, Setting(p.POSITIVE_MS)] = 5000
    """One deadline, in milliseconds, shared by flush and shutdown of every signal."""
    queue_size: Annotated[int, Setting(p.POSITIVE_INT)] = 8192
    """Capacity of the bounded pipeline queue; overflow is dropped and counted."""
    batch_size: Annotated[int, Setting(p.POSITIVE_INT)] = 512
    """Most items the pipeline worker converts at once."""

    # --- alerts -------------------------------------------------------------------------------
    alert_rules: Annotated[Path | None, Setting(p.PATH)] = None
    """TOML file of `[[rules]]`."""
    alert_webhook_url: Annotated[SecretStr | None, Setting(pl.SECRET_URL, secret=True)] = None
    """Webhook (http/https URL, secret) that receives alert notifications."""

    # --- health -------------------------------------------------------------------------------
    health_port: Annotated[int | None, Setting(p.PORT)] = None
    """Port of the probe server (0 picks a free one); unset: no server."""
    health_host: Annotated[str, Setting(p.TEXT)] = "127.0.0.1"
    """Interface of the probe server (loopback by default)."""
    health_token: Annotated[SecretStr | None, Setting(p.SECRET_TEXT, secret=True)] = None
    """Bearer token the probe server requires (secret); unset: none required."""
    health_interval_s: Annotated[float, Setting(p.POSITIVE_NUMBER)] = 30.0
    """Seconds between two runs of the health checks."""

    # --- viewer -------------------------------------------------------------------------------
    ui_token: Annotated[SecretStr | None, Setting(p.SECRET_TEXT, secret=True)] = None
    """Token `flext-observability ui` requires on a non-loopback host (secret)."""
