"""Redacted, encodable copies of OpenTelemetry SDK data (used by `redaction._exporters`).

Every function returns None (or its input) when nothing had to change, so clean data is passed
on without a copy. Values are made encodable on the way, because one bad value makes the OTLP
encoder fail a whole batch: lone surrogates become U+FFFD, ints beyond int64 become strings, and
a foreign object (in a log body) becomes its redacted `repr`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link

from flext_observability._internal.convert.trace import plain_attributes
from flext_observability._internal.guard import guard
from flext_observability._internal.text import fix_surrogates, safe_repr
from flext_observability.redaction import MARKER, Redactor

__all__ = [
    "bounded",
    "bounded_list",
    "each",
    "redact_any",
    "redact_attrs",
    "redact_events",
    "redact_links",
    "shallow_copy",
]

T = TypeVar("T")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MAX_DEPTH = 8
_PLAIN = frozenset({bool, float, bytes})


def each(items: Sequence[T], fn: Callable[[T], T], site: str) -> list[T] | None:
    """Apply `fn` to every item, dropping (and reporting) the items it fails on.

    Returns None only if the batch itself cannot be iterated (the caller reports failure).
    """
    site_guard = guard(site)
    with site_guard:
        batch = list(items)
        out: list[T] = []
        for item in batch:
            # Never export what could not be scrubbed; one bad item must not sink the batch.
            with site_guard:
                out.append(fn(item))
        return out
    return None


def redact_attrs(
    redactor: Redactor, attributes: Mapping[str, Any], dropped: int
) -> BoundedAttributes | None:
    """Return redacted, encodable attributes (keeping the dropped count), or None if clean."""
    out: dict[str, Any] | None = None
    sensitive = redactor.is_sensitive
    text = redactor.redact_text
    for key, value in (plain_attributes(attributes) or {}).items():
        name = key if type(key) is str and key.isascii() else fix_surrogates(str(key))
        # Inline fast paths for the common scalars; containers and foreign values go through
        # `redact_any`. A scanned string may come back as an equal object from the text cache:
        # only a different value counts as a change (no copy of clean attributes).
        kind = type(value)
        if value is not None and sensitive(name):
            new: Any = MARKER
        elif kind is str:
            new = text(value)
            if new == value:
                new = value
        elif (
            kind is bool
            or kind is float
            or value is None
            or (kind is int and _INT64_MIN <= value <= _INT64_MAX)
        ):
            new = value
        else:
            new = redact_any(redactor, name, value, 0)
        if new is not value or name is not key:
            if out is None:
                out = dict(attributes)
            if name is not key:
                del out[key]
            out[name] = new
    return None if out is None else bounded(out, dropped)


def bounded(attributes: Mapping[str, Any], dropped: int) -> BoundedAttributes:
    bounded = BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)
    bounded.dropped = dropped
    return bounded


def redact_events(
    redactor: Redactor, events: Sequence[Event], dropped: int
) -> BoundedList[Any] | None:
    out: list[Event] | None = None
    for index, event in enumerate(events):
        attributes = redact_attrs(redactor, event.attributes or {}, event.dropped_attributes)
        name = fix_surrogates(event.name) if isinstance(event.name, str) else event.name
        if attributes is not None or name is not event.name:
            if out is None:
                out = list(events)
            out[index] = Event(
                name, attributes if attributes is not None else event.attributes, event.timestamp
            )
    return None if out is None else bounded_list(out, dropped)


def redact_links(
    redactor: Redactor, links: Sequence[Link], dropped: int
) -> BoundedList[Any] | None:
    out: list[Link] | None = None
    for index, link in enumerate(links):
        attributes = redact_attrs(redactor, link.attributes or {}, link.dropped_attributes)
        if attributes is not None:
            if out is None:
                out = list(links)
            out[index] = Link(link.context, attributes)
    return None if out is None else bounded_list(out, dropped)


def bounded_list(items: list[Any], dropped: int) -> BoundedList[Any]:
    bounded = BoundedList.from_seq(None, items)
    bounded.dropped = dropped
    return bounded


def redact_any(redactor: Redactor, key: str | None, value: Any, depth: int) -> Any:
    """Return `value` redacted as stored under `key`, and made encodable for OTLP."""
    if key is not None and value is not None and redactor.is_sensitive(key):
        return MARKER
    kind = type(value)
    if kind is str:
        text = redactor.redact_text(value)
        return value if text == value else text
    if kind is int:
        # OTLP's int_value is int64; the encoder would fail the whole batch on a bigger one.
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if kind in _PLAIN or value is None:
        return value
    return _container(redactor, value, depth)


def _container(redactor: Redactor, value: Any, depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return redactor.redact_text(safe_repr(value))
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        changed = False
        for key, item in value.items():
            name = fix_surrogates(key if type(key) is str else str(key))
            new = redact_any(redactor, name, item, depth + 1)
            changed = changed or new is not item or name is not key
            out[name] = new
        return out if changed else value
    if isinstance(value, list | tuple):
        items = [redact_any(redactor, None, item, depth + 1) for item in value]
        if all(new is old for new, old in zip(items, value)):  # noqa: B905 - same length
            return value
        return items
    return redactor.redact_text(safe_repr(value))


def shallow_copy(record: Any) -> Any:
    """Copy an API `LogRecord` (a plain object) without re-running its constructor."""
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__)
    return copy
