"""Pure converters from OpenTelemetry SDK data to entities (the edge; pipeline worker only).

The pipeline calls these on its worker thread, in batches, never on the application thread.
They never produce an invalid entity: input is sanitised (see `_convert_sanitize`) rather than
rejected. Implementation by signal:

- `_convert_trace`: `span_to_trace` (raises `ValueError` only for a span without valid ids);
- `_convert_metrics`: `metrics_to_entities` (skips and reports a bad point via `on_skip`);
- `_convert_logs`: `log_record_to_entry` (never raises);
- `_convert_stdlib`: `stdlib_record_to_entry` (never raises; imports no OpenTelemetry);
- `_convert_sanitize`: `sanitize_attributes`, `sanitize_value` and friends (no OpenTelemetry).
"""

from __future__ import annotations

from flext_observability._convert_logs import level_from_severity, log_record_to_entry
from flext_observability._convert_metrics import OnSkip, metric_to_entities, metrics_to_entities
from flext_observability._convert_sanitize import (
    MAX_REPR_LENGTH,
    MAX_STRING_LENGTH,
    clean_str,
    ns_to_datetime,
    safe_repr,
    safe_str,
    sanitize_attributes,
    sanitize_value,
)
from flext_observability._convert_stdlib import level_from_levelno, stdlib_record_to_entry
from flext_observability._convert_trace import UNNAMED_OPERATION, span_to_trace

__all__ = [
    "MAX_REPR_LENGTH",
    "MAX_STRING_LENGTH",
    "UNNAMED_OPERATION",
    "OnSkip",
    "clean_str",
    "level_from_levelno",
    "level_from_severity",
    "log_record_to_entry",
    "metric_to_entities",
    "metrics_to_entities",
    "ns_to_datetime",
    "safe_repr",
    "safe_str",
    "sanitize_attributes",
    "sanitize_value",
    "span_to_trace",
    "stdlib_record_to_entry",
]
