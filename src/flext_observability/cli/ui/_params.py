"""Query-string parameters of pages and API calls, validated (a bad one is a 400 naming it)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from flext_observability._internal.time import datetime_to_ns
from flext_observability.cli._format import parse_since
from flext_observability.sinks._store_browse import Cursor

__all__ = ["WINDOWS", "Params"]

WINDOWS: tuple[tuple[str, str], ...] = (
    ("", "all time"),
    ("15m", "last 15 min"),
    ("1h", "last hour"),
    ("6h", "last 6 h"),
    ("24h", "last 24 h"),
    ("7d", "last 7 days"),
)
_MAX_TEXT = 500


class Params:
    """The first value of each query parameter, stripped; empty values count as absent."""

    def __init__(self, raw: Mapping[str, list[str]]) -> None:
        """Keep the first non-empty value of each parameter."""
        self._values = {
            name: values[0].strip() for name, values in raw.items() if values and values[0].strip()
        }

    def items(self) -> dict[str, str]:
        """Every given parameter."""
        return dict(self._values)

    def text(self, name: str) -> str | None:
        """A free-text parameter (at most 500 characters)."""
        value = self._values.get(name)
        if value is not None and len(value) > _MAX_TEXT:
            msg = f"{name}: at most {_MAX_TEXT} characters, got {len(value)}"
            raise ValueError(msg)
        return value

    def choice(self, name: str, allowed: Iterable[str]) -> str | None:
        """One of `allowed` (case-insensitive) or None."""
        value = self._values.get(name)
        if value is None:
            return None
        options = list(allowed)
        if value.lower() not in options:
            msg = f"{name}: expected one of {', '.join(options)}, got {value[:40]!r}"
            raise ValueError(msg)
        return value.lower()

    def number(self, name: str, *, minimum: float = 0.0) -> float | None:
        """A finite number at least `minimum`, or None."""
        value = self._values.get(name)
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < minimum:
            msg = f"{name}: expected a number >= {minimum:g}, got {value[:40]!r}"
            raise ValueError(msg)
        return number

    def limit(self, default: int, maximum: int) -> int:
        """The `limit` parameter: 1..maximum."""
        value = self.number("limit", minimum=1)
        return default if value is None else min(int(value), maximum)

    def moment(self, name: str, now: datetime | None = None) -> int | None:
        """`15m`/`2h`/`1d` ago or an ISO time, as epoch ns; None when absent."""
        value = self._values.get(name)
        if value is None:
            return None
        try:
            return datetime_to_ns(parse_since(value, now or datetime.now(UTC)))
        except ValueError:
            msg = f"{name}: expected a duration like 15m, 2h, 1d or an ISO time, got {value[:40]!r}"
            raise ValueError(msg) from None

    def cursor(self) -> Cursor | None:
        """The `before` paging cursor, or None."""
        value = self._values.get("before")
        return None if value is None else Cursor.decode(value)

    def hex_id(self, name: str, length: int) -> str | None:
        """A W3C hex id of `length` digits (lowercased), or None."""
        value = self._values.get(name)
        if value is None:
            return None
        lowered = value.lower()
        if len(lowered) != length or any(c not in "0123456789abcdef" for c in lowered):
            msg = f"{name}: expected {length} hex digits, got {value[:40]!r}"
            raise ValueError(msg)
        return lowered
