"""Text from arbitrary objects, without ever raising: one policy for the whole package.

`safe_str` and `safe_repr` never raise (a user object's `__str__`/`__repr__` may raise
anything), bound the length (a cut string ends with `TRUNCATED_MARK`, inside the limit) and
replace lone surrogates with U+FFFD (UTF-8, JSON and protobuf reject them). A raising `__repr__`
gives `<Type object: repr() raised Error>`; a raising `__str__` gives the `repr` instead, or
the caller's `fallback`.

Standard library only: the low layers (`models`) import it without loading OpenTelemetry.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_REPR_LENGTH",
    "MAX_STRING_LENGTH",
    "SHOWN_LENGTH",
    "TRUNCATED_MARK",
    "clean_str",
    "escape_control",
    "fix_surrogates",
    "safe_repr",
    "safe_str",
    "shown",
]

MAX_STRING_LENGTH = 65_536
"""Longest string kept, in code points (64 Ki); longer ones are cut, bounding memory."""

MAX_REPR_LENGTH = 1_000
"""Longest rendering of a nested or foreign object used as a value."""

SHOWN_LENGTH = 80
"""Longest rendering of a bad value quoted in an error message."""

TRUNCATED_MARK = "...[truncated]"
"""Suffix of every cut string (included in the length limit)."""

_SURROGATES = re.compile("[\ud800-\udfff]")


def fix_surrogates(text: str) -> str:
    """Replace lone surrogates (which UTF-8, JSON and protobuf reject) with U+FFFD."""
    if text.isascii():
        return text
    return _SURROGATES.sub("\ufffd", text)


def clean_str(value: str, limit: int = MAX_STRING_LENGTH) -> str:
    """Return `value` as a plain `str`, cut to `limit` and with lone surrogates replaced."""
    if type(value) is not str:
        value = str.__str__(value)  # a plain copy: a subclass may override __str__
    if len(value) > limit:
        value = value[: max(limit - len(TRUNCATED_MARK), 0)] + TRUNCATED_MARK
    return fix_surrogates(value)


def safe_repr(value: object, limit: int = MAX_REPR_LENGTH) -> str:
    """Return `repr(value)`, cleaned and cut to `limit`; never raises."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001 - user objects may raise anything from __repr__
        text = f"<{type(value).__qualname__} object: repr() raised {type(exc).__qualname__}>"
    return clean_str(text, limit)


def safe_str(value: object, limit: int = MAX_STRING_LENGTH, *, fallback: str | None = None) -> str:
    """Return `str(value)`, cleaned and cut to `limit`; never raises.

    If `str()` raises, `fallback` is returned when given (say `"<unprintable>"` for an
    exception's message), else `safe_repr(value)`.
    """
    if type(value) is str:
        return clean_str(value, limit)
    try:
        text = str(value)
    except ValueError:
        if type(value) is int:  # more digits than sys.get_int_max_str_digits() allows
            return clean_str(hex(value), min(limit, MAX_REPR_LENGTH))
        text = None
    except Exception:  # noqa: BLE001 - user objects may raise anything from __str__
        text = None
    if text is None:
        return fallback if fallback is not None else safe_repr(value, min(limit, MAX_REPR_LENGTH))
    return clean_str(text, limit)


def shown(value: object) -> str:
    """Return `value` as an error message quotes it: `safe_repr` cut to `SHOWN_LENGTH`."""
    return safe_repr(value, SHOWN_LENGTH)


# -- text on its way to a terminal ------------------------------------------------------------
# Stored data can carry `\x1b[2J` (clear screen), `\x1b]0;title\x07` (retitle the terminal), `\r`
# or a newline followed by a forged line: every character Python does not consider printable is
# shown as a Python-style escape, so the text stays on its line and reads as what it is.

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BMP = 0x10000


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:  # noqa: PLR2004 - Latin-1 range: \xNN
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < _BMP else f"\\U{code:08x}"


def escape_control(text: str, limit: int | None = None) -> str:
    """Return `text` with every non-printable character escaped (optionally cut to `limit`)."""
    if limit is not None:
        text = text[:limit]
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)
