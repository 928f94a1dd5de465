"""Pure converters from OpenTelemetry SDK data to entities (the edge; pipeline worker only).

The pipeline calls these on its worker thread, in batches, never on the application thread.
They never produce an invalid entity: input is sanitised (see `sanitize`) rather than
rejected. Implementation by signal:

- `trace`: `span_to_trace` (raises `ValueError` only for a span without valid ids);
- `metrics`: `metrics_to_entities` (skips and reports a bad point via `on_skip`);
- `logs`: `log_record_to_entry` (never raises);
- `stdlib`: `stdlib_record_to_entry` (never raises; imports no OpenTelemetry);
- `sanitize`: `sanitize_attributes`, `sanitize_value` and friends (no OpenTelemetry).
"""
