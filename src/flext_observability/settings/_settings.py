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

import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Self

import pydantic
from pydantic import PrivateAttr, SecretStr, field_serializer, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import _sources as src
from flext_observability.settings._fields import SettingsFields
from flext_observability.settings._otlp import OtlpSignalConfig, Signal
from flext_observability.settings._parse import log_level_number
from flext_observability.settings._parse_lists import mask_url

__all__ = ["FlextObservabilitySettings", "OtlpSignalConfig", "Signal", "reset_logged_problems"]

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


def _log_once(problems: list[str]) -> None:
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


class FlextObservabilitySettings(SettingsFields):
    """Every setting of flext-observability, with where each value came from."""

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
        _log_once(problems)
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
                endpoint = f"{endpoint.rstrip('/')}/v1/{signal}"
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
