"""The `opentelemetry-instrument` entry points: `FlextDistro` and `FlextConfigurator`.

Registered as `flext_observability` in the `opentelemetry_distro` and
`opentelemetry_configurator` groups, so `opentelemetry-instrument python app.py` configures any
app with zero code change. The distro only sets defaults; the configurator calls `setup()` — the
same wiring programmatic users get.

Bad environment never turns telemetry off: an invalid variable falls back (one warning naming it)
and everything else keeps working. With `FLEXT_OBSERVABILITY_STRICT=true` the problems become a
startup error instead (the process exits with status 2 before the app runs).

When `opentelemetry-distro` (or another distro) is installed too, pin ours with
`OTEL_PYTHON_DISTRO=flext_observability` (`flext-observability run` does this for you). Once our
distro is chosen it pins our configurator too (the launcher loads configurators after the distro
ran, and otherwise takes whichever registered configurator comes first), and pins itself for the
processes the app spawns (uvicorn/multiprocessing spawn workers, reloader children), unless the
user named others. In a process that only supervises spawned servers (Django's runserver
autoreloader, `uvicorn --reload` / `--workers N`) the configurator sets nothing up: the children
it starts do.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import EntryPoint
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro  # type: ignore[attr-defined]
from opentelemetry.sdk._configuration import _BaseConfigurator

from flext_observability._internal.guard import guard
from flext_observability._internal.setup import (
    SEMCONV_DEFAULTS,
    FlextObservability,
    active,
    freeze_heap,
    setup,
)
from flext_observability._internal.supervisors import supervisor_kind
from flext_observability.exceptions import ConfigurationError
from flext_observability.settings._parse import mask_url

__all__ = ["ENTRY_POINT_NAME", "FlextConfigurator", "FlextDistro"]

ENTRY_POINT_NAME = "flext_observability"

_DEFAULTS = {
    # Our logging bridge captures stdlib logging; the logging instrumentation's own OTel
    # handler would emit every record a second time. The SDK's old switch, and the one
    # opentelemetry-instrumentation-logging (>= 0.60b0) reads before adding its LoggingHandler.
    "OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED": "false",
    "OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION": "false",
    **SEMCONV_DEFAULTS,
    # The launcher loads configurators after the distro ran: with opentelemetry-distro installed
    # too, the first registered configurator would otherwise win (nondeterministically).
    "OTEL_PYTHON_CONFIGURATOR": ENTRY_POINT_NAME,
    # Spawned children (uvicorn --workers, multiprocessing spawn, reloaders) run the launcher
    # again: they must choose this distro as well.
    "OTEL_PYTHON_DISTRO": ENTRY_POINT_NAME,
}


class FlextDistro(BaseDistro):  # type: ignore[misc] # BaseDistro is untyped
    """Sets environment defaults only (never overrides what the user set)."""

    def _configure(self, **kwargs: Any) -> None:  # noqa: ARG002 - entry-point signature
        for name, value in _DEFAULTS.items():
            os.environ.setdefault(name, value)

    def load_instrumentor(self, entry_point: EntryPoint, **kwargs: Any) -> None:
        """Load it as the base distro does, then freeze the heap (`gc_freeze`, see above)."""
        try:
            super().load_instrumentor(entry_point, **kwargs)
        finally:
            _freeze_before_app()


class FlextConfigurator(_BaseConfigurator):
    """Calls `setup()` from the environment; reports where telemetry goes on one stderr line."""

    def _configure(self, **kwargs: Any) -> None:  # noqa: ARG002 - entry-point signature
        supervisor = supervisor_kind(sys.argv, os.environ, sys.orig_argv)
        if supervisor is not None:
            # It only starts the serving processes, which set telemetry up themselves.
            sys.stderr.write(
                f"flext-observability: {supervisor} serves nothing; telemetry is set up in "
                "the processes it starts\n"
            )
            return
        try:
            obs = setup()
        except ConfigurationError as exc:
            # Only strict mode (or a broken pyproject table) gets here. We run inside the
            # interpreter's `site` import: a SystemExit there becomes "Fatal Python error:
            # init_import_site" with status 1 and a traceback, so leave directly with status 2.
            sys.stderr.write(
                f"flext-observability: configuration error: {exc}\n"
                "flext-observability: not starting the application (strict mode); exit status 2\n"
            )
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(2)
        _freeze_before_app()
        # Problems with the environment were already warned about, once each, by
        # `FlextObservabilitySettings.load()` (logger `flext_observability.settings`).
        sys.stderr.write(
            f"flext-observability: service {obs.settings.service_name!r}: "
            f"{'; '.join(_destinations(obs)) or 'no exporter and no store configured'}\n"
        )


@guard("distro.freeze_heap")
def _freeze_before_app() -> None:
    """Freeze the heap when `gc_freeze` is `auto` and our configurator set telemetry up.

    Called by the configurator and again after each instrumentor our distro loads (most import
    the library they patch), all before the application's main module runs: what is alive then
    lives as long as the process. Each `gc.freeze()` costs the same however much it moves.
    Does nothing in a process that only supervises servers (nothing set up). See `freeze_heap`.
    """
    handle = active()
    if handle is not None:
        freeze_heap(handle.settings.gc_freeze, before_app=True)


def _destinations(obs: FlextObservability) -> list[str]:
    """Where telemetry goes, for the startup line (credentials masked)."""
    settings = obs.settings
    where = []
    endpoint = settings.otlp_for("traces").endpoint
    if endpoint:
        where.append(f"OTLP to {mask_url(endpoint)}")
    if "prometheus" in settings.exporters_for("metrics"):
        host = os.environ.get("OTEL_EXPORTER_PROMETHEUS_HOST") or "localhost"
        port = os.environ.get("OTEL_EXPORTER_PROMETHEUS_PORT") or "9464"
        where.append(f"Prometheus metrics on http://{host}:{port}/metrics")
    if settings.alertmanager_url is not None:
        from flext_observability.sinks._webhook_http import (  # noqa: PLC0415 - http.client
            mask_url as mask_webhook_url,
        )

        url = settings.alertmanager_url.get_secret_value()
        where.append(f"alerts to Alertmanager at {mask_webhook_url(url)}")
    if obs.store is not None:
        where.append(f"entities in {settings.store_path} (look: flext-observability summary)")
    return where
