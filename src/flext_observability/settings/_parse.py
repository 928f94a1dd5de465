"""Value parsers for the settings: one spec-conformant parser per kind of setting.

Every parser takes the raw value (an environment string, a TOML value or a Python argument) and
a `Feedback` collector, and returns the typed value or raises `ValueError`. The parser's
`expected` text says what is allowed; it is used verbatim in every problem and error message, so
environment values, pyproject values and explicit arguments are judged by the same rules.
Parsers are idempotent: feeding a parsed value back in returns it unchanged.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

__all__ = ["Feedback", "Invalid", "Parser", "log_level_number", "text_of"]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_INT_RE = re.compile(r"^\+?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class Invalid(ValueError):  # noqa: N818 - reads as `raise Invalid(...)`, a parse verdict
    """The value is not allowed; the message, if any, is a detail added to `expected`."""


@dataclass
class Feedback:
    """What a parser wants said about an accepted value.

    `problems` are soft failures (part of the value was dropped); `notes` are information only.
    """

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Parser:
    """A named parse function with the human description of what it accepts."""

    expected: str
    fn: Callable[[object, Feedback], object]

    def __call__(self, raw: object, feedback: Feedback) -> object:
        """Parse `raw`; raise `ValueError` (optionally with a detail) when it is not allowed."""
        return self.fn(raw, feedback)


def text_of(raw: object) -> str:
    if isinstance(raw, SecretStr):
        raw = raw.get_secret_value()
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid
    return raw.strip()


def _parse_text(raw: object, _fb: Feedback) -> str:
    return text_of(raw)


def _parse_secret(raw: object, _fb: Feedback) -> SecretStr:
    return SecretStr(text_of(raw))


def _parse_bool(raw: object, _fb: Feedback) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in {0, 1}:
        return bool(raw)
    word = text_of(raw).lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise Invalid


def _number(raw: object) -> float:
    if isinstance(raw, bool):
        raise Invalid  # True is an int to Python, not a number to a user
    if isinstance(raw, int | float):
        value = float(raw)  # raises OverflowError for a huge int: caught below
    else:
        text = text_of(raw)
        if not _FLOAT_RE.match(text):
            raise Invalid
        value = float(text)
    if not math.isfinite(value):
        raise Invalid
    return value


def _float_parser(expected: str, check: Callable[[float], bool]) -> Parser:
    def parse(raw: object, _fb: Feedback) -> float:
        try:
            value = _number(raw)
        except OverflowError:
            raise Invalid from None
        if not check(value):
            raise Invalid
        return value

    return Parser(expected, parse)


def _int_parser(expected: str, low: int, high: int | None = None) -> Parser:
    def parse(raw: object, _fb: Feedback) -> int:
        if isinstance(raw, bool):
            raise Invalid
        if isinstance(raw, int):
            value = raw
        elif isinstance(raw, float) and raw.is_integer():
            value = int(raw)
        else:
            text = text_of(raw)
            if not _INT_RE.match(text):
                raise Invalid
            value = int(text)
        if value < low or (high is not None and value > high):
            raise Invalid
        return value

    return Parser(expected, parse)


def _choice_parser(options: Iterable[str]) -> Parser:
    allowed = tuple(options)

    def parse(raw: object, _fb: Feedback) -> str:
        word = text_of(raw).lower()
        if word not in allowed:
            raise Invalid
        return word

    return Parser("one of " + ", ".join(allowed), parse)


_LEVELS = ("CRITICAL", "FATAL", "ERROR", "WARNING", "WARN", "INFO", "DEBUG", "NOTSET")


def _parse_log_level(raw: object, _fb: Feedback) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return str(raw)
    name = text_of(raw).upper()
    if _INT_RE.match(name):
        return str(int(name))
    if name not in _LEVELS:
        raise Invalid
    return {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(name, name)


def log_level_number(level: str) -> int:
    """Return the numeric stdlib level of a parsed `log_level` value."""
    if level.isdigit():
        return int(level)
    number = logging.getLevelName(level)
    return number if isinstance(number, int) else logging.INFO


def _parse_path(raw: object, _fb: Feedback) -> Path:
    return raw if isinstance(raw, Path) else Path(text_of(raw))


TEXT = Parser("a non-empty string", _parse_text)
SECRET_TEXT = Parser("a non-empty string", _parse_secret)
BOOL = Parser("one of true/false/1/0/yes/no/on/off (any case)", _parse_bool)
RATIO = _float_parser("a number from 0 to 1", lambda v: 0.0 <= v <= 1.0)
POSITIVE_NUMBER = _float_parser("a positive number", lambda v: v > 0)
NON_NEGATIVE_MS = _int_parser("a non-negative integer (milliseconds)", 0)
POSITIVE_MS = _int_parser("a positive integer (milliseconds)", 1)
NON_NEGATIVE_INT = _int_parser("a non-negative integer", 0)
POSITIVE_INT = _int_parser("a positive integer", 1)
PORT = _int_parser("an integer from 0 to 65535", 0, 65535)
PROTOCOL = _choice_parser(("grpc", "http/protobuf", "http/json"))
COMPRESSION = _choice_parser(("gzip", "none"))
LOG_LEVEL = Parser(
    "a logging level name (CRITICAL, ERROR, WARNING, INFO, DEBUG, NOTSET; any case) "
    "or a non-negative number",
    _parse_log_level,
)
PATH = Parser("a non-empty path", _parse_path)
