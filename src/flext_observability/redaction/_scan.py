"""The text and URL scanners behind `Redactor` (pure, no OpenTelemetry).

Both take the key predicate (`Redactor.is_sensitive` with its allow-list) as an argument, so the
rules stay in one place and this module holds no state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from flext_observability.redaction._rules import (
    MARKER,
    PAIR_SEP,
    PAIR_VALUE,
    SCAN_SOURCE,
    URL_MARKER,
    URL_SENSITIVE_QUERY_KEYS,
    is_sensitive_key,
    luhn_ok,
    might_hold_secret,
)

__all__ = ["mask_url", "redact_url", "scan_once"]

KeyPredicate = Callable[[str], bool]

_SCAN = re.compile(SCAN_SOURCE)
_CHAINED_VALUE = re.compile(f"(?P<sep>{PAIR_SEP})(?P<val>{PAIR_VALUE})")


def scan_once(text: str, pair_is_secret: KeyPredicate) -> str:
    """Replace every secret found in one left-to-right pass; `text` itself when clean."""
    if not might_hold_secret(text):
        return text
    match = _SCAN.search(text)
    if match is None:
        return text
    out: list[str] = []
    pos = 0
    while match is not None:
        if match.lastgroup == "pair" and not pair_is_secret(match.group("pkey")):
            # Keep the key, then scan its value like any other text: the value may hold a URL,
            # a token, or the next `key=value` pair (`note=x=password=y`).
            resume = match.start("pval")
            out.append(text[pos:resume])
        else:
            out.append(text[pos : match.start()])
            out.append(_replacement(match, pair_is_secret))
            resume = match.end()
            if match.lastgroup in {"pair", "cred"}:
                # `secret="x": "y"`, `Bearer key=y`: what looked like the secret was a key;
                # mask its value too.
                while (chained := _CHAINED_VALUE.match(text, resume)) is not None:
                    out.append(_quoted_marker(chained.group("sep"), chained.group("val")))
                    resume = chained.end()
        pos = resume
        match = _SCAN.search(text, pos)
    out.append(text[pos:])
    return "".join(out)


def _replacement(match: re.Match[str], is_sensitive: KeyPredicate) -> str:
    kind = match.lastgroup
    if kind == "url":
        return redact_url(match.group(), is_sensitive)
    if kind == "pair":
        key, sep, value = match.group("pkey", "psep", "pval")
        return key + _quoted_marker(sep, value)
    if kind == "cred":
        return match.group("auth") + MARKER
    if kind == "card":
        digits = match.group().replace(" ", "").replace("-", "")
        return MARKER if luhn_ok(digits) else match.group()
    return MARKER  # pem, jwt, known token formats


def _quoted_marker(sep: str, value: str) -> str:
    """Return `sep` and the marker, inside the value's quotes if it had them."""
    quote = value[0] if value[:1] in {'"', "'"} and len(value) > 1 else ""
    return f"{sep}{quote}{MARKER}{quote}"


def redact_url(url: str, is_sensitive: KeyPredicate) -> str:
    """Replace the credentials and the sensitive query and fragment values of one URL.

    Absolute (`scheme://user:pw@host/p?q#f`) and relative (`/p?q`, `?q`) forms are handled; any
    user info becomes `REDACTED:REDACTED`, since a lone user name is often a token.
    """
    start = 0
    scheme_end = url.find("://")
    if scheme_end != -1:
        start = scheme_end + 3
        end = _first_of(url, "/?#", start)
        at = url.rfind("@", start, end)
        if at != -1:
            url = f"{url[:start]}{URL_MARKER}:{URL_MARKER}{url[at:]}"
            start += len(URL_MARKER) * 2 + 1
    query = url.find("?", start)
    fragment = url.find("#", start)
    if fragment != -1:
        url = url[: fragment + 1] + _query(url[fragment + 1 :], is_sensitive)
    if query != -1 and (fragment == -1 or query < fragment):
        stop = fragment if fragment != -1 else len(url)
        url = url[: query + 1] + _query(url[query + 1 : stop], is_sensitive) + url[stop:]
    return url


def mask_url(url: str) -> str:
    """The one masker for every URL we print (startup line, `config`, `doctor`, messages).

    The redaction rules with their default deny-list: user info becomes `REDACTED:REDACTED`,
    secret-looking query and fragment values (`api_key`, `token`, `sig`, ...) become `REDACTED`.
    A URL without a scheme (`user:pw@host:4317`) has its user info masked too.
    """
    if "://" not in url:
        end = _first_of(url, "/?#", 0)
        at = url.rfind("@", 0, end)
        if at != -1:
            url = f"{URL_MARKER}:{URL_MARKER}{url[at:]}"
        return redact_url("//" + url, is_sensitive_key)[2:]
    return redact_url(url, is_sensitive_key)


def _query(query: str, is_sensitive: KeyPredicate) -> str:
    if "=" not in query:
        return query
    parts = query.split("&")
    for index, part in enumerate(parts):
        name, eq, _ = part.partition("=")
        if not eq:
            continue
        plain = unquote_plus(name) if "%" in name or "+" in name else name
        if plain.lower() in URL_SENSITIVE_QUERY_KEYS or is_sensitive(plain):
            parts[index] = f"{name}={URL_MARKER}"
    return "&".join(parts)


def _first_of(text: str, chars: str, start: int) -> int:
    positions = [pos for pos in (text.find(char, start) for char in chars) if pos != -1]
    return min(positions, default=len(text))
