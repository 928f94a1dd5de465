"""OTLP requests written straight as protobuf bytes, equal to the SDK encoders' output.

The SDK's encoders (`encode_spans`, `encode_logs`) build a protobuf message object per span or
record, attribute, value and event from Python, then serialize it: ~40 µs per typical server
span and ~20 µs per log record on this project's machines, paid by the export lane
(`_internal/export_lane.py`) and the logs exporter's batch thread. Here each item is written as
protobuf wire format directly (`bytes` pieces joined once per request) with the SDK's exact
semantics, so the outbox (`_internal/outbox.py`) sends and spills the same bytes:

- items grouped by resource, then by instrumentation scope, in first-seen order (resources and
  scopes compared by equality, as the SDK's dicts do);
- spans: kind +1 (`SPAN_KIND_INTERNAL` = 1 ...), `flags` with the "has is-remote" bit and the
  parent's "is remote" bit (a link's own context for links), a status message always present,
  the trace state as `k=v,k2=v2`, no trace state on links;
- log records: the body always present (None: an empty value), zero ids and flags left out,
  the severity number's value;
- attribute values as `AnyValue`: bool before int, str, int (64-bit), float, bytes, sequences as
  arrays, mappings as key-value lists (keys through `str`), None as an empty value; an attribute
  the SDK could not encode (an int beyond 64 bits, a string that is not UTF-8, another type) is
  left out, as the SDK leaves it out, and said once on logger `flext_observability`.

`tests/internal/test_otlp_wire.py` holds the output byte-equal to the SDK encoders' over
generated spans and log records (every value type, events, links, parents, trace states,
bodies, severities, resources, scopes).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Link, SpanKind

from flext_observability._internal.convert.trace import span_attributes, span_events, span_links
from flext_observability._internal.guard import logger

__all__ = ["encode_log_request", "encode_span_request"]

_VARINT = [bytes((n,)) for n in range(128)]
_DOUBLE = struct.Struct("<d").pack
_FIXED64 = struct.Struct("<Q").pack
_FIXED32 = struct.Struct("<I").pack
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

_KIND = {kind: _VARINT[kind.value + 1] for kind in SpanKind}
_HAS_IS_REMOTE = 0x100  # SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = 0x200  # SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
_FLAGS_LOCAL = b"\x85\x01" + _FIXED32(_HAS_IS_REMOTE)  # field 16, fixed32
_FLAGS_REMOTE = b"\x85\x01" + _FIXED32(_HAS_IS_REMOTE | _IS_REMOTE)
_LINK_FLAGS_LOCAL = b"\x35" + _FIXED32(_HAS_IS_REMOTE)  # field 6, fixed32
_LINK_FLAGS_REMOTE = b"\x35" + _FIXED32(_HAS_IS_REMOTE | _IS_REMOTE)

_said_skipped = False
_KEY_VALUES: dict[tuple[str, type, object], bytes] = {}
"""Encoded `KeyValue` bodies of str/int/bool attributes; cleared when it reaches the bound."""
_KEY_VALUES_MAX = 8192
_CACHED_TEXT_MAX = 128
"""Longer keys and text values are encoded each time: the cache holds at most 8192 entries of
at most 128 + 128 characters (and ints of at most 64 bits)."""


class _Unencodable(Exception):  # noqa: N818 - internal signal, never escapes this module
    """An attribute value the SDK's encoder would refuse (it then leaves the attribute out)."""


def _varint(value: int) -> bytes:
    """Unsigned varint (an int64 below zero as its 64-bit two's complement)."""
    if 0 <= value < 128:  # noqa: PLR2004 - one byte
        return _VARINT[value]
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while value >= 128:  # noqa: PLR2004
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes, message): tag, length, payload."""
    return tag + _varint(len(payload)) + payload


def _text(value: str) -> bytes:
    try:
        return value.encode()
    except UnicodeEncodeError as exc:  # a lone surrogate: protobuf refuses it too
        raise _Unencodable from exc


def _bool_value(value: bool) -> bytes:  # noqa: FBT001 - an encoder, not a switch
    return b"\x10\x01" if value else b"\x10\x00"


def _string_value(value: str) -> bytes:
    return _field(b"\x0a", _text(value))


def _int_value(value: int) -> bytes:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise _Unencodable
    return b"\x18" + _varint(value)


def _double_value(value: float) -> bytes:
    return b"\x21" + _DOUBLE(value)


def _bytes_value(value: bytes) -> bytes:
    return _field(b"\x3a", value)


# The SDK's order of `isinstance` checks (bool before int); exact types first, by lookup.
_SCALAR_ORDER: tuple[tuple[type, Any], ...] = (
    (bool, _bool_value),
    (str, _string_value),
    (int, _int_value),
    (float, _double_value),
    (bytes, _bytes_value),
)
_SCALARS: dict[type, Any] = dict(_SCALAR_ORDER)


def _any_value(value: Any) -> bytes:
    """`AnyValue` message body (oneof fields are written even when they hold a default)."""
    if value is None:
        return b""
    encode = _SCALARS.get(type(value))
    if encode is not None:
        return bytes(encode(value))
    for kind, encode in _SCALAR_ORDER:  # subclasses: an IntEnum, a str subclass, ...
        if isinstance(value, kind):
            return bytes(encode(value))
    if isinstance(value, Sequence):
        return _field(b"\x2a", b"".join([_field(b"\x0a", _any_value(item)) for item in value]))
    if isinstance(value, Mapping):
        pairs = b"".join([_field(b"\x0a", _key_value(str(k), v)) for k, v in value.items()])
        return _field(b"\x32", pairs)
    raise _Unencodable


def _key_value(key: str, value: Any) -> bytes:
    head = _field(b"\x0a", _text(key)) if key else b""
    return head + _field(b"\x12", _any_value(value))


def _attributes(tag: bytes, attributes: Mapping[str, Any] | None) -> bytes:
    """Every attribute as a repeated `KeyValue` field; one the SDK cannot encode is left out."""
    if not attributes:
        return b""
    pieces = []
    cache = _KEY_VALUES
    for key, value in attributes.items():
        kind = type(value)
        try:
            if len(key) <= _CACHED_TEXT_MAX and (
                (kind is str and len(value) <= _CACHED_TEXT_MAX) or kind is int or kind is bool
            ):
                # Most attributes repeat from span to span (method, route, host, ...): their
                # `KeyValue` is encoded once. Floats are not cached (-0.0 equals 0.0), nor long
                # text (a SQL statement, a payload): the cache stays small whatever comes.
                cache_key = (key, kind, value)
                body = cache.get(cache_key)
                if body is None:
                    body = _key_value(key, value)
                    if len(cache) >= _KEY_VALUES_MAX:
                        cache.clear()
                    cache[cache_key] = body
            else:
                body = _key_value(key, value)
        except Exception:  # noqa: BLE001 - as the SDK: any failure leaves this attribute out
            _say_skipped(key)
            continue
        pieces.append(tag + _varint(len(body)) + body)
    return b"".join(pieces)


def _say_skipped(key: str) -> None:
    global _said_skipped  # noqa: PLW0603 - said once per process
    if not _said_skipped:
        _said_skipped = True
        logger.warning(
            "flext-observability: an attribute could not be encoded for OTLP and was left out "
            "of the export (key %r; an int beyond 64 bits, text that is not UTF-8 or an "
            "unsupported type); further ones are left out silently, as the SDK does",
            key,
        )


def _span(span: ReadableSpan) -> bytes:
    context = span.get_span_context()
    if context is None:  # the SDK's encoder fails on it too
        msg = "a span without a span context"
        raise ValueError(msg)
    parts = [
        b"\x0a\x10" + context.trace_id.to_bytes(16, "big"),
        b"\x12\x08" + context.span_id.to_bytes(8, "big"),
    ]
    trace_state = context.trace_state
    if trace_state:
        parts.append(_field(b"\x1a", _text(",".join(f"{k}={v}" for k, v in trace_state.items()))))
    parent = span.parent
    if parent:
        parts.append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
    if span.name:
        parts.append(_field(b"\x2a", _text(span.name)))
    parts.append(b"\x30" + _KIND[span.kind])
    if span.start_time:
        parts.append(b"\x39" + _FIXED64(span.start_time))
    if span.end_time:
        parts.append(b"\x41" + _FIXED64(span.end_time))
    parts.append(_attributes(b"\x4a", span_attributes(span)))
    if span.dropped_attributes:
        parts.append(b"\x50" + _varint(span.dropped_attributes))
    _span_tail(span, parts)
    parts.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
    return b"".join(parts)


def _span_tail(span: ReadableSpan, parts: list[bytes]) -> None:
    """Fields 11 to 15: events, links, their dropped counts, the status (always present)."""
    parts.extend(_field(b"\x5a", _event(event)) for event in span_events(span))
    if span.dropped_events:
        parts.append(b"\x60" + _varint(span.dropped_events))
    parts.extend(_field(b"\x6a", _link(link)) for link in span_links(span))
    if span.dropped_links:
        parts.append(b"\x70" + _varint(span.dropped_links))
    status = span.status
    if status is not None:
        body = b""
        if status.description:
            body += _field(b"\x12", _text(status.description))
        if status.status_code.value:
            body += b"\x18" + _varint(status.status_code.value)
        parts.append(b"\x7a" + _varint(len(body)) + body)


def _event(event: Any) -> bytes:
    body = b""
    if event.timestamp:
        body += b"\x09" + _FIXED64(event.timestamp)
    if event.name:
        body += _field(b"\x12", _text(event.name))
    body += _attributes(b"\x1a", event.attributes)
    if event.dropped_attributes:
        body += b"\x20" + _varint(event.dropped_attributes)
    return body


def _link(link: Link) -> bytes:
    context = link.context
    body = b"\x0a\x10" + context.trace_id.to_bytes(16, "big")
    body += b"\x12\x08" + context.span_id.to_bytes(8, "big")
    body += _attributes(b"\x22", link.attributes)
    if link.dropped_attributes:
        body += b"\x28" + _varint(link.dropped_attributes)
    return body + (_LINK_FLAGS_REMOTE if context.is_remote else _LINK_FLAGS_LOCAL)


def _scope(scope: Any) -> bytes:
    if scope is None:
        return b""
    body = b""
    if scope.name:
        body += _field(b"\x0a", _text(scope.name))
    if scope.version:
        body += _field(b"\x12", _text(scope.version))
    return body + _attributes(b"\x1a", scope.attributes)


def _log(record: ReadableLogRecord) -> bytes:
    """A `LogRecord` message body, as the SDK's `_encode_log` fills it."""
    log = record.log_record
    parts = []
    if log.timestamp:
        parts.append(b"\x09" + _FIXED64(log.timestamp))
    severity = getattr(log.severity_number, "value", None)
    if severity:
        parts.append(b"\x10" + _varint(severity))
    if log.severity_text:
        parts.append(_field(b"\x1a", _text(log.severity_text)))
    parts.append(_field(b"\x2a", _any_value(log.body)))  # a body the SDK cannot encode fails
    parts.append(_attributes(b"\x32", log.attributes))
    if record.dropped_attributes:
        parts.append(b"\x38" + _varint(record.dropped_attributes))
    flags = int(log.trace_flags)  # None fails, as in the SDK
    if flags:
        parts.append(b"\x45" + _FIXED32(flags))
    trace_id, span_id = log.trace_id, log.span_id
    if trace_id != 0:  # None fails below, as in the SDK
        parts.append(b"\x4a\x10" + trace_id.to_bytes(16, "big"))
    if span_id != 0:
        parts.append(b"\x52\x08" + span_id.to_bytes(8, "big"))
    if log.observed_timestamp:
        parts.append(b"\x59" + _FIXED64(log.observed_timestamp))
    if log.event_name:
        parts.append(_field(b"\x62", _text(log.event_name)))
    return b"".join(parts)


def _request(items: Iterable[Any], encode: Callable[[Any], bytes]) -> bytes:
    """`Export*ServiceRequest` bytes: items grouped by resource, then scope, first-seen order.

    Equal resources (scopes) share a group, as in the SDK's dicts; the equality check (a JSON
    hash for a resource) runs only when the object differs from the previous item's. Spans and
    log records use the same field numbers for these levels (resource 1, scopes 2, schema 3).
    """
    groups: dict[Any, dict[Any, list[bytes]]] = {}
    last_resource: Any = object()
    last_scope: Any = object()
    scopes: dict[Any, list[bytes]] = {}
    encoded: list[bytes] = []
    for item in items:
        resource = item.resource
        scope = item.instrumentation_scope or None
        if resource is not last_resource:
            scopes = groups.setdefault(resource, {})
            last_resource, last_scope = resource, object()
        if scope is not last_scope:
            encoded = scopes.setdefault(scope, [])
            last_scope = scope
        encoded.append(encode(item))
    requests = []
    for resource, by_scope in groups.items():
        body = _attributes(b"\x0a", resource.attributes)
        resource_part = [_field(b"\x0a", body)]
        for scope, messages in by_scope.items():
            scope_part = _field(b"\x0a", _scope(scope))
            scope_part += b"".join([_field(b"\x12", message) for message in messages])
            schema = scope.schema_url if scope is not None else None
            if schema:
                scope_part += _field(b"\x1a", _text(schema))
            resource_part.append(_field(b"\x12", scope_part))
        if resource.schema_url:
            resource_part.append(_field(b"\x1a", _text(resource.schema_url)))
        requests.append(_field(b"\x0a", b"".join(resource_part)))
    return b"".join(requests)


def encode_span_request(spans: Sequence[ReadableSpan]) -> bytes:
    """An `ExportTraceServiceRequest` holding `spans`, serialized.

    Raises where the SDK's encoder raises: a span whose kind, ids or times are not what the SDK
    produces (the outbox then lets the exporter report it).
    """
    return _request(spans, _span)


def encode_log_request(records: Sequence[ReadableLogRecord]) -> bytes:
    """An `ExportLogsServiceRequest` holding `records`, serialized.

    Raises where the SDK's encoder raises: a body it cannot encode, no trace flags.
    """
    return _request(records, _log)
