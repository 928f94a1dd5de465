"""Field checks for alert rules: each returns the normalised value or raises `RuleFieldError`.

Messages follow the project's "expected X, got Y" form and always name the rule and the field,
so both a rule built in code and one read from a TOML file point at the exact mistake.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NoReturn

from flext_observability._internal.text import shown
from flext_observability.exceptions import RuleFieldError

__all__ = [
    "check_choice",
    "check_number",
    "check_pattern",
    "check_str_map",
    "check_tag_map",
]


def fail(rule: str, field: str, problem: str) -> NoReturn:
    """Raise a `RuleFieldError`."""
    raise RuleFieldError(rule, field, problem)


def _bound_text(
    minimum: float | None, maximum: float | None, *, min_exclusive: bool, integer: bool
) -> str:
    noun = "an integer" if integer else "a number"
    if minimum is not None and maximum is not None:
        return f"{noun} from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"{noun} {'>' if min_exclusive else '>='} {minimum:g}"
    return noun


def check_number(
    rule: str,
    field: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_exclusive: bool = False,
    integer: bool = False,
) -> float:
    """Return `value` as a finite float within the bounds (an int when `integer`)."""
    expected = _bound_text(minimum, maximum, min_exclusive=min_exclusive, integer=integer)
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(rule, field, f"expected {expected}, got {shown(value)}")
    number = float(value)
    bad = (
        not math.isfinite(number)
        or (integer and not number.is_integer())
        or (minimum is not None and (number <= minimum if min_exclusive else number < minimum))
        or (maximum is not None and number > maximum)
    )
    if bad:
        fail(rule, field, f"expected {expected}, got {shown(value)}")
    return number


def check_choice(rule: str, field: str, value: object, allowed: tuple[str, ...]) -> str:
    """Return `value` lowercased when it is one of `allowed` (case-insensitive)."""
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    fail(rule, field, f"expected one of {', '.join(allowed)}, got {shown(value)}")


def check_pattern(rule: str, field: str, value: object) -> str:
    """Return a non-empty name filter (`*`, `?` and `[...]` globs allowed)."""
    if not isinstance(value, str) or not value.strip():
        fail(rule, field, f"expected a non-empty name or glob pattern, got {shown(value)}")
    return value


def check_str_map(rule: str, field: str, value: object) -> dict[str, str]:
    """Return a copy of a string-to-string table (the rule's `labels`)."""
    if not isinstance(value, Mapping):
        fail(rule, field, f"expected a table of strings, got {shown(value)}")
    result: dict[str, str] = {}
    for key, item in value.items():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(key, str) or not key or not isinstance(item, str):
            text = shown({key: item})
            fail(rule, field, f"expected non-empty string keys and string values, got {text}")
        result[key] = item
    return result


def check_tag_map(rule: str, field: str, value: object) -> dict[str, str | int | float | bool]:
    """Return a copy of a tag filter: string keys, scalar values (compared as strings)."""
    if not isinstance(value, Mapping):
        fail(rule, field, f"expected a table of tag values, got {shown(value)}")
    result: dict[str, str | int | float | bool] = {}
    for key, item in value.items():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(key, str) or not key or not isinstance(item, str | int | float | bool):
            text = shown({key: item})
            fail(rule, field, f"expected string keys and string/number/bool values, got {text}")
        result[key] = item
    return result
