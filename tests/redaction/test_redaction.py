"""Redaction rules: keys, secrets in text, URLs, Luhn, allow-list, configuration."""

from __future__ import annotations

import pytest

from _helpers import run_python
from flext_observability._internal.guard import internal_error_counts, reset_internal_errors
from flext_observability.exceptions import ConfigurationError
from flext_observability.redaction import MARKER, Redactor
from flext_observability.redaction._rules import is_sensitive_key, luhn_ok, normalise_key

SENSITIVE_KEYS = [
    "password",
    "PASSWORD",
    "userPassword",
    "db.passwd",
    "mysql_pwd",
    "passphrase",
    "client_secret",
    "SECRET_KEY",
    "token",
    "access_token",
    "accessToken",
    "authtoken",
    "X-Auth-Token",
    "refresh-token",
    "token_value",
    "auth",
    "Authorization",
    "http.request.header.authorization",
    "Proxy-Authorization",
    "api_key",
    "apiKey",
    "APIKey",
    "x-api-key",
    "access key",
    "aws_access_key_id",
    "private_key",
    "privateKey",
    "credentials",
    "cookie",
    "Set-Cookie",
    "http.response.header.set-cookie",
    "session",
    "session.id",
    "sessionid",
    "PHPSESSID",
    "csrf",
    "X-XSRF-TOKEN",
    "csrftoken",
    "jwt",
    "bearer",
    "credit_card",
    "creditCardNumber",
    "card_number",
    "cardNo",
    "cc_number",
    "cvv",
    "cvv2",
    "ssn",
    "userSSN",
    "iban",
]

KEPT_KEYS = [
    "author",
    "authority",
    "authenticated",
    "oauth",
    "tokenizer",
    "tokens",
    "input_tokens",
    "gen_ai.usage.input_tokens",
    "gen_ai.token.type",
    "token_count",
    "refresh_token_expires_at",
    "sessions",
    "classname",
    "business_name",
    "keyboard",
    "monkey",
    "http.request.method",
    "url.full",
    "user.id",
    "account",
    "card_type",
    "",
]


@pytest.mark.parametrize("key", SENSITIVE_KEYS)
def test_sensitive_keys_are_redacted(key: str) -> None:
    """A value under any deny-listed key spelling becomes the marker, whatever its type."""
    redactor = Redactor()
    assert is_sensitive_key(key)
    assert redactor.redact_attributes({key: "hunter2", "n": 1}) == {key: MARKER, "n": 1}
    assert redactor.redact_value(key, 1234) == MARKER
    assert redactor.redact_value(key, ["a", "b"]) == MARKER
    assert redactor.redact_value(key, None) is None


@pytest.mark.parametrize("key", KEPT_KEYS)
def test_false_positive_keys_are_kept(key: str) -> None:
    """Keys that merely contain a deny-listed word (author, tokenizer, input_tokens) are kept."""
    assert not is_sensitive_key(key)
    assert Redactor().redact_attributes({key: "plain value", "n": 3}) == {
        key: "plain value",
        "n": 3,
    }


def test_key_normalisation() -> None:
    """CamelCase and acronyms are split; separators collapse to one underscore; padded."""
    assert [normalise_key(k) for k in ("XAuthToken", "APIKey", "a..b--c", "userSSN", "")] == [
        "_x_auth_token_",
        "_api_key_",
        "_a_b_c_",
        "_user_ssn_",
        "__",
    ]


def test_allow_list_is_exact_and_case_insensitive() -> None:
    """Allowed keys are never redacted; the allow-list does not widen to similar keys."""
    redactor = Redactor(allow=("Session_Count", "auth_method"))
    attributes = {
        "session_count": 4,
        "SESSION_COUNT": 5,
        "auth_method": "oidc",
        "session_id": "abc",
        "password": "x",
    }
    assert redactor.redact_attributes(attributes) == {
        "session_count": 4,
        "SESSION_COUNT": 5,
        "auth_method": "oidc",
        "session_id": MARKER,
        "password": MARKER,
    }
    assert redactor.redact_text("auth_method=oidc password=x") == (
        f"auth_method=oidc password={MARKER}"
    )


TEXT_CASES = [
    ("password=hunter2 user=bob", f"password={MARKER} user=bob"),
    ("login with passwd: s3cret!, retrying", f"login with passwd: {MARKER}, retrying"),
    ('{"api_key": "abc def", "n": 1}', f'{{"api_key": "{MARKER}", "n": 1}}'),
    ("{'token': 'xyz'}", f"{{'token': '{MARKER}'}}"),
    ("Authorization: Bearer abc.def-123456", f"Authorization: {MARKER}"),
    ("sent Bearer abc.def-123456 upstream", f"sent Bearer {MARKER} upstream"),
    ("header Basic dXNlcjpwYXNzd29yZA== ok", f"header Basic {MARKER} ok"),
    ("Basic authentication is enabled", "Basic authentication is enabled"),
    ("a bearer token was refused", "a bearer token was refused"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl end",
        f"jwt {MARKER} end",
    ),
    ("key AKIAIOSFODNN7EXAMPLE used", f"key {MARKER} used"),
    ("gh ghp_" + "a1" * 18 + " done", f"gh {MARKER} done"),
    ("stripe sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", f"stripe {MARKER}"),
    ("slack xoxb-1234567890-abcdefghij", f"slack {MARKER}"),
    ("google AIza" + "S" * 35, f"google {MARKER}"),
    ("paid with 4111 1111 1111 1111 today", f"paid with {MARKER} today"),
    ("paid with 4111-1111-1111-1111.", f"paid with {MARKER}."),
    ("card 5500005555555559", f"card {MARKER}"),
    ("not a card 4111 1111 1111 1112", "not a card 4111 1111 1111 1112"),
    ("epoch 1700000000000 ms", "epoch 1700000000000 ms"),
    ("trace 4bf92f3577b34da6a3ce929d0e0e4736", "trace 4bf92f3577b34da6a3ce929d0e0e4736"),
    (
        "k -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY----- tail",
        f"k {MARKER} tail",
    ),
    ("cut -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN", f"cut {MARKER}"),
    ("author=bob tokenizer=bpe", "author=bob tokenizer=bpe"),
    ("author=https://u:pw@h/x", "author=https://REDACTED:REDACTED@h/x"),
    ("note=x=password=hunter2", f"note=x=password={MARKER}"),
    ("/reset?sig=abc&page=2", f"/reset?sig={MARKER}&page=2"),
    ("Error: timeout after 30s", "Error: timeout after 30s"),
    ("", ""),
    ("GET", "GET"),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES)
def test_secrets_in_text(text: str, expected: str) -> None:
    """Only the matched secret is replaced; the rest of the text is kept byte for byte."""
    assert Redactor().redact_text(text) == expected


URL_CASES = [
    ("https://user:pw@example.com/a", "https://REDACTED:REDACTED@example.com/a"),
    ("https://ghp_token@github.com/o/r.git", "https://REDACTED:REDACTED@github.com/o/r.git"),
    ("postgres://app:s3cr3t@db:5432/main", "postgres://REDACTED:REDACTED@db:5432/main"),
    ("https://a@b:pw@h.io/x?y=1", "https://REDACTED:REDACTED@h.io/x?y=1"),
    ("https://example.com/p?q=1&x=2", "https://example.com/p?q=1&x=2"),
    (
        "https://s3.amazonaws.com/b/k?AWSAccessKeyId=AK&Signature=abc&Expires=1",
        "https://s3.amazonaws.com/b/k?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1",
    ),
    (
        "https://x.blob.core.windows.net/c?sv=1&sig=abc%2Bdef",
        "https://x.blob.core.windows.net/c?sv=1&sig=REDACTED",
    ),
    (
        "https://storage.googleapis.com/b/o?X-Goog-Signature=ab12&X-Goog-Date=2024",
        "https://storage.googleapis.com/b/o?X-Goog-Signature=REDACTED&X-Goog-Date=2024",
    ),
    (
        "https://api.io/v1?api_key=k1&access_token=t1&page=3",
        "https://api.io/v1?api_key=REDACTED&access_token=REDACTED&page=3",
    ),
    ("https://api.io/v1?api%5Fkey=k1", "https://api.io/v1?api%5Fkey=REDACTED"),
    (
        "https://app.io/cb#access_token=t1&state=s",
        "https://app.io/cb#access_token=REDACTED&state=s",
    ),
    ("https://app.io/p?password=x#frag", "https://app.io/p?password=REDACTED#frag"),
    ("https://app.io/p?flag&token", "https://app.io/p?flag&token"),
    ("/relative/path?token=t&x=1", "/relative/path?token=REDACTED&x=1"),
    ("?sig=abc", "?sig=REDACTED"),
    ("https://[::1]:8080/x", "https://[::1]:8080/x"),
    ("https://author:x@h/?author=me", "https://REDACTED:REDACTED@h/?author=me"),
]


@pytest.mark.parametrize(("url", "expected"), URL_CASES)
def test_redact_url(url: str, expected: str) -> None:
    """URL credentials become REDACTED:REDACTED and sensitive query values REDACTED."""
    redactor = Redactor()
    assert redactor.redact_url(url) == expected
    assert redactor.redact_url(expected) == expected


def test_urls_inside_text_are_redacted() -> None:
    """A URL anywhere in a string gets the URL treatment; the surrounding text stays."""
    text = "fetching https://bob:hunter2@api.io/x?token=abc&n=1 (attempt 2)"
    assert Redactor().redact_text(text) == (
        "fetching https://REDACTED:REDACTED@api.io/x?token=REDACTED&n=1 (attempt 2)"
    )


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("5500005555555559", True),
        ("378282246310005", True),
        ("6011111111111117", True),
        ("4111111111111112", False),
        ("411111111111", False),
        ("41111111111111111111", False),
        ("4111a11111111111", False),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    """Luhn accepts real test card numbers of 13-19 digits and nothing else."""
    assert luhn_ok(digits) is valid


def test_extra_patterns() -> None:
    """Each extra pattern's matches become the marker, after the built-in rules."""
    redactor = Redactor(extra_patterns=(r"EMP-\d{6}", r"(?i)internal-[a-z]+"))
    assert redactor.redact_text("user EMP-123456 on INTERNAL-host, password=x") == (
        f"user {MARKER} on {MARKER}, password={MARKER}"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"extra_patterns": ("(unclosed",)}, "redaction_extra_patterns: invalid regular"),
        ({"extra_patterns": (42,)}, "redaction_extra_patterns: expected regular expression"),
        ({"allow": (None,)}, "redaction_allow: expected attribute key strings, got NoneType"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    """Bad patterns or allow entries raise ConfigurationError naming the setting."""
    with pytest.raises(ConfigurationError, match=message) as info:
        Redactor(**kwargs)  # type: ignore[arg-type]
    assert "(unclosed" not in str(info.value)


def test_disabled_is_identity() -> None:
    """A disabled redactor returns its inputs unchanged and flags no key."""
    redactor = Redactor.disabled()
    attributes = {"password": "x"}
    assert not redactor.enabled
    assert redactor.redact_text("password=x") == "password=x"
    assert redactor.redact_url("https://u:p@h") == "https://u:p@h"
    assert redactor.redact_value("password", "x") == "x"
    assert redactor.redact_attributes(attributes) == attributes
    assert redactor.redact_changed(attributes) is None
    assert not redactor.is_sensitive("password")


def test_nested_values_and_types() -> None:
    """Sequences keep their type; nested maps are redacted key by key; deep nesting is masked."""
    redactor = Redactor()
    deep: object = "password=x"
    for _ in range(12):
        deep = [deep]
    value = {
        "list": ["ok", "token=abc"],
        "tuple": ("ok", "Bearer abc.def-123456"),
        "map": {"password": 1, "inner": {"api_key": ["a"]}, "n": 2.5},
        "flag": True,
        "blob": b"password=x",
        "deep": deep,
    }
    redacted = redactor.redact_value("body", value)
    assert redacted["list"] == ["ok", f"token={MARKER}"]
    assert redacted["tuple"] == ("ok", f"Bearer {MARKER}")
    assert redacted["map"] == {"password": MARKER, "inner": {"api_key": MARKER}, "n": 2.5}
    assert redacted["flag"] is True
    assert redacted["blob"] == b"password=x"
    assert "password=x" not in repr(redacted["deep"])
    clean = {"a": ["x", "y"], "b": 1}
    assert redactor.redact_value("body", clean) is clean


def test_lone_surrogates_are_replaced() -> None:
    """Lone surrogates in values and keys become U+FFFD so encoders cannot fail."""
    redactor = Redactor()
    assert redactor.redact_text("a\ud800b") == "a\ufffdb"
    assert redactor.redact_attributes({"k\udfff": "v\ud800"}) == {"k\ufffd": "v\ufffd"}


def test_repr_does_not_echo_patterns() -> None:
    """The repr shows the configuration shape, never the extra patterns themselves."""
    redactor = Redactor(extra_patterns=("hunter2",), allow=("b", "a"))
    assert repr(redactor) == "Redactor(enabled=True, extra_patterns=1, allow=['a', 'b'])"


def test_internal_error_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """If scrubbing itself fails, the whole value is masked and the error is counted."""
    reset_internal_errors()
    redactor = Redactor()

    def broken(_self: Redactor, _text: str) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(Redactor, "_scan", broken)
    assert redactor.redact_text("password=x") == MARKER
    assert redactor.redact_url("https://u:p@h/?x") == "https://REDACTED:REDACTED@h/?x"
    assert redactor.redact_attributes({"a": "x", "b": 1}) == {"a": MARKER, "b": MARKER}
    assert redactor.redact_changed({"a": "x"}) == {"a": MARKER}
    assert redactor.redact_value("a", "x") == MARKER
    assert internal_error_counts() == {
        "redaction.text": 1,
        "redaction.attributes": 2,
        "redaction.value": 1,
    }
    reset_internal_errors()


def test_core_module_does_not_import_opentelemetry() -> None:
    """Importing the redaction module loads no opentelemetry module (the core rule)."""
    out = run_python(
        "import sys, flext_observability.redaction as r; r.Redactor().redact_text('x=1');"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    assert out == "[]"
