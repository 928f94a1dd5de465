"""Settings: one frozen `FlextObservabilitySettings` object with a source for every value.

Precedence, per field: explicit argument > environment > `[tool.flext-observability]` in
`pyproject.toml` > default. See `FlextObservabilitySettings` for the two constructors.
"""

from __future__ import annotations

from flext_observability._internal.exports import publish
from flext_observability.settings._settings import (
    FlextObservabilitySettings,
    OtlpSignalConfig,
    Signal,
    field_docs,
    reset_logged_problems,
)

__all__ = [
    "FlextObservabilitySettings",
    "OtlpSignalConfig",
    "Signal",
    "field_docs",
    "reset_logged_problems",
]

publish(globals(), __all__)
