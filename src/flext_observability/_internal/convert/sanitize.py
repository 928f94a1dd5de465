"""Sanitising helpers shared by the converters (pure; no OpenTelemetry).

Whatever arrives from the application (span attributes, log bodies, `extra=` fields), these
helpers return values that the entity models accept and that JSON and OTLP/protobuf can encode,
without ever raising:

- strings longer than `MAX_STRING_LENGTH` code points are cut and end with `TRUNCATED_MARK`;
  lone surrogates (which UTF-8, JSON encoders and protobuf reject) become U+FFFD;
- non-finite floats become their string (`"nan"`, `"inf"`, `"-inf"`);
- ints outside the signed 64-bit range become their decimal string (OTLP's `int_value` is int64);
- bytes are decoded as UTF-8 with replacement characters;
- tuples and other sequences become lists; a sequence whose sanitised items are not all of one
  type (`str`, `bool`, `int`, `float`; `None` counts as its own type) becomes a list of strings;
- nested sequences and mappings become a JSON-ish string, any other object its `repr`, both cut
  at `MAX_REPR_LENGTH`; a raising `__repr__`/`__str__` gives a `<Type object: ...>` placeholder;
- attribute keys become strings; an attribute whose value is `None` is dropped (as in the SDK).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from flext_observability._internal.text import (
    MAX_REPR_LENGTH,
    MAX_STRING_LENGTH,
    clean_str,
    safe_repr,
    safe_str,
)
from flext_observability.models._types import AttributeValue

__all__ = [
    "frozen_attributes",
    "jsonish",
    "sanitize_attributes",
    "sanitize_value",
]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_Scalar = str | bool | int | float
_IMMUTABLE = frozenset({str, bool, int, float})


def jsonish(value: object, limit: int = MAX_REPR_LENGTH) -> str:
    """Render a nested structure as JSON where possible, else as a safe repr; never raises."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=safe_repr, skipkeys=True)
    except Exception:  # noqa: BLE001 - cycles, deep nesting, raising __repr__ in keys
        return safe_repr(value, limit)
    return clean_str(text, limit)


def sanitize_value(value: object) -> AttributeValue | None:  # noqa: PLR0911 - a type dispatch
    """Return `value` as a valid attribute value, or None when it should be dropped."""
    if type(value) is str:
        return clean_str(value)
    if type(value) is bool:
        return value
    if type(value) is int:
        return _sanitize_int(value)
    if type(value) is float:
        return value if math.isfinite(value) else str(value)
    if value is None:
        return None
    if type(value) is list or type(value) is tuple:
        return _sanitize_sequence(value)  # pyright: ignore[reportUnknownArgumentType]
    return _sanitize_other(value)


def _sanitize_int(value: int) -> int | str:
    return value if _INT64_MIN <= value <= _INT64_MAX else safe_str(value)


def _sanitize_scalar(value: object) -> _Scalar | None:
    """Sanitise one sequence item: nested sequences and mappings become strings."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return sanitize_value(value)  # type: ignore[return-value]  # scalars give scalars
    try:
        if isinstance(value, Mapping | list | tuple):
            return jsonish(value)
        if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
            return jsonish(list(value))
    except Exception:  # noqa: BLE001 - isinstance() can run user code (a raising __class__)
        return safe_repr(value)
    result = sanitize_value(value)  # never a list after the checks above; narrowed for typing
    return jsonish(result) if isinstance(result, list) else result


def _sanitize_sequence(items: Sequence[object]) -> list[str] | list[bool] | list[int] | list[float]:
    values = [_sanitize_scalar(item) for item in items]
    if not values:
        return []
    first = type(values[0])
    if first is not type(None) and all(type(v) is first for v in values):
        return values  # type: ignore[return-value]  # homogeneous, checked just above
    return [v if isinstance(v, str) else "None" if v is None else _scalar_text(v) for v in values]


def _scalar_text(value: bool | float) -> str:  # noqa: FBT001 - a value, not a flag
    return safe_str(value) if type(value) is int else str(value)


def _sanitize_other(value: object) -> AttributeValue:  # noqa: PLR0911 - a type dispatch
    """Sanitise subclasses of the primitives, bytes, sequences and foreign objects."""
    try:
        if isinstance(value, str):
            return clean_str(value)
        if isinstance(value, int):  # bool cannot be subclassed; IntEnum and friends land here
            return _sanitize_int(int.__int__(value))
        if isinstance(value, float):
            return sanitize_value(float.__float__(value))  # type: ignore[return-value]
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value[: MAX_STRING_LENGTH * 4])
            return clean_str(raw.decode("utf-8", errors="replace"))
        if isinstance(value, Mapping):
            return jsonish(value)
        if isinstance(value, Sequence):
            return _sanitize_sequence(list(value))  # pyright: ignore[reportUnknownArgumentType]
    except Exception:  # noqa: BLE001 - a foreign object may raise from anything we touch
        return safe_repr(value)
    return safe_repr(value)


def sanitize_attributes(attributes: Mapping[Any, object] | None) -> dict[str, AttributeValue]:
    """Return a fresh attribute dict that the entity models accept; never raises.

    Keys become strings (lone surrogates replaced); `None` values are dropped. If iterating the
    mapping itself raises, the attributes read so far are kept.
    """
    result: dict[str, AttributeValue] = {}
    if attributes is None:
        return result
    try:
        for key, value in attributes.items():
            # Inline fast paths for the common clean cases (short ASCII strings, int64 ints,
            # bools); everything else goes through `sanitize_value` / `clean_str`.
            clean: AttributeValue | None
            if (
                (type(value) is str and value.isascii() and len(value) <= MAX_STRING_LENGTH)
                or (type(value) is int and _INT64_MIN <= value <= _INT64_MAX)
                or type(value) is bool
            ):
                clean = value
            else:
                clean = sanitize_value(value)
            if clean is None:
                continue
            if type(key) is str:
                name = key if key.isascii() and len(key) <= MAX_STRING_LENGTH else clean_str(key)
            else:
                name = safe_str(key)
            result[name] = clean
    except Exception:  # noqa: BLE001, S110 - a broken mapping keeps what was read
        pass
    return result


def frozen_attributes(attributes: object) -> bool:
    """Whether `attributes` is a plain dict of str keys to str, int, float or bool values.

    Nothing reachable from such a dict can change but the dict itself, which the SDK never
    edits once it holds it (one per metric series, for the series' life): what is derived from
    it may be remembered by its identity, as long as a reference keeps that identity taken.
    Never raises: only an exact `dict` is looked into, and only at its keys' and values' types.
    """
    return type(attributes) is dict and all(
        type(key) is str and type(value) in _IMMUTABLE
        for key, value in attributes.items()  # pyright: ignore[reportUnknownVariableType]
    )
