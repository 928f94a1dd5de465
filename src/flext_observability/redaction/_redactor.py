"""Secret and PII scrubbing, on by default; pure, no OpenTelemetry.

A `Redactor` applies three rules, in this order of precedence:

1. **Keys.** A value stored under a sensitive key (`password`, `api_key`, `Authorization`,
   `set-cookie`, `session_id`, `card_number`, ...; the rule is in `redaction._rules`) becomes
   `"[REDACTED]"`, whatever its type. Nothing of the secret is kept, not even its length. Keys in
   `allow` (exact, case-insensitive) are never treated as sensitive: the false-positive escape
   hatch, e.g. `allow=("token_count",)`.
2. **URLs** anywhere in a string: credentials become `REDACTED:REDACTED`, and the values of the
   semantic conventions' sensitive query keys (`AWSAccessKeyId`, `Signature`, `sig`,
   `X-Goog-Signature`) and of deny-listed query keys (`token`, `api_key`, ...) become `REDACTED`.
3. **Values.** Strings are scanned for `Bearer`/`Basic` credentials, JWTs, `password=...`-style
   pairs, Luhn-valid card numbers, AWS/GitHub/Slack/Stripe/Google keys, private key blocks and
   the `extra_patterns`; only the matched secret is replaced, the rest of the text stays.

Lone surrogates are replaced by U+FFFD on the way, so JSON and protobuf encoders cannot fail.
Every public method never raises (internal errors go through `_internal.guard`) and is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from flext_observability._internal.guard import guard
from flext_observability._internal.text import fix_surrogates
from flext_observability.exceptions import ConfigurationError
from flext_observability.models import Entity
from flext_observability.redaction._entity import mask_entity, redact_entity_fields
from flext_observability.redaction._rules import (
    MARKER,
    URL_MARKER,
    URL_SENSITIVE_QUERY_KEYS,
    is_sensitive_key,
    might_hold_secret,
)
from flext_observability.redaction._scan import redact_url, scan_once

__all__ = ["MARKER", "Redactor"]

E = TypeVar("E", bound=Entity)

_TEXT_CACHE_LIMIT = 4096
"""Scanned short strings remembered per redactor."""
_TEXT_CACHE_MAX_LENGTH = 512
"""Strings up to this length are cached; longer ones are rarely repeated."""
_KEY_CACHE_LIMIT = 4096
_MAX_PASSES = 4
_MAX_DEPTH = 8
"""Nesting depth of sequences and mappings scanned exactly; anything deeper is replaced
wholesale, so a pathological input can neither recurse without bound nor slip through."""
# Scrubbing never raises and fails closed: a failure gives the fully masked value.
_TEXT = guard("redaction.text")
_URL = guard("redaction.url")
_VALUE = guard("redaction.value")
_ATTRIBUTES = guard("redaction.attributes")
_ENTITY = guard("redaction.entity")


class Redactor:
    """Scrub secrets from strings, attribute maps and the five entities.

    Args:
        enabled: False makes every method the identity.
        extra_patterns: regular expressions (strings); every match becomes `"[REDACTED]"`.
        allow: keys (exact, case-insensitive) that are never treated as sensitive.

    Raises:
        ConfigurationError: an extra pattern is not a string or not a valid regular expression.
    """

    __slots__ = ("_allow", "_enabled", "_extra", "_key_cache", "_text_cache")

    def __init__(
        self,
        *,
        enabled: bool = True,
        extra_patterns: Iterable[str] = (),
        allow: Iterable[str] = (),
    ) -> None:
        self._enabled = bool(enabled)
        self._extra = tuple(_compile(pattern) for pattern in extra_patterns)
        self._allow = frozenset(_allow_key(key) for key in allow)
        self._key_cache: dict[str, bool] = {}
        self._text_cache: dict[str, str] = {}

    @classmethod
    def disabled(cls) -> Redactor:
        """Return a redactor that changes nothing."""
        return cls(enabled=False)

    @property
    def enabled(self) -> bool:
        """Whether redaction is applied at all."""
        return self._enabled

    def __repr__(self) -> str:
        """Describe the configuration without echoing the patterns (they may embed secrets)."""
        return (
            f"Redactor(enabled={self._enabled}, extra_patterns={len(self._extra)}, "
            f"allow={sorted(self._allow)!r})"
        )

    # -- keys ---------------------------------------------------------------------------------

    def is_sensitive(self, key: str) -> bool:
        """Whether a value under `key` is redacted (deny-list match and not allow-listed)."""
        if not self._enabled:
            return False
        cached = self._key_cache.get(key)
        if cached is None:
            cached = key.lower() not in self._allow and is_sensitive_key(key)
            if len(self._key_cache) >= _KEY_CACHE_LIMIT:
                self._key_cache.clear()
            self._key_cache[key] = cached
        return cached

    # -- strings ------------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """Return `text` with every secret found in it replaced (see the module docstring)."""
        if not self._enabled or type(text) is not str:
            return text
        with _TEXT:
            return self._cached_scan(text)
        return MARKER  # scrubbing fails closed

    def _cached_scan(self, text: str) -> str:
        """`_scan`, remembered for short strings (may raise: callers fail closed)."""
        if len(text) > _TEXT_CACHE_MAX_LENGTH:
            return self._scan(text)
        cached = self._text_cache.get(text)
        if cached is not None:
            return cached
        result = self._scan(text)
        # Telemetry repeats itself (routes, methods, user agents, messages): remember the
        # scan of short strings. Bounded; cleared when full (no per-hit bookkeeping).
        if len(self._text_cache) >= _TEXT_CACHE_LIMIT:
            self._text_cache.clear()
        self._text_cache[text] = result
        return result

    def _pair_is_secret(self, key: str) -> bool:
        return self.is_sensitive(key) or key.lower() in URL_SENSITIVE_QUERY_KEYS

    def redact_url(self, url: str) -> str:
        """Return `url` with credentials and sensitive query/fragment values replaced.

        Works on absolute URLs (`scheme://user:pw@host/path?q#f`) and on relative ones or bare
        query strings (`/path?token=x`, `?sig=x`).
        """
        if not self._enabled or type(url) is not str:
            return url
        with _URL:
            return redact_url(fix_surrogates(url), self.is_sensitive)
        return URL_MARKER

    def _scan(self, text: str) -> str:
        text = fix_surrogates(text)
        if not self._extra and (len(text) <= 4 or not might_hold_secret(text)):  # noqa: PLR2004 - too short to hold a secret
            return text  # the fast path for clean text: a few `in` checks, no regex
        # Repeat until nothing changes: a replacement can expose a secret that was glued to
        # the previous one (`-----END PRIVATE KEY-----password=x`), and a fixed point makes
        # redaction idempotent. Clean text costs one pass.
        for _ in range(_MAX_PASSES):
            new = scan_once(text, self._pair_is_secret)
            for pattern in self._extra:
                new = pattern.sub(MARKER, new)
            if new is text or new == text:
                break
            text = new
        return text

    # -- values and attribute maps ------------------------------------------------------------

    def redact_value(self, key: str, value: Any) -> Any:
        """Return `value` as stored under `key`, redacted.

        Under a sensitive key anything but None becomes `"[REDACTED]"`; otherwise strings are
        scanned, and sequences and mappings (nested log bodies) are redacted item by item,
        keeping their type. Other values are returned unchanged.
        """
        if not self._enabled:
            return value
        with _VALUE:
            return self._value(key, value, 0)
        return MARKER

    def redact_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Return a new dict with every value redacted by `redact_value`."""
        if not self._enabled:
            return dict(attributes)
        with _ATTRIBUTES:
            changed = self._mapping(attributes, 0)
            return dict(attributes) if changed is None else changed
        return dict.fromkeys(attributes, MARKER)

    def redact_changed(self, attributes: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return the redacted copy of `attributes`, or None when nothing had to change.

        The cheap path for hot callers (exporter wrappers, the entity pipeline): a clean map
        costs one pass and no copy.
        """
        if not self._enabled:
            return None
        with _ATTRIBUTES:
            return self._mapping(attributes, 0)
        return dict.fromkeys(attributes, MARKER)

    def _value(self, key: str | None, value: Any, depth: int) -> Any:  # noqa: PLR0911 - one return per value kind
        if key is not None and value is not None and self.is_sensitive(key):
            return MARKER
        kind = type(value)
        if kind is str:
            return self._cached_scan(value)
        if kind in {bool, int, float} or value is None:
            return value
        if depth >= _MAX_DEPTH:
            return MARKER
        if isinstance(value, Mapping):
            changed = self._mapping(value, depth + 1)  # pyright: ignore[reportUnknownArgumentType]
            return value if changed is None else changed
        if isinstance(value, list | tuple):
            items = [self._value(None, item, depth + 1) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return items if isinstance(value, list) else tuple(items)
        return value

    def _mapping(self, mapping: Mapping[Any, Any], depth: int) -> dict[Any, Any] | None:
        """Return the redacted copy of `mapping`, or None when nothing changed (cheap path)."""
        out: dict[Any, Any] | None = None
        sensitive = self.is_sensitive
        for key, value in mapping.items():
            name = key if type(key) is str else str(key)
            # Inline fast paths for the common scalar values; the rest goes through `_value`.
            kind = type(value)
            if value is not None and sensitive(name):
                new: Any = MARKER
            elif kind is str:
                new = self._cached_scan(value)
            elif kind is int or kind is bool or kind is float or value is None:
                new = value
            else:
                new = self._value(name, value, depth)
            clean = name if name.isascii() else fix_surrogates(name)
            if clean is not key:
                # A key with lone surrogates would make JSON/protobuf encoding fail.
                if out is None:
                    out = dict(mapping)
                del out[key]
                out[clean] = new
            elif new is not value and (type(new) is not str or new != value):
                if out is None:
                    out = dict(mapping)
                out[key] = new
        return out

    # -- entities -----------------------------------------------------------------------------

    def redact_entity(self, entity: E) -> E:
        """Return `entity` with its free-text and attribute fields redacted.

        The same object comes back when nothing changed; otherwise a new, validated instance.
        If scrubbing fails unexpectedly, a copy whose every scrubbable field is masked comes
        back instead, never the unscrubbed entity.
        """
        if not self._enabled:
            return entity
        with _ENTITY:
            return redact_entity_fields(entity, self.redact_text, self.redact_changed)
        return mask_entity(entity)


def _compile(pattern: object) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise ConfigurationError(
            "redaction_extra_patterns: expected regular expression strings, got "
            f"{type(pattern).__name__}"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        # The pattern itself is not echoed: it may well contain the secret it is meant to hide.
        raise ConfigurationError(
            f"redaction_extra_patterns: invalid regular expression ({exc.msg} at position "
            f"{exc.pos}); expected a Python `re` pattern"
        ) from None


def _allow_key(key: object) -> str:
    if not isinstance(key, str):
        raise ConfigurationError(
            f"redaction_allow: expected attribute key strings, got {type(key).__name__}"
        )
    return key.lower()
