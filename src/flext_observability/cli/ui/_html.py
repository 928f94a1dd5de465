"""Escaping-first HTML building: every value is escaped unless it is already `Safe` markup.

Pages are built from `h(template, *values)`: the template is trusted source text, each value is
escaped with `html.escape(quote=True)` (so it is safe in text and in quoted attributes). Nothing
stored ever reaches a page unescaped; URLs are built with `url()` (percent-encoded, then escaped).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

__all__ = [
    "Safe",
    "attr_value",
    "color_index",
    "esc",
    "fmt_ms",
    "fmt_number",
    "fmt_time",
    "h",
    "join",
    "kv_rows",
    "url",
]


class Safe(str):
    """Markup that is already escaped (built by this module only)."""

    __slots__ = ()


def esc(value: object) -> Safe:
    """Escape a value for HTML text or a quoted attribute; `Safe` passes through."""
    if isinstance(value, Safe):
        return value
    return Safe(html.escape(str(value), quote=True))


def h(template: str, *values: object) -> Safe:
    """Fill a trusted template's `{}` placeholders with escaped values."""
    return Safe(template.format(*(esc(value) for value in values)))


def join(parts: Iterable[Safe], sep: str = "") -> Safe:
    """Concatenate markup."""
    return Safe(sep.join(esc(part) for part in parts))


def url(path: str, params: Mapping[str, object] | None = None) -> str:
    """Build a same-site URL: the path percent-encoded, non-empty params url-encoded."""
    query = {k: str(v) for k, v in (params or {}).items() if v is not None and str(v) != ""}
    base = quote(path, safe="/")
    return f"{base}?{urlencode(query)}" if query else base


def attr_value(value: object) -> str:
    """A stored attribute value as display text (strings as they are, others as JSON)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        return repr(value)


def fmt_time(ns: int, *, date: bool = True) -> str:
    """Epoch nanoseconds as UTC `YYYY-MM-DD HH:MM:SS.mmm` (or only the time)."""
    moment = datetime.fromtimestamp(ns / 1e9, UTC)
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f" if date else "%H:%M:%S.%f")
    return text[:-3]


def fmt_ms(ms: float | None) -> str:
    """A duration in milliseconds, readable: `850 µs`, `12.3 ms`, `1.25 s`, `2m 03s`."""
    if ms is None or not math.isfinite(ms):
        return "—"
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 100:  # noqa: PLR2004 - unit boundaries
        return f"{ms:.2f} ms" if ms < 10 else f"{ms:.1f} ms"  # noqa: PLR2004
    if ms < 1000:  # noqa: PLR2004
        return f"{ms:.0f} ms"
    if ms < 60_000:  # noqa: PLR2004
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(ms / 1000, 60)
    return f"{minutes:.0f}m {seconds:02.0f}s"


def fmt_number(value: float) -> str:
    """A compact number for axes and tables: `0.5`, `12.3`, `1.2k`, `3.4M`."""
    if not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    if magnitude == 0 or magnitude >= 1:
        return f"{value:.4g}"
    return f"{value:.3g}"


def color_index(name: object, colors: int = 8) -> int:
    """A stable colour slot for a name (services get the same colour on every page)."""
    return sum(str(name).encode("utf-8", "replace")) % colors


def kv_rows(values: Mapping[str, Any]) -> Safe:
    """Rows of a key/value table, sorted by key."""
    return join(
        h('<tr><th scope="row">{}</th><td>{}</td></tr>', key, attr_value(values[key]))
        for key in sorted(values)
    )
