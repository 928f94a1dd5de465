r"""Text on its way to a terminal: control characters from data never reach it raw.

Stored data (a log message, a span name, an attribute) can carry `\x1b[2J` (clear screen),
`\x1b]0;title\x07` (retitle the terminal), `\r`, or a newline followed by a forged line.
`escape_control` shows every character Python does not consider printable (C0/C1 controls,
line/paragraph separators, bidi overrides, ...) as a Python-style escape, so the text stays on its
line and reads as what it is. Printable text is returned unchanged (and cheaply).
"""

from __future__ import annotations

__all__ = ["escape_control"]

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
