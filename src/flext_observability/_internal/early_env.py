"""Variables the OpenTelemetry SDK reads when it is *imported*, judged before it is.

`opentelemetry.sdk.trace` parses `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT` and `opentelemetry.propagate`
parses `OTEL_PROPAGATORS` at import time, and both raise on a bad value: the import of our distro,
of `setup`, of any instrumentation (or of our CLI) would fail and telemetry would be off.
`import flext_observability` runs `scrub_import_time_variables()` first: an invalid value is
warned about once (the same words the settings use), remembered in `SCRUBBED` (for `doctor`) and
removed from the environment, so the SDK imports with its default. Under `opentelemetry-instrument`
the launcher imports `opentelemetry.propagate` before any distro: only `doctor` can flag that one.
Everything else is judged later, by `setup()`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from importlib.metadata import entry_points

__all__ = ["IMPORT_TIME_VARIABLES", "SCRUBBED", "scrub_import_time_variables"]

_MAX = 2**31 - 1
_INT = re.compile(r"^\+?\d+$")
SCRUBBED: dict[str, str] = {}
"""Import-time variables removed because invalid: name -> the original value."""


def _count_ok(text: str) -> bool:
    return text.lower() == "unset" or (bool(_INT.match(text)) and int(text) <= _MAX)


def _propagators_ok(text: str) -> bool:
    installed = {entry.name for entry in entry_points(group="opentelemetry_propagator")}
    names = [item.strip() for item in text.split(",") if item.strip()]
    return all(name in installed or name == "none" for name in names)


IMPORT_TIME_VARIABLES: dict[str, tuple[Callable[[str], bool], str, str]] = {
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": (
        _count_ok,
        f"a non-negative integer (at most {_MAX})",
        "leaving it unset",
    ),
    "OTEL_PROPAGATORS": (
        _propagators_ok,
        "'none' or comma-separated names of installed 'opentelemetry_propagator' entry points",
        "using the default",
    ),
}


def scrub_import_time_variables() -> None:
    """Remove an invalid import-time variable from the environment, with one warning."""
    for name, (is_valid, expected, fallback) in IMPORT_TIME_VARIABLES.items():
        raw = os.environ.get(name)
        if raw is None or not raw.strip() or is_valid(raw.strip()):
            continue
        del os.environ[name]
        SCRUBBED[name] = raw
        logging.getLogger("flext_observability.settings").warning(
            "flext-observability configuration: %s=%r is invalid: expected %s; %s",
            name,
            raw[:200],
            expected,
            fallback,
        )
