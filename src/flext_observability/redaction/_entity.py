"""Which fields of each entity `Redactor.redact_entity` scrubs, and how (pure, no OpenTelemetry).

| entity             | scrubbed fields                                                   |
|--------------------|-------------------------------------------------------------------|
| `FlextTrace`       | `attributes`, `events[].attributes`, `status_message`, `context`  |
| `FlextLogEntry`    | `message`, `context`, `exception.message`, `exception.stacktrace` |
| `FlextMetric`      | `tags`                                                            |
| `FlextAlert`       | `message`, `details`, `labels`                                    |
| `FlextHealthCheck` | `message`, `details`                                              |

Names, ids, enums and times are left alone. An alert keeps its `fingerprint` (computed from the
original labels) so deduplication still groups it with its earlier occurrences.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flext_observability.models import (
    Entity,
    ExceptionInfo,
    FlextAlert,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    SpanEvent,
)
from flext_observability.models._base import rebuild
from flext_observability.redaction._rules import MARKER

__all__ = ["mask_entity", "redact_entity_fields"]

E = TypeVar("E", bound=Entity)
TextFn = Callable[[str], str]
MappingFn = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


def redact_entity_fields(entity: E, text: TextFn, mapping: MappingFn) -> E:
    """Return `entity` with its fields scrubbed; the same object when nothing changed.

    Args:
        entity: any of the five entities.
        text: scrubs one string (returns it unchanged, ideally the same object, when clean).
        mapping: scrubs an attribute map; returns None when nothing changed.
    """
    update: dict[str, Any] = {}
    if isinstance(entity, FlextTrace):
        _text(update, "status_message", entity.status_message, text)
        _map(update, "attributes", entity.attributes, mapping)
        _map(update, "context", entity.context, mapping)
        events = _events(entity.events, mapping)
        if events is not None:
            update["events"] = events
    elif isinstance(entity, FlextLogEntry):
        _text(update, "message", entity.message, text)
        _map(update, "context", entity.context, mapping)
        exception = _exception(entity.exception, text)
        if exception is not None:
            update["exception"] = exception
    elif isinstance(entity, FlextMetric):
        _map(update, "tags", entity.tags, mapping)
    else:  # FlextAlert and FlextHealthCheck: a message and string/attribute maps
        _text(update, "message", entity.message, text)
        _map(update, "details", entity.details, mapping)
        if isinstance(entity, FlextAlert):
            _map(update, "labels", entity.labels, mapping)
    if not update:
        return entity
    result = rebuild(entity, update, "Invalid entity after redaction")
    if result.is_success:
        return result.value
    # Only an entity that was not valid to begin with (built with model_construct) gets here;
    # the update itself keeps every field's type, so a plain copy is as valid as the input.
    return cast("E", entity.model_copy(update=update))


def mask_entity(entity: E) -> E:
    """Return a copy with every scrubbable field replaced wholesale (the fail-closed path)."""
    update: dict[str, Any] = {}
    if isinstance(entity, FlextTrace):
        update = {
            "status_message": MARKER if entity.status_message else "",
            "attributes": dict.fromkeys(entity.attributes, MARKER),
            "context": dict.fromkeys(entity.context, MARKER),
            "events": [
                event.model_copy(update={"attributes": dict.fromkeys(event.attributes, MARKER)})
                for event in entity.events
            ],
        }
    elif isinstance(entity, FlextLogEntry):
        update = {"message": MARKER, "context": dict.fromkeys(entity.context, MARKER)}
        if entity.exception is not None:
            update["exception"] = entity.exception.model_copy(
                update={"message": MARKER, "stacktrace": MARKER}
            )
    elif isinstance(entity, FlextMetric):
        update = {"tags": dict.fromkeys(entity.tags, MARKER)}
    elif isinstance(entity, FlextAlert):
        update = {
            "message": MARKER,
            "details": dict.fromkeys(entity.details, MARKER),
            "labels": dict.fromkeys(entity.labels, MARKER),
        }
    else:
        update = {"message": MARKER, "details": dict.fromkeys(entity.details, MARKER)}
    return cast("E", entity.model_copy(update=update))


def _text(update: dict[str, Any], field: str, value: str, text: TextFn) -> None:
    new = text(value)
    if new is not value and new != value:
        update[field] = new


def _map(update: dict[str, Any], field: str, value: Mapping[str, Any], mapping: MappingFn) -> None:
    new = mapping(value)
    if new is not None:
        update[field] = new


def _exception(info: ExceptionInfo | None, text: TextFn) -> ExceptionInfo | None:
    if info is None:
        return None
    update: dict[str, Any] = {}
    _text(update, "message", info.message, text)
    _text(update, "stacktrace", info.stacktrace, text)
    return info.model_copy(update=update) if update else None


def _events(events: list[SpanEvent], mapping: MappingFn) -> list[SpanEvent] | None:
    out: list[SpanEvent] | None = None
    for index, event in enumerate(events):
        new = mapping(event.attributes)
        if new is not None:
            if out is None:
                out = list(events)
            out[index] = event.model_copy(update={"attributes": new})
    return out
