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

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanKind, StatusCode

from flext_observability._internal.convert.sanitize import sanitize_attributes
from flext_observability._internal.text import safe_str
from flext_observability._internal.time import ns_to_datetime
from flext_observability.models._base import trusted
from flext_observability.models._trace import FlextTrace, SpanEvent
from flext_observability.models._types import TraceKind, TraceStatus

__all__ = [
    "SPAN_KIND_OF",
    "STATUS_CODE_OF",
    "TRACE_KIND_OF",
    "TRACE_STATUS_OF",
    "UNNAMED_OPERATION",
    "plain_attributes",
    "resource_service_name",
    "scope_name",
    "span_attributes",
    "span_events",
    "span_links",
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
_ONE_MS = timedelta(milliseconds=1)
_EVENT_FIELDS = {"name", "timestamp", "attributes"}


# Every span of a provider shares one Resource, and of a tracer one scope: the last one seen
# and its name are kept (a strong reference, so its identity cannot be reused meanwhile).
_last_resource: tuple[Resource | None, str | None] = (None, None)
_last_scope: tuple[InstrumentationScope | None, str | None] = (None, None)


def resource_service_name(resource: Resource | None) -> str | None:
    """Return the resource's `service.name` as a clean string, or None when it has none."""
    global _last_resource  # noqa: PLW0603 - a one-entry identity cache
    if resource is None:
        return None
    seen, name = _last_resource
    if resource is seen:
        return name
    value = resource.attributes.get("service.name")
    name = None if value is None else safe_str(value)
    _last_resource = (resource, name)
    return name


def scope_name(scope: InstrumentationScope | None) -> str | None:
    """Return the instrumentation scope name, or None when there is no (named) scope."""
    global _last_scope  # noqa: PLW0603 - a one-entry identity cache
    if scope is None or not scope.name:
        return None
    seen, name = _last_scope
    if scope is seen:
        return name
    name = safe_str(scope.name)
    _last_scope = (scope, name)
    return name


def _operation_name(name: object) -> str:
    text = safe_str(name) if name is not None else ""
    return text if text.strip() else UNNAMED_OPERATION


def plain_attributes(attributes: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The SDK's attribute dict behind a finished span's (immutable) `BoundedAttributes`.

    Iterating `BoundedAttributes` copies it under a lock and looks every key up again; a
    finished span's attributes no longer change, so reading the dict inside is safe and about
    three times cheaper. Anything else is returned as is.
    """
    if type(attributes) is BoundedAttributes:
        inner = getattr(attributes, "_dict", None)
        if type(inner) is dict or isinstance(inner, dict):
            return inner
    return attributes


def span_attributes(span: ReadableSpan) -> Mapping[str, Any]:
    """A finished span's attributes as the plain dict the SDK keeps (see `plain_attributes`).

    `ReadableSpan.attributes` wraps them in a `MappingProxyType`, through which every read goes
    to `BoundedAttributes` (copy under a lock, one lookup per key); this reads the span's own
    `BoundedAttributes` when it has one, else falls back to the public property.
    """
    inner = getattr(span, "_attributes", None)
    if type(inner) is BoundedAttributes:
        plain = plain_attributes(inner)
        if plain is not None:
            return plain
    return span.attributes or {}


def span_events(span: ReadableSpan) -> Sequence[Event]:
    """A span's events; `()` without the copy under a lock `ReadableSpan.events` makes.

    Most spans have none: the SDK's `BoundedList` answers `len()` without its lock.
    """
    inner = getattr(span, "_events", None)
    if inner is not None and not len(inner):
        return ()
    return span.events


def span_links(span: ReadableSpan) -> Sequence[Link]:
    """A span's links; `()` without the copy under a lock when there are none."""
    inner = getattr(span, "_links", None)
    if inner is not None and not len(inner):
        return ()
    return span.links


def _event(event: Event) -> dict[str, Any]:
    # A plain dict: validated together with the span (or turned into a trusted SpanEvent).
    return {
        "name": safe_str(event.name) if event.name else "",
        "timestamp": ns_to_datetime(event.timestamp),
        "attributes": sanitize_attributes(plain_attributes(event.attributes)),
    }


def span_to_trace(
    span: ReadableSpan, *, context: Mapping[str, str] | None = None, validate: bool = False
) -> FlextTrace:
    """Convert a finished (or still open) SDK span to a `FlextTrace`.

    Every value is sanitised here, so the entity is built without validation (`trusted`);
    `validate=True` runs the model's validation instead and gives an equal entity (a property
    test holds the two equal).

    Args:
        span: The span, as a span processor's `on_end` (or `on_start`) receives it.
        context: Business context or baggage captured by the caller; empty by default.
        validate: validate the fields with pydantic instead of trusting the converter.

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
        "attributes": sanitize_attributes(span_attributes(span)),
        "events": [_event(event) for event in span_events(span)],
        "scope": scope_name(span.instrumentation_scope),
    }
    if context:
        data["context"] = {safe_str(k): safe_str(v) for k, v in context.items()}
    if start is None or validate:
        # Never started (a hand-built span): the model fills in "now"; validation does it.
        if start is not None:
            data["timestamp"] = start
        return FlextTrace.model_validate(data)
    return _trusted_trace(data, start, end)


def _trusted_trace(data: dict[str, Any], start: Any, end: Any) -> FlextTrace:
    """The entity `model_validate(data)` gives, built without validation (same fields set)."""
    fields_set = {*data, "id", "timestamp"}
    trace_id = data["trace_id"]
    span_id = data["span_id"]
    values = {
        "id": f"{trace_id}-{span_id}",
        "timestamp": start,
        "service_name": data["service_name"],
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": data["parent_span_id"],
        "operation_name": data["operation_name"],
        "kind": data["kind"],
        "start_time": start,
        "end_time": end,
        "duration_ms": None if end is None else (end - start) / _ONE_MS,
        "status": data["status"],
        "status_message": data["status_message"],
        "attributes": data["attributes"],
        "context": data.get("context", {}),
        "events": [trusted(SpanEvent, event, _EVENT_FIELDS) for event in data["events"]],
        "scope": data["scope"],
    }
    return trusted(FlextTrace, values, fields_set)
