"""Parsers for URLs, lists, key=value pairs, samplers and regular expressions.

See `settings._parse` for the parser contract.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from flext_observability.settings._parse import Feedback, Invalid, Parser, text_of

__all__ = ["mask_url"]

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_OPEN = {"(": ")", "[": "]", "{": "}"}


def mask_url(url: str) -> str:
    """Replace the user-info part of a URL (`user:password@`) by `***:***@`."""
    scheme, sep, rest = url.partition("//")
    if not sep:
        scheme, rest = "", url
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, authority_end)
    if at < 0:
        return url
    return f"{scheme}{sep}***:***@{rest[at + 1 :]}"


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


def _exporters_parser(known: tuple[str, ...]) -> Parser:
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
        fb.notes.extend(
            f"exporter {n!r} is not built in; it will be looked up as an entry point"
            for n in names
            if n not in known
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


def _pairs(raw: object, fb: Feedback, *, secret: bool) -> dict[str, str]:
    if isinstance(raw, Mapping):
        out: dict[str, str] = {}
        for key, value in raw.items():
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if not isinstance(key, str) or not key.strip() or not isinstance(text, str):
                raise Invalid("keys must be non-empty strings and values strings")
            out[key.strip()] = text
        return out
    if not isinstance(raw, str):
        raise Invalid
    out = {}
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
            continue
        out[key] = value
    return out


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
TRACES_EXPORTERS = _exporters_parser(("otlp", "console", "zipkin"))
METRICS_EXPORTERS = _exporters_parser(("otlp", "console", "prometheus"))
LOGS_EXPORTERS = _exporters_parser(("otlp", "console"))
PAIRS = Parser("comma-separated key=value pairs (percent-encoded)", _parse_pairs)
SECRET_PAIRS = Parser("comma-separated key=value pairs (percent-encoded)", _parse_secret_pairs)
REGEXES = Parser("comma-separated regular expressions that compile", _parse_regexes)
NAMES = Parser("comma-separated names", _parse_names)
GLOBS = Parser("comma-separated globs, or none", _parse_globs)
