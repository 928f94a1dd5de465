"""Plumbing for the webhook sink: settings checks, URL masking, one POST, retry decisions.

Nothing here logs. Every text that may leave this module (outcome descriptions) is built from
the masked URL and status codes only, and is scrubbed of the configured secrets as a last line
of defence.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

from flext_observability.exceptions import ConfigurationError

__all__ = [
    "Outcome",
    "PostResult",
    "Target",
    "backoff_delay",
    "check_count",
    "check_number",
    "mask_url",
    "parse_retry_after",
    "post",
]

MASK: Final = "***"
_MIN_SECRET: Final = 4  # shorter fragments ("/", "a") would mangle every message


def mask_url(url: str) -> str:
    """Return `scheme://host[:port]/***`: no credentials, path, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return f"<invalid url>/{MASK}"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme or '?'}://{netloc}/{MASK}"


@dataclass(frozen=True, slots=True)
class Target:
    """A validated webhook destination: the URL to request and the headers to send."""

    url: str
    masked: str
    headers: dict[str, str]
    secrets: tuple[str, ...]

    @classmethod
    def parse(cls, url: object, headers: Mapping[str, str] | None) -> Target:
        """Validate `url` (http/https with a host) and `headers`; move URL credentials to Basic.

        Raises:
            ConfigurationError: naming the setting and the masked value.
        """
        if not isinstance(url, str):
            raise ConfigurationError(
                f"WebhookSink url: expected an http(s) URL string, got {type(url).__name__}"
            )
        masked = mask_url(url)
        try:
            parts = urlsplit(url)
            _ = parts.port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigurationError(
                f"WebhookSink url: expected an http:// or https:// URL with a host, got {masked}"
            )
        sent: dict[str, str] = {"Content-Type": "application/json"}
        secrets: list[str] = [url, parts.query, parts.path]
        if parts.username is not None or parts.password is not None:
            user, password = unquote(parts.username or ""), unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
            secrets += [user, password, token, parts.netloc]
        for key, value in (headers or {}).items():
            if not (isinstance(key, str) and isinstance(value, str)) or _has_newline(key, value):
                # The value is a secret and never echoed; the name only when it is printable.
                shown = repr(key) if isinstance(key, str) and key.isprintable() else "a header"
                raise ConfigurationError(
                    "WebhookSink headers: expected str names and values without line breaks, "
                    f"got a bad value for {shown}"
                )
            sent[key] = value
            secrets.append(value)
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
        clean = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        usable = tuple(sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True))
        return cls(url=clean, masked=masked, headers=sent, secrets=usable)

    def scrub(self, text: str) -> str:
        """Replace every configured secret in `text` by `***`."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def _has_newline(*values: str) -> bool:
    return any("\n" in v or "\r" in v for v in values)


class Outcome(Enum):
    """What one POST attempt amounts to."""

    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class PostResult:
    """One attempt: its outcome, the `Retry-After` value (raw) and a loggable description."""

    outcome: Outcome
    retry_after: str | None
    description: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: a redirected POST would lose its body or leak headers elsewhere."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:  # noqa: ARG002 - refuses every redirect
        """Return None, so the 3xx surfaces as an HTTPError."""
        return


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(target: Target, body: bytes, timeout: float) -> PostResult:
    """POST `body` once: 2xx delivered; 429, 5xx and network errors retry; else rejected."""
    request = urllib.request.Request(  # noqa: S310 - the scheme is validated to http(s) in parse
        target.url, data=body, headers=target.headers, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            return PostResult(Outcome.DELIVERED, None, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        with exc:
            code = exc.code
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
        retryable = code == 429 or 500 <= code <= 599  # noqa: PLR2004 - HTTP status codes
        outcome = Outcome.RETRY if retryable else Outcome.REJECTED
        return PostResult(outcome, retry_after, f"HTTP {code}")
    except urllib.error.URLError as exc:
        return PostResult(Outcome.RETRY, None, f"connection error: {_reason(exc.reason)}")
    except (OSError, http.client.HTTPException) as exc:
        return PostResult(Outcome.RETRY, None, f"connection error: {type(exc).__name__}")


def _reason(reason: object) -> str:
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return "unreachable"


def parse_retry_after(value: str | None, *, now: float, cap: float) -> float | None:
    """Return the delay a `Retry-After` value asks for, within [0, cap]; None if unusable.

    Accepts delta-seconds (`"120"`) and HTTP dates (`"Wed, 21 Oct 2015 07:28:00 GMT"`);
    `now` is the wall-clock time (seconds since the epoch) the date is measured from.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        seconds = float(int(text))
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    return min(max(seconds, 0.0), cap)


def backoff_delay(attempt: int, *, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt))."""
    ceiling = cap if attempt >= 64 else min(cap, base * (2**attempt))  # noqa: PLR2004 - overflow
    return ceiling * min(max(rand(), 0.0), 1.0)


def check_number(setting: str, value: object, *, minimum: float, inclusive: bool) -> float:
    """Return `value` as a float if it is a number above (or at) `minimum`, else raise."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and (value >= minimum if inclusive else value > minimum):  # type: ignore[operator]
        return float(value)  # type: ignore[arg-type]
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
    raise ConfigurationError(f"WebhookSink {setting}: expected a number {bound}, got {value!r}")


def check_count(setting: str, value: object, *, minimum: int) -> int:
    """Return `value` if it is an int at or above `minimum`, else raise."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    raise ConfigurationError(
        f"WebhookSink {setting}: expected an integer >= {minimum}, got {value!r}"
    )
