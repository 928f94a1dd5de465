"""Convert an OpenTelemetry SDK span to a `FlextTrace` (pure; runs on the pipeline worker).

Decisions:
- ids are lowercase hex (`032x` / `016x`); `parent_span_id` is None for roots.
- an empty or blank span name becomes `UNNAMED_OPERATION` (the model requires a non-empty name).
- times are truncated from nanoseconds to microseconds by floor division, which is monotonic,
  and `end_time` is clamped to `start_time` (an explicit SDK `end_time` may precede the start),
  so the derived `duration_ms` is never negative. An unfinished span keeps `end_time=None`.
- `scope` is the instrumentation scope name (None when absent or empty); `service_name` is the
  resource's `service.name` (None when absent).
- `ReadableSpan` carries no baggage, so `context` is empty unless the caller passes one (the span
  processor may capture baggage in `on_start`). Links are not mapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, StatusCode

from flext_observability._internal.convert.sanitize import sanitize_attributes
from flext_observability._internal.text import safe_str
from flext_observability._internal.time import ns_to_datetime
from flext_observability.models._trace import FlextTrace
from flext_observability.models._types import TraceKind, TraceStatus

__all__ = [
    "SPAN_KIND_OF",
    "STATUS_CODE_OF",
    "TRACE_KIND_OF",
    "TRACE_STATUS_OF",
    "UNNAMED_OPERATION",
    "resource_service_name",
    "scope_name",
    "span_to_trace",
]

UNNAMED_OPERATION = "<unnamed>"
"""`operation_name` of a span whose name is empty or blank."""

TRACE_KIND_OF: Final = {
    SpanKind.INTERNAL: TraceKind.INTERNAL,
    SpanKind.SERVER: TraceKind.SERVER,
    SpanKind.CLIENT: TraceKind.CLIENT,
    SpanKind.PRODUCER: TraceKind.PRODUCER,
    SpanKind.CONSUMER: TraceKind.CONSUMER,
}
"""The one span-kind table (OTel -> entity); `SPAN_KIND_OF` is its inverse."""
SPAN_KIND_OF: Final = {kind: span_kind for span_kind, kind in TRACE_KIND_OF.items()}
TRACE_STATUS_OF: Final = {
    StatusCode.UNSET: TraceStatus.UNSET,
    StatusCode.OK: TraceStatus.OK,
    StatusCode.ERROR: TraceStatus.ERROR,
}
"""The one status table (OTel -> entity); `STATUS_CODE_OF` is its inverse."""
STATUS_CODE_OF: Final = {status: code for code, status in TRACE_STATUS_OF.items()}
_TRACE_ID_LIMIT = 2**128
_SPAN_ID_LIMIT = 2**64


def resource_service_name(resource: Resource | None) -> str | None:
    """Return the resource's `service.name` as a clean string, or None when it has none."""
    if resource is None:
        return None
    value = resource.attributes.get("service.name")
    return None if value is None else safe_str(value)


def scope_name(scope: InstrumentationScope | None) -> str | None:
    """Return the instrumentation scope name, or None when there is no (named) scope."""
    if scope is None or not scope.name:
        return None
    return safe_str(scope.name)


def _operation_name(name: object) -> str:
    text = safe_str(name) if name is not None else ""
    return text if text.strip() else UNNAMED_OPERATION


def _event(event: Event) -> dict[str, Any]:
    # A plain dict: validated together with the span, which is cheaper than a SpanEvent each.
    return {
        "name": safe_str(event.name) if event.name else "",
        "timestamp": ns_to_datetime(event.timestamp),
        "attributes": sanitize_attributes(event.attributes),
    }


def span_to_trace(span: ReadableSpan, *, context: Mapping[str, str] | None = None) -> FlextTrace:
    """Convert a finished (or still open) SDK span to a `FlextTrace`.

    Args:
        span: The span, as a span processor's `on_end` (or `on_start`) receives it.
        context: Business context or baggage captured by the caller; empty by default.

    Returns:
        The entity; attribute, event and string values are sanitised, never rejected.

    Raises:
        ValueError: The span has no valid span context (no trace or span id). SDK spans that
            reach a processor always have one.
    """
    span_context = span.context
    if (
        span_context is None
        or not 0 < span_context.trace_id < _TRACE_ID_LIMIT
        or not 0 < span_context.span_id < _SPAN_ID_LIMIT
    ):
        msg = "Invalid trace: the span has no valid span context"
        raise ValueError(msg)
    parent = span.parent
    parent_id = (
        format(parent.span_id, "016x")
        if parent is not None and 0 < parent.span_id < _SPAN_ID_LIMIT
        else None
    )
    start_ns = span.start_time
    end_ns = span.end_time
    if start_ns is None:  # never started: only possible for hand-built ReadableSpans
        start_ns = end_ns
    start = ns_to_datetime(start_ns) if start_ns is not None else None
    end = None
    if end_ns is not None:
        end = ns_to_datetime(end_ns)
        if start is not None and end < start:
            end = start
    status = span.status
    data: dict[str, Any] = {
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
        "parent_span_id": parent_id,
        "operation_name": _operation_name(span.name),
        "service_name": resource_service_name(span.resource),
        "kind": TRACE_KIND_OF.get(span.kind, TraceKind.INTERNAL),
        "start_time": start,
        "end_time": end,
        "status": TRACE_STATUS_OF.get(status.status_code, TraceStatus.UNSET),
        "status_message": safe_str(status.description) if status.description else "",
        "attributes": sanitize_attributes(span.attributes),
        "events": [_event(event) for event in span.events],
        "scope": scope_name(span.instrumentation_scope),
    }
    if context:
        data["context"] = {safe_str(k): safe_str(v) for k, v in context.items()}
    if start is not None:
        data["timestamp"] = start
    return FlextTrace.model_validate(data)
