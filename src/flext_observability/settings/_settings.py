"""`FlextObservabilitySettings`: one frozen settings object with per-field sources.

Precedence, per field: explicit argument > environment > `[tool.flext-observability]` in
`pyproject.toml` > default. Standard `OTEL_*` variables keep their OpenTelemetry meaning (timeouts
in milliseconds, an empty value is unset); ours start with `FLEXT_OBSERVABILITY_`.

Two constructors:

- `FlextObservabilitySettings.load(environ=..., pyproject=..., **overrides)` reads every source.
  A bad environment or pyproject value makes only that setting fall back (to the next source, or
  the default) and is reported in `problems` and logged once as a warning on logger
  `flext_observability.settings`; in strict mode it raises `ConfigurationError` listing them all.
- `FlextObservabilitySettings(**kwargs)` is hermetic: explicit arguments over defaults, no
  environment and no pyproject (unlike a plain pydantic-settings class), so a test or a
  programmatic user gets exactly what they wrote.

Invalid explicit arguments always raise `ConfigurationError` naming the setting, the value (secrets
masked) and what is allowed. Secrets (OTLP headers, health token, webhook URL, URL user-info)
never appear in `repr`, `str`, `dump_masked()`, serialisation or messages.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit

import pydantic
from pydantic import Field, PrivateAttr, SecretStr, field_serializer, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import _parse as p
from flext_observability.settings import _sources as src
from flext_observability.settings._otlp import OtlpSignalConfig, Signal
from flext_observability.settings._parse import log_level_number, mask_url
from flext_observability.settings._sources import SETTINGS_CONFIG, ResourceKey, Setting

__all__ = [
    "DEFAULT_EXCLUDE",
    "FlextObservabilitySettings",
    "OtlpSignalConfig",
    "Signal",
    "field_docs",
    "log_problems_once",
    "reset_logged_problems",
]

Protocol = Literal["grpc", "http/protobuf", "http/json"]
_OTLP = "OTEL_EXPORTER_OTLP_"
DEFAULT_EXCLUDE: tuple[str, ...] = (
    "/livez",
    "/readyz",
    "/healthz",
    "/health",
    "/metrics",
    "/ping",
    "/favicon.ico",
)
"""Excluded from every signal by default: our probe paths, common health and metrics paths."""

logger = logging.getLogger("flext_observability.settings")
_FALLBACK = re.compile(r"; (using .+|leaving it unset)$")

_URL_FIELDS = (
    "otlp_endpoint",
    "otlp_traces_endpoint",
    "otlp_metrics_endpoint",
    "otlp_logs_endpoint",
)
_logged_lock = threading.Lock()
_logged: set[str] = set()
_MAX_LOGGED = 1024


def log_problems_once(problems: list[str]) -> None:
    """Warn about each problem once per process (a second `load()` stays quiet)."""
    for problem in problems:
        with _logged_lock:
            if problem in _logged:
                continue
            if len(_logged) >= _MAX_LOGGED:
                _logged.clear()
            _logged.add(problem)
        logger.warning("flext-observability configuration: %s", problem)


def reset_logged_problems() -> None:
    """Forget which problems were logged, so they are logged again (tests)."""
    with _logged_lock:
        _logged.clear()


class FlextObservabilitySettings(BaseSettings):
    """Every setting of flext-observability, with where each value came from.

    Each annotation carries a `Setting` marker (parser + environment names); with no names listed
    the variable is `FLEXT_OBSERVABILITY_<FIELD>`. The docstring under each field is its
    documentation.
    """

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
        dict[str, str], Setting(p.PAIRS, ("OTEL_RESOURCE_ATTRIBUTES",))
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
    traces_sampler: Annotated[str | None, Setting(p.SAMPLER, ("OTEL_TRACES_SAMPLER",))] = None
    """OTel sampler name; a non-built-in name is looked up as an entry point (noted)."""
    traces_sampler_arg: Annotated[str | None, Setting(p.TEXT, ("OTEL_TRACES_SAMPLER_ARG",))] = None
    """Argument of the sampler (the ratio for the `*traceidratio` samplers)."""
    sampling_keep_slow_ms: Annotated[int, Setting(p.POSITIVE_MS)] = 1000
    """An unsampled span lasting at least this many milliseconds is exported anyway (as is
    every failed span), whatever the sampling ratio."""

    # --- noise policy and derived metrics -----------------------------------------------------
    exclude: Annotated[tuple[str, ...], Setting(p.GLOBS)] = DEFAULT_EXCLUDE
    """Globs over URL paths, span names and logger names excluded from every signal (spans,
    derived metrics, logs); setting it replaces the default (our probe paths and common
    health/metrics paths); `none` excludes nothing."""
    runtime_metrics: Annotated[bool, Setting(p.BOOL)] = True
    """Process and runtime metrics (CPU, memory, file descriptors, threads, GC, event-loop lag)."""

    # --- metrics export -----------------------------------------------------------------------
    metric_export_interval_ms: Annotated[
        int, Setting(p.POSITIVE_MS, ("OTEL_METRIC_EXPORT_INTERVAL",))
    ] = 60000
    """Milliseconds between two metric collections."""
    metric_export_timeout_ms: Annotated[
        int, Setting(p.POSITIVE_MS, ("OTEL_METRIC_EXPORT_TIMEOUT",))
    ] = 30000
    """Milliseconds a metric export may take."""

    # --- exporters (None: OTLP when an endpoint is configured, else none) ----------------------
    traces_exporter: Annotated[
        tuple[str, ...] | None, Setting(p.TRACES_EXPORTERS, ("OTEL_TRACES_EXPORTER",))
    ] = None
    """Span exporters; `none` (alone) gives an empty tuple; unset lets setup decide."""
    metrics_exporter: Annotated[
        tuple[str, ...] | None, Setting(p.METRICS_EXPORTERS, ("OTEL_METRICS_EXPORTER",))
    ] = None
    """Metric exporters; `none` (alone) gives an empty tuple; unset lets setup decide."""
    logs_exporter: Annotated[
        tuple[str, ...] | None, Setting(p.LOGS_EXPORTERS, ("OTEL_LOGS_EXPORTER",))
    ] = None
    """Log exporters; `none` (alone) gives an empty tuple; unset lets setup decide."""

    # --- OTLP ---------------------------------------------------------------------------------
    otlp_endpoint: Annotated[str | None, Setting(p.URL, (_OTLP + "ENDPOINT",), url=True)] = None
    """Base OTLP endpoint (http/https URL); HTTP adds `/v1/<signal>` to it."""
    otlp_traces_endpoint: Annotated[
        str | None, Setting(p.URL, (_OTLP + "TRACES_ENDPOINT",), url=True)
    ] = None
    """Traces endpoint, used as is; overrides `otlp_endpoint`."""
    otlp_metrics_endpoint: Annotated[
        str | None, Setting(p.URL, (_OTLP + "METRICS_ENDPOINT",), url=True)
    ] = None
    """Metrics endpoint, used as is; overrides `otlp_endpoint`."""
    otlp_logs_endpoint: Annotated[
        str | None, Setting(p.URL, (_OTLP + "LOGS_ENDPOINT",), url=True)
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
        dict[str, SecretStr], Setting(p.SECRET_PAIRS, (_OTLP + "HEADERS",), secret=True)
    ] = Field(default_factory=dict)
    """Headers sent with every export (secret), `k=v,k2=v2` percent-decoded."""
    otlp_traces_headers: Annotated[
        dict[str, SecretStr] | None,
        Setting(p.SECRET_PAIRS, (_OTLP + "TRACES_HEADERS",), secret=True),
    ] = None
    """Traces headers (secret); replace `otlp_headers` for traces."""
    otlp_metrics_headers: Annotated[
        dict[str, SecretStr] | None,
        Setting(p.SECRET_PAIRS, (_OTLP + "METRICS_HEADERS",), secret=True),
    ] = None
    """Metrics headers (secret); replace `otlp_headers` for metrics."""
    otlp_logs_headers: Annotated[
        dict[str, SecretStr] | None,
        Setting(p.SECRET_PAIRS, (_OTLP + "LOGS_HEADERS",), secret=True),
    ] = None
    """Logs headers (secret); replace `otlp_headers` for logs."""
    otlp_timeout_ms: Annotated[int, Setting(p.POSITIVE_MS, (_OTLP + "TIMEOUT",))] = 10000
    """Milliseconds one OTLP export may take (milliseconds as the OTel spec says, not seconds)."""
    otlp_traces_timeout_ms: Annotated[
        int | None, Setting(p.POSITIVE_MS, (_OTLP + "TRACES_TIMEOUT",))
    ] = None
    """Traces export timeout in milliseconds; overrides `otlp_timeout_ms`."""
    otlp_metrics_timeout_ms: Annotated[
        int | None, Setting(p.POSITIVE_MS, (_OTLP + "METRICS_TIMEOUT",))
    ] = None
    """Metrics export timeout in milliseconds; overrides `otlp_timeout_ms`."""
    otlp_logs_timeout_ms: Annotated[
        int | None, Setting(p.POSITIVE_MS, (_OTLP + "LOGS_TIMEOUT",))
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
        int | None, Setting(p.COUNT_LIMIT, ("OTEL_ATTRIBUTE_COUNT_LIMIT",))
    ] = None
    """Most attributes kept per span, event, link or log record."""
    attribute_value_length_limit: Annotated[
        int | None, Setting(p.COUNT_LIMIT, ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",))
    ] = None
    """Longest string attribute value kept (longer ones are truncated)."""
    span_attribute_count_limit: Annotated[
        int | None, Setting(p.COUNT_LIMIT, ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",))
    ] = None
    """Most attributes kept per span."""
    span_event_count_limit: Annotated[
        int | None, Setting(p.COUNT_LIMIT, ("OTEL_SPAN_EVENT_COUNT_LIMIT",))
    ] = None
    """Most events kept per span."""
    span_link_count_limit: Annotated[
        int | None, Setting(p.COUNT_LIMIT, ("OTEL_SPAN_LINK_COUNT_LIMIT",))
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

    outbox_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Keep OTLP batches (HTTP and gRPC) the collector could not take in an outbox next to the
    store and replay them in order when it is back (needs the store enabled)."""
    outbox_max_mb: Annotated[float, Setting(p.POSITIVE_NUMBER)] = 64.0
    """Size in MB of the outbox per signal; the oldest batches are dropped (and counted) first."""
    outbox_max_age_s: Annotated[float, Setting(p.POSITIVE_NUMBER)] = 3600.0
    """Seconds a batch may wait in the outbox before it is dropped (and counted)."""

    # --- logging and redaction ----------------------------------------------------------------
    log_level: Annotated[str, Setting(p.LOG_LEVEL)] = "INFO"
    """Lowest stdlib level captured: a level name (stored uppercase, WARN is WARNING) or number."""
    diagnostics_level: Annotated[str, Setting(p.LOG_LEVEL)] = "WARNING"
    """Lowest level of our and the SDK's own diagnostics printed to stderr (one line each,
    rate-limited) when the app configured no logging handler for them."""
    redaction_enabled: Annotated[bool, Setting(p.BOOL)] = True
    """Scrub secrets and PII before every sink and exporter."""
    redaction_extra_patterns: Annotated[tuple[str, ...], Setting(p.REGEXES)] = ()
    """Extra regular expressions to redact; commas inside brackets/braces do not split."""
    redaction_allow: Annotated[tuple[str, ...], Setting(p.NAMES)] = ()
    """Key names never redacted (avoid false positives)."""

    # --- behaviour ----------------------------------------------------------------------------
    strict: Annotated[bool, Setting(p.BOOL)] = False
    """Raise on bad configuration and internal errors instead of warning."""
    handle_signals: Annotated[bool, Setting(p.BOOL)] = True
    """On SIGTERM/SIGINT, flush within the shutdown deadline, then keep the handler's behaviour
    (a default action still kills the process by that signal; an app's handler still runs)."""
    shutdown_timeout_ms: Annotated[int, Setting(p.POSITIVE_MS)] = 5000
    """One deadline, in milliseconds, shared by flush and shutdown of every signal."""
    queue_size: Annotated[int, Setting(p.POSITIVE_INT)] = 8192
    """Capacity of the bounded pipeline queue; overflow is dropped and counted."""
    batch_size: Annotated[int, Setting(p.POSITIVE_INT)] = 512
    """Most items the pipeline worker converts at once."""
    gc_freeze: Annotated[Literal["auto", "true", "false"], Setting(p.AUTO_BOOL)] = "auto"
    """Move the objects alive once telemetry is set up to the garbage collector's permanent
    generation (`gc.freeze()`), so its full collections stop walking them: `auto` does it under
    `opentelemetry-instrument` once the instrumentors loaded (before the application's code),
    `true` also after a programmatic `setup()`, `false` never."""

    # --- alerts -------------------------------------------------------------------------------
    alert_rules: Annotated[Path | None, Setting(p.PATH)] = None
    """TOML file of `[[rules]]`."""
    alert_webhook_url: Annotated[SecretStr | None, Setting(p.SECRET_URL, secret=True)] = None
    """Webhook (http/https URL, secret) that receives alert notifications."""
    alertmanager_url: Annotated[SecretStr | None, Setting(p.SECRET_URL, secret=True)] = None
    """Alertmanager base URL (http/https, secret); alerts are posted to `/api/v2/alerts`."""

    # --- health -------------------------------------------------------------------------------
    health_port: Annotated[int | None, Setting(p.PORT)] = None
    """Port of the probe server (0 picks a free one); unset: no server."""
    health_host: Annotated[str, Setting(p.TEXT)] = "127.0.0.1"
    """Interface of the probe server (loopback by default)."""
    health_token: Annotated[SecretStr | None, Setting(p.SECRET_TEXT, secret=True)] = None
    """Bearer token the probe server requires (secret); unset: none required."""
    health_interval_s: Annotated[float, Setting(p.POSITIVE_NUMBER)] = 30.0
    """Seconds between two runs of the health checks."""

    # --- viewer ---------------------------------------------------------------------------------
    ui_token: Annotated[SecretStr | None, Setting(p.SECRET_TEXT, secret=True)] = None
    """Token `flext-observability ui` requires on a non-loopback host (secret)."""

    # --- behaviour ------------------------------------------------------------------------------
    _sources: dict[str, str] = PrivateAttr(default_factory=dict)
    _problems: tuple[str, ...] = PrivateAttr(default=())
    _notes: tuple[str, ...] = PrivateAttr(default=())

    def __init__(self, **values: Any) -> None:
        """Build from explicit values only (no environment, no pyproject).

        Raises:
            ConfigurationError: an unknown name or an invalid value; secrets are masked.
        """
        try:
            super().__init__(**values)
        except pydantic.ValidationError as exc:
            raise _configuration_error(exc) from None
        self._sources = {
            name: "argument" if name in self.model_fields_set else "default"
            for name in type(self).model_fields
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keep construction hermetic: `load()` reads the environment and pyproject itself."""
        del settings_cls, env_settings, dotenv_settings, file_secret_settings
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _parse_arguments(cls, data: Any) -> Any:
        """Run every given value through its field's parser (the one shared mechanism)."""
        if not isinstance(data, Mapping):
            return data
        return src.parse_explicit(_table(), data)

    @field_serializer(*_URL_FIELDS)
    def _mask_url_credentials(self, value: str | None) -> str | None:
        return None if value is None else mask_url(value)

    # --- constructors --------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        pyproject: Path | None = None,
        **overrides: Any,
    ) -> Self:
        """Resolve every setting: `overrides` > `environ` > pyproject table > default.

        Args:
            environ: The environment to read; `os.environ` when None.
            pyproject: The pyproject.toml to read; `./pyproject.toml` (if present) when None.
            **overrides: Explicit settings; invalid ones raise.

        Raises:
            ConfigurationError: an invalid override, an explicit `pyproject` path that is missing,
                or, in strict mode, any invalid environment or pyproject value.
        """
        table = _table()
        explicit = src.parse_explicit(table, overrides)
        env = os.environ if environ is None else environ
        problems: list[str] = []
        if pyproject is not None and not pyproject.is_file():
            raise ConfigurationError(f"pyproject={str(pyproject)!r} is invalid: no such file")
        try:
            table_values = src.read_pyproject(cls, pyproject)
        except (OSError, ValueError) as exc:
            table_values = {}
            problems.append(f"pyproject.toml could not be read ({exc}); ignored")
        except RecursionError:
            table_values = {}
            problems.append("pyproject.toml could not be read (nested too deeply); ignored")
        result = src.resolve(table, explicit=explicit, environ=env, pyproject=table_values)
        problems.extend(result.problems)
        if problems and result.values.get("strict", False):
            # In strict mode nothing falls back: drop the "; using ..." half of each message.
            listing = "\n".join(f"  - {_FALLBACK.sub('', problem)}" for problem in problems)
            raise ConfigurationError(f"invalid configuration (strict mode):\n{listing}")
        settings = cls(**result.values)
        settings._sources = dict(result.sources)
        settings._problems = tuple(problems)
        settings._notes = tuple(result.notes)
        log_problems_once(problems)
        for note in result.notes:
            logger.info("flext-observability configuration: %s", note)
        return settings

    def with_overrides(self, **overrides: Any) -> Self:
        """Return a copy with `overrides` applied as explicit arguments (sources updated)."""
        explicit = src.parse_explicit(_table(), overrides)
        kept = {n: getattr(self, n) for n, s in self._sources.items() if s != "default"}
        cls = type(self)
        new = cls(**(kept | explicit))
        new._sources = self._sources | dict.fromkeys(explicit, "argument")
        new._problems, new._notes = self._problems, self._notes
        return new

    # --- provenance ----------------------------------------------------------------------------
    @property
    def sources(self) -> Mapping[str, str]:
        """Where each field's value came from: argument, env:<NAME>, pyproject or default."""
        return dict(self._sources)

    def source_of(self, name: str) -> str:
        """Return where the value of setting `name` came from.

        Raises:
            ConfigurationError: `name` is not a setting.
        """
        if name not in self._sources:
            raise ConfigurationError(f"unknown setting {name!r}{src.close_matches(name, _table())}")
        return self._sources[name]

    @property
    def problems(self) -> tuple[str, ...]:
        """Messages about invalid environment/pyproject values that were ignored."""
        return self._problems

    @property
    def notes(self) -> tuple[str, ...]:
        """Informational messages (e.g. a sampler or exporter taken from an entry point)."""
        return self._notes

    # --- derived values ------------------------------------------------------------------------
    @property
    def shutdown_timeout_s(self) -> float:
        """The shared shutdown deadline in seconds."""
        return self.shutdown_timeout_ms / 1000.0

    @property
    def log_level_number(self) -> int:
        """The numeric stdlib level of `log_level`."""
        return log_level_number(self.log_level)

    def otlp_for(self, signal: Signal) -> OtlpSignalConfig:
        """Return the effective OTLP endpoint, protocol, headers and timeout of `signal`."""
        protocol = getattr(self, f"otlp_{signal}_protocol") or self.otlp_protocol
        endpoint: str | None = getattr(self, f"otlp_{signal}_endpoint")
        if endpoint is None and self.otlp_endpoint is not None:
            endpoint = self.otlp_endpoint
            if protocol != "grpc":
                endpoint = _join_signal_path(endpoint, signal)
        headers = getattr(self, f"otlp_{signal}_headers")
        timeout_ms = getattr(self, f"otlp_{signal}_timeout_ms")
        return OtlpSignalConfig(
            signal=signal,
            endpoint=endpoint,
            protocol=protocol,
            headers=dict(self.otlp_headers if headers is None else headers),
            timeout_s=(self.otlp_timeout_ms if timeout_ms is None else timeout_ms) / 1000.0,
            compression=self.otlp_compression,
            insecure=self.otlp_insecure,
        )

    def exporters_for(self, signal: Signal) -> tuple[str, ...]:
        """Return the configured exporters, or `("otlp",)` when unset and an endpoint exists."""
        configured: tuple[str, ...] | None = getattr(self, f"{signal}_exporter")
        if configured is not None:
            return configured
        return ("otlp",) if self.otlp_for(signal).endpoint is not None else ()

    def resource_attributes_full(self) -> dict[str, str]:
        """Merge service name, version and environment over `resource_attributes`."""
        merged = dict(self.resource_attributes)
        merged["service.name"] = self.service_name
        if self.service_version is not None:
            merged["service.version"] = self.service_version
        if self.environment is not None:
            merged["deployment.environment.name"] = self.environment
        return merged

    # --- safe output ---------------------------------------------------------------------------
    def dump_masked(self) -> dict[str, object]:
        """Return JSON-friendly values with every secret shown as `'***'`."""
        return {name: _masked(name, getattr(self, name)) for name in type(self).model_fields}

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Show fields with URL credentials masked (SecretStr masks itself)."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            yield name, mask_url(value) if name in _URL_FIELDS and value is not None else value


@functools.cache
def field_docs() -> dict[str, str]:
    """Each setting's documentation: the docstring under its field, read from the source.

    Read on demand (documentation and tools), not at import: pydantic's
    `use_attribute_docstrings` parses this module's source on every startup.
    """
    import ast  # noqa: PLC0415 - documentation only, never at startup
    import inspect  # noqa: PLC0415 - same
    import textwrap  # noqa: PLC0415 - same

    tree = ast.parse(textwrap.dedent(inspect.getsource(FlextObservabilitySettings)))
    docs: dict[str, str] = {}
    body = tree.body[0].body if isinstance(tree.body[0], ast.ClassDef) else []
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[node.target.id] = inspect.cleandoc(following.value.value)
    return docs


def _join_signal_path(endpoint: str, signal: Signal) -> str:
    """Append `/v1/<signal>` to the base endpoint's path, before any query or fragment."""
    parts = urlsplit(endpoint)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/v1/{signal}"))


def _masked(name: str, value: object) -> object:
    if isinstance(value, SecretStr):
        return "***"
    if isinstance(value, dict):
        return {k: "***" if isinstance(v, SecretStr) else v for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if name in _URL_FIELDS and isinstance(value, str):
        return mask_url(value)
    return value


def _table() -> Mapping[str, src.Spec]:
    return src.table_of(FlextObservabilitySettings)


def _configuration_error(exc: pydantic.ValidationError) -> ConfigurationError:
    """Turn a validation error into our error, keeping the parser's message, never the input."""
    messages = []
    for error in exc.errors():
        original = error.get("ctx", {}).get("error")
        if isinstance(original, ConfigurationError):
            messages.append(str(original))
        else:
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            messages.append(f"{where} is invalid: {error['msg']}")
    return ConfigurationError("; ".join(messages))
