"""Value parsers for the settings: one spec-conformant parser per kind of setting.

Every parser takes the raw value (an environment string, a TOML value or a Python argument) and
a `Feedback` collector, and returns the typed value or raises `ValueError`. The parser's
`expected` text says what is allowed; it is used verbatim in every problem and error message, so
environment values, pyproject values and explicit arguments are judged by the same rules.
Parsers are idempotent: feeding a parsed value back in returns it unchanged.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from flext_observability.redaction._scan import mask_url

__all__ = [
    "Feedback",
    "Invalid",
    "Parser",
    "installed_entry_points",
    "log_level_number",
    "mask_url",
    "text_of",
]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@functools.cache
def _all_entry_points() -> Any:  # EntryPoints; SelectableGroups before Python 3.12
    """Every installed entry point: the package metadata is scanned once, for all groups."""
    return entry_points()


@functools.cache
def installed_entry_points(group: str) -> frozenset[str]:
    """Names of the installed entry points in `group` (one metadata scan for every group)."""
    return frozenset(entry.name for entry in _all_entry_points().select(group=group))


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


def _parse_auto_bool(raw: object, fb: Feedback) -> str:
    if isinstance(raw, str) and raw.strip().lower() == "auto":
        return "auto"
    return "true" if _parse_bool(raw, fb) else "false"


def _parse_path(raw: object, _fb: Feedback) -> Path:
    return raw if isinstance(raw, Path) else Path(text_of(raw))


TEXT = Parser("a non-empty string", _parse_text)
SECRET_TEXT = Parser("a non-empty string", _parse_secret)
BOOL = Parser("one of true/false/1/0/yes/no/on/off (any case)", _parse_bool)
RATIO = _float_parser("a number from 0 to 1", lambda v: 0.0 <= v <= 1.0)
POSITIVE_NUMBER = _float_parser("a positive number", lambda v: v > 0)
MAX_MS = 2**31 - 1
"""Largest millisecond value (about 24.8 days): a larger one overflows the SDK's waits."""
NON_NEGATIVE_MS = _int_parser(f"a non-negative integer (milliseconds, at most {MAX_MS})", 0, MAX_MS)
POSITIVE_MS = _int_parser(f"a positive integer (milliseconds, at most {MAX_MS})", 1, MAX_MS)
NON_NEGATIVE_INT = _int_parser("a non-negative integer", 0)
MAX_SIZE = MAX_MS
"""Largest count limit, queue or batch size (a larger one overflows the SDK's bounded deques)."""
COUNT_LIMIT = _int_parser(f"a non-negative integer (at most {MAX_SIZE})", 0, MAX_SIZE)
SIZE = _int_parser(f"a positive integer (at most {MAX_SIZE})", 1, MAX_SIZE)
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
AUTO_BOOL = Parser("auto, or one of true/false/1/0/yes/no/on/off (any case)", _parse_auto_bool)


# --- URLs, lists, key=value pairs, samplers and regular expressions -----------------------------

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_OPEN = {"(": ")", "[": "]", "{": "}"}


def _parse_url(raw: object, _fb: Feedback) -> str:
    text = text_of(raw)
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise Invalid from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or " " in text:
        raise Invalid
    return text


def _parse_secret_url(raw: object, fb: Feedback) -> SecretStr:
    return SecretStr(_parse_url(raw, fb))


def _split_items(raw: object) -> list[str]:
    if isinstance(raw, str):
        return [item.strip() for item in raw.split(",")]
    if isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
        return [item.strip() for item in raw]
    raise Invalid


def _parse_names(raw: object, _fb: Feedback) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in _split_items(raw) if item))


def _parse_globs(raw: object, fb: Feedback) -> tuple[str, ...]:
    names = _parse_names(raw, fb)
    return () if names == ("none",) else names


def _exporters_parser(known: tuple[str, ...], group: str) -> Parser:
    def parse(raw: object, fb: Feedback) -> tuple[str, ...]:
        if isinstance(raw, list | tuple) and not raw:
            return ()  # an explicit empty sequence: no exporter (as parsed from 'none')
        names = tuple(dict.fromkeys(n.lower() for n in _split_items(raw) if n))
        if not names or not all(_NAME_RE.match(n) for n in names):
            raise Invalid
        if "none" in names:
            if len(names) > 1:
                raise Invalid("'none' cannot be combined with other exporters")
            return ()
        others = [n for n in names if n not in _BUILT_IN_EXPORTERS]
        if others:
            installed = installed_entry_points(group)
            missing = [n for n in others if n not in installed]
            if missing:
                raise Invalid(
                    f"not installed: {', '.join(map(repr, missing))}: no entry point in group "
                    f"{group!r}"
                )
        fb.notes.extend(
            f"exporter {n!r} is not built in; loaded from its entry point" for n in others
        )
        return names

    return Parser(
        f"'none' or a comma-separated list of exporter names ({', '.join(known)}, "
        "or an installed entry point)",
        parse,
    )


_SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)


def _parse_sampler(raw: object, fb: Feedback) -> str:
    name = text_of(raw)
    if name.lower() in _SAMPLERS:
        return name.lower()
    if not _NAME_RE.match(name):
        raise Invalid
    fb.notes.append(
        f"sampler {name!r} is not built in; it will be looked up as an "
        "'opentelemetry_traces_sampler' entry point"
    )
    return name


def _mapping_pairs(raw: Mapping[object, object], *, secret: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw.items():
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(key, str) or not key.strip() or not isinstance(text, str):
            raise Invalid("keys must be non-empty strings and values strings")
        if secret and not _valid_header(key.strip(), text):
            raise Invalid("header names must be HTTP tokens and values free of CR, LF and NUL")
        out[key.strip()] = text
    return out


def _pairs(raw: object, fb: Feedback, *, secret: bool) -> dict[str, str]:
    if isinstance(raw, Mapping):
        return _mapping_pairs(raw, secret=secret)
    if not isinstance(raw, str):
        raise Invalid
    out: dict[str, str] = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        try:
            key = unquote(key.strip(), errors="strict")
            value = unquote(value.strip(), errors="strict")
        except UnicodeDecodeError:
            sep = ""
        if not sep or not key:
            shown = "" if secret else f" {item.strip()!r}"
            fb.problems.append(f"skipped malformed pair{shown} (expected key=value)")
        elif secret and not _valid_header(key, value):
            # Headers: one bad entry must not break every export (requests refuses the whole
            # request); the name is shown only when it is short printable text.
            shown = f" {key!r}" if key.isprintable() and len(key) <= _MAX_NAME_SHOWN else ""
            fb.problems.append(
                f"skipped header{shown} (expected an HTTP token name and a value without "
                "CR, LF or NUL)"
            )
        else:
            out[key] = value
    return out


_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_MAX_NAME_SHOWN = 64


def _valid_header(name: str, value: str) -> bool:
    """An RFC 9110 token name; a value with no CR, LF or NUL (and no leading/trailing space)."""
    return bool(_HEADER_NAME.match(name)) and not any(c in value for c in "\r\n\x00")


def _parse_pairs(raw: object, fb: Feedback) -> dict[str, str]:
    return _pairs(raw, fb, secret=False)


def _parse_secret_pairs(raw: object, fb: Feedback) -> dict[str, SecretStr]:
    return {k: SecretStr(v) for k, v in _pairs(raw, fb, secret=True).items()}


def _split_regexes(text: str) -> list[str]:
    """Split on commas that are outside brackets and not escaped (so `a{1,3}` stays whole)."""
    items: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif stack and stack[-1] == "]":
            if char == "]":
                stack.pop()
        elif char in _OPEN:
            stack.append(_OPEN[char])
        elif stack and char == stack[-1]:
            stack.pop()
        elif char == "," and not stack:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return items


def _parse_regexes(raw: object, _fb: Feedback) -> tuple[str, ...]:
    items = _split_regexes(raw) if isinstance(raw, str) else _split_items(raw)
    patterns = tuple(dict.fromkeys(p.strip() for p in items if p.strip()))
    for pattern in patterns:
        try:
            re.compile(pattern)
        except (re.error, OverflowError, RecursionError) as exc:
            raise Invalid(f"pattern {pattern!r} does not compile: {exc}") from None
    return patterns


URL = Parser("an http(s) URL", _parse_url)
SECRET_URL = Parser("an http(s) URL", _parse_secret_url)
SAMPLER = Parser(
    f"one of {', '.join(_SAMPLERS)}, or an 'opentelemetry_traces_sampler' entry-point name",
    _parse_sampler,
)
_BUILT_IN_EXPORTERS = ("otlp", "console")
TRACES_EXPORTERS = _exporters_parser(("otlp", "console", "zipkin"), "opentelemetry_traces_exporter")
METRICS_EXPORTERS = _exporters_parser(
    ("otlp", "console", "prometheus"), "opentelemetry_metrics_exporter"
)
LOGS_EXPORTERS = _exporters_parser(("otlp", "console"), "opentelemetry_logs_exporter")
PAIRS = Parser("comma-separated key=value pairs (percent-encoded)", _parse_pairs)
SECRET_PAIRS = Parser("comma-separated key=value pairs (percent-encoded)", _parse_secret_pairs)
REGEXES = Parser("comma-separated regular expressions that compile", _parse_regexes)
NAMES = Parser("comma-separated names", _parse_names)
GLOBS = Parser("comma-separated globs, or none", _parse_globs)
