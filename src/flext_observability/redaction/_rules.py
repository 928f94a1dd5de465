"""The rules behind `Redactor`: which keys are sensitive and which text looks like a secret.

Pure and OpenTelemetry-free. Everything here is compiled once at import.

Key rule (Logfire/Sentry-style deny-list, decided on a normalised key): camelCase is split,
everything is lowercased and every run of non-alphanumerics becomes `_`, then the key is padded
with `_` on both sides (`XAuthToken` → `_x_auth_token_`). Strong words match anywhere
(`userPassword`, `client_secret`, `set-cookie`, `x-api-key`, `PHPSESSID`); ambiguous words must be
a whole token (`auth`, `session`, `pwd`, `ssn`, `cvv`, `iban`), so `author`, `authority`,
`sessions`-style and `classname` keys are kept; `token` must end the key (optionally followed by
`value`/`string`/`data`/`raw`), so `access_token`, `authtoken`, `X-Auth-Token` and `token_value`
are sensitive while `tokenizer`, `input_tokens`, `token_count` and the semantic conventions'
`gen_ai.token.type` (a metric dimension) are not.
"""

from __future__ import annotations

import re

__all__ = [
    "MARKER",
    "PAIR_SEP",
    "PAIR_VALUE",
    "SCAN_SOURCE",
    "URL_MARKER",
    "URL_SENSITIVE_QUERY_KEYS",
    "is_sensitive_key",
    "luhn_ok",
    "might_hold_secret",
    "normalise_key",
]

MARKER = "[REDACTED]"
"""What a redacted value or secret becomes."""

URL_MARKER = "REDACTED"
"""What URL credentials and sensitive query values become (the semantic-conventions form)."""

URL_SENSITIVE_QUERY_KEYS = frozenset({"awsaccesskeyid", "signature", "sig", "x-goog-signature"})
"""Query keys the semantic conventions (`url.full`, `url.query`) say to redact, lowercased."""

_KEY = re.compile(
    r"pass_?w(?:or)?d|pass_?phrase|secret|credential|cookie|authori[sz]ation|bearer|jwt"
    r"|api_?key|private_?key|access_?key|credit_?card|card_?(?:num(?:ber)?|no)_|csrf|xsrf"
    r"|sess(?:ion)?_?id|token_(?:(?:value|val|str|string|data|raw)_)?$"
    r"|_(?:pwd|auth|session|ssn|cvv\d?|cvc\d?|iban|cc_?num(?:ber)?)_"
)
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_CARD_DIGITS_MIN = 13
_CARD_DIGITS_MAX = 19


def normalise_key(key: str) -> str:
    """Return `key` split at camelCase, lowercased, `_`-joined and padded with `_`."""
    text = _CAMEL.sub(r"\1_\2", _CAMEL_ACRONYM.sub(r"\1_\2", key))
    return "_" + _NON_ALNUM.sub("_", text.lower()).strip("_") + "_"


def is_sensitive_key(key: str) -> bool:
    """Whether a value stored under `key` must be redacted (see the module docstring)."""
    return _KEY.search(normalise_key(key)) is not None


def luhn_ok(digits: str) -> bool:
    """Whether a 13-19 digit string passes the Luhn checksum (payment card numbers do)."""
    if not _CARD_DIGITS_MIN <= len(digits) <= _CARD_DIGITS_MAX or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:  # noqa: PLR2004 - the Luhn "subtract nine" step
                value -= 9
        total += value
    return total % 10 == 0


# -- the text scanner ------------------------------------------------------------------------
# One alternation, tried left to right at each position; `_redaction_scan.scan_once`
# dispatches on the named group. Every quantifier is bounded or anchored to a word start, so a
# long string is scanned in linear time.

_AUTH_SCHEME = r"(?:[Bb]earer|BEARER|[Bb]asic|BASIC|[Tt]oken|TOKEN)"
PAIR_SEP = r"[\"']?[ \t]*[=:]{1,3}[ \t]*"
"""Between a key and its value: an optional closing quote, then `=` or `:`."""
PAIR_VALUE = rf"\"[^\"\n]*\"|'[^'\n]*'|(?:{_AUTH_SCHEME}[ \t]+)?[^\s\"'&,;:=]+"
"""A quoted value, or an unquoted one (optionally after an auth scheme) up to a delimiter.

An unquoted value stops at `:` and `=`; what follows (`pw=a:b`, `k=v: w`) is masked too, as a
chained value, so a value can never swallow the next key."""
_CREDENTIAL = r"(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{8,}=*(?![A-Za-z0-9._~+/-])"

SCAN_SOURCE = "|".join(
    (
        # A URL: credentials and sensitive query/fragment values (see redact_url).
        r"(?P<url>\b[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s\"'<>`{}|\\^]+)",
        # A private key block, up to its END line or, when cut, the end of the text.
        (
            r"(?P<pem>-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY-----(?s:.*?)"
            r"(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY-----|\Z))"
        ),
        # `key=value` / `key: value` / `"key": "value"`; whether the key is sensitive is decided
        # by the caller (cached per key). The possessive key never backtracks.
        (
            r"(?P<pair>(?P<pkey>(?<![\w.-])[\w.-]{1,64}+)"
            rf"(?P<psep>{PAIR_SEP})(?P<pval>{PAIR_VALUE}))"
        ),
        # `Bearer <credential>` / `Basic <base64>` in free text (the scheme is kept).
        rf"(?P<auth>\b{_AUTH_SCHEME}[ \t]+)(?P<cred>{_CREDENTIAL})",
        # A JSON Web Token.
        r"(?P<jwt>\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)",
        # Well-known token formats: AWS access key ids, GitHub, Slack, Stripe, Google API keys.
        (
            r"(?P<known>(?<![A-Za-z0-9])(?:(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"
            r"|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}"
            r"|xox[abposr]-[A-Za-z0-9-]{10,255}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,255}"
            r"|AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9]))"
        ),
        # A payment card number (checked with Luhn in the callback): IIN 2-6, 13-19 digits.
        r"(?P<card>(?<![\w.])(?<![0-9][ -])[2-6][0-9](?:[ -]?[0-9]){11,17}(?!\w|[ -][0-9]))",
    )
)
"""The combined secret-scanning pattern (compiled by `redaction._scan`)."""

_CARD_HINT = re.compile(r"[2-6][0-9]{3}")
_UNDERSCORE_TOKEN = re.compile(r"gh[pousr]_|github_pat_|k_(?:live|test)_")


def might_hold_secret(text: str) -> bool:
    """Cheap pre-check: False means no alternative of `SCAN_SOURCE` can match `text`.

    Every alternative needs one of these literals (a card needs four digits in a row), and
    `in` on a str runs at memchr speed, an order of magnitude faster than trying the combined
    pattern at every position. Keep in sync with `SCAN_SOURCE`.
    """
    return (
        "=" in text  # pairs
        or ":" in text  # pairs, URLs
        or "eyJ" in text  # JWTs
        or "PRIVATE KEY" in text
        or "earer" in text
        or "EARER" in text
        or "asic" in text
        or "ASIC" in text
        or "oken" in text
        or "OKEN" in text
        or "AKIA" in text
        or "ASIA" in text
        or "ABIA" in text
        or "ACCA" in text
        or "AIza" in text
        or ("_" in text and _UNDERSCORE_TOKEN.search(text) is not None)  # GitHub, Stripe
        or "xox" in text  # Slack
        or _CARD_HINT.search(text) is not None
    )
