"""Redaction of the five entities, and its properties under Hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _helpers import attribute_maps, entities
from flext_observability._internal.guard import internal_error_counts, reset_internal_errors
from flext_observability.models import (
    Entity,
    ExceptionInfo,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    SpanEvent,
    TraceStatus,
)
from flext_observability.redaction import MARKER, Redactor
from flext_observability.redaction._entity import mask_entity

CANARY = "Zq9-CANARY-7xK2pLm"
AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

TEXT_CARRIERS = [
    f"password={CANARY}",
    f"login failed: Authorization: Bearer {CANARY}",
    f"Bearer {CANARY}",
    f"connect https://app:{CANARY}@db.example.com/main failed",
    f"GET https://api.example.com/cb?token={CANARY}&page=2",
    f'payload {{"api_key": "{CANARY}"}}',
    f"client_secret: '{CANARY}'",
]
MAP_CARRIERS: list[dict[str, Any]] = [
    {"password": CANARY},
    {"X-Api-Key": CANARY},
    {"http.request.header.cookie": [CANARY, "b"]},
    {"note": f"retry with password={CANARY}"},
    {"url.full": f"https://u:{CANARY}@h.io/x"},
    {"args": ["ok", f"Bearer {CANARY}"]},
]
STR_MAP_CARRIERS = [m for m in MAP_CARRIERS if all(isinstance(v, str) for v in m.values())]


def _every_entity(text: str, attrs: dict[str, Any], str_map: dict[str, str]) -> list[Entity]:
    trace = FlextTrace(
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        span_id="00f067aa0ba902b7",
        operation_name="checkout",
        start_time=AT,
        status=TraceStatus.ERROR,
        status_message=text,
        attributes=attrs,
        context=str_map,
        events=[SpanEvent(name="retry", timestamp=AT, attributes=attrs)],
    )
    log = FlextLogEntry(
        message=text,
        context=attrs,
        exception=ExceptionInfo(type="ValueError", message=text, stacktrace=f"Traceback\n{text}"),
        timestamp=AT,
    )
    metric = FlextMetric(name="requests", value=1, tags=attrs, timestamp=AT)
    alert = FlextAlert(name="a", message=text, details=str_map, labels=str_map, timestamp=AT)
    health = FlextHealthCheck(name="db", message=text, details=attrs, timestamp=AT)
    return [trace, log, metric, alert, health]


@pytest.mark.parametrize("text", TEXT_CARRIERS)
@pytest.mark.parametrize("attrs", MAP_CARRIERS)
def test_canary_never_survives_any_field(text: str, attrs: dict[str, Any]) -> None:
    """A canary secret in every scrubbed field of every entity is gone after redaction."""
    str_map = STR_MAP_CARRIERS[len(text) % len(STR_MAP_CARRIERS)]
    redactor = Redactor()
    for entity in _every_entity(text, attrs, str_map):
        assert CANARY in entity.model_dump_json()
        redacted = redactor.redact_entity(entity)
        assert redacted is not entity
        assert CANARY not in redacted.model_dump_json()
        assert type(redacted).model_validate_json(redacted.model_dump_json()) == redacted
        assert redactor.redact_entity(redacted) is redacted


def test_redacted_entities_whole_structure() -> None:
    """Only the secret parts change; ids, names, times and clean fields are kept."""
    text = f"retry with password={CANARY} now"
    attrs = {"password": CANARY, "http.route": "/pay", "n": 3}
    trace, log, metric, alert, health = (
        Redactor().redact_entity(e) for e in _every_entity(text, attrs, {"token": CANARY})
    )
    clean_attrs = {"password": MARKER, "http.route": "/pay", "n": 3}
    clean_text = f"retry with password={MARKER} now"
    assert isinstance(trace, FlextTrace)
    assert trace.model_dump(
        include={"id", "status_message", "attributes", "context", "events"}
    ) == {
        "id": "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "status_message": clean_text,
        "attributes": clean_attrs,
        "context": {"token": MARKER},
        "events": [{"name": "retry", "timestamp": AT, "attributes": clean_attrs}],
    }
    assert isinstance(log, FlextLogEntry)
    assert log.model_dump(include={"message", "context", "exception"}) == {
        "message": clean_text,
        "context": clean_attrs,
        "exception": {
            "type": "ValueError",
            "message": clean_text,
            "stacktrace": f"Traceback\n{clean_text}",
        },
    }
    assert isinstance(metric, FlextMetric)
    assert metric.tags == clean_attrs
    assert isinstance(alert, FlextAlert)
    original_alert = FlextAlert(name="a", message=text, labels={"token": CANARY}, timestamp=AT)
    assert alert.model_dump(include={"message", "details", "labels", "fingerprint"}) == {
        "message": clean_text,
        "details": {"token": MARKER},
        "labels": {"token": MARKER},
        "fingerprint": original_alert.fingerprint,
    }
    assert isinstance(health, FlextHealthCheck)
    assert health.model_dump(include={"message", "details"}) == {
        "message": clean_text,
        "details": clean_attrs,
    }


def test_clean_entities_come_back_as_the_same_object() -> None:
    """Nothing to scrub: the very same instance is returned (the cheap path)."""
    redactor = Redactor()
    for entity in _every_entity("all good", {"http.route": "/x", "n": [1, 2]}, {"k": "v"}):
        assert redactor.redact_entity(entity) is entity
    secret = _every_entity("password=x", {}, {})
    assert all(Redactor.disabled().redact_entity(e) is e for e in secret)


def test_entity_failure_masks_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """If scrubbing an entity fails, a fully masked copy comes back and the error is counted."""
    reset_internal_errors()

    def broken(_self: Redactor, _attributes: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Redactor, "redact_changed", broken)
    redactor = Redactor()
    for entity in _every_entity("zsecretz", {"a": "zsecretz", "b": 1}, {"c": "zsecretz"}):
        masked = redactor.redact_entity(entity)
        assert masked == mask_entity(entity)
        assert "zsecretz" not in masked.model_dump_json()
    assert internal_error_counts() == {"redaction.entity": 5}
    reset_internal_errors()


def test_mask_entity_whole_structure() -> None:
    """The fail-closed copy masks every scrubbable field and keeps the keys."""
    trace, log, _, alert, health = (
        mask_entity(e) for e in _every_entity("t", {"a": 1}, {"c": "y"})
    )
    assert isinstance(trace, FlextTrace)
    assert (trace.status_message, trace.attributes, trace.context) == (
        MARKER,
        {"a": MARKER},
        {"c": MARKER},
    )
    assert trace.events[0].attributes == {"a": MARKER}
    assert isinstance(log, FlextLogEntry)
    assert log.exception == ExceptionInfo(type="ValueError", message=MARKER, stacktrace=MARKER)
    assert isinstance(alert, FlextAlert)
    assert (alert.message, alert.details, alert.labels) == (MARKER, {"c": MARKER}, {"c": MARKER})
    assert isinstance(health, FlextHealthCheck)
    assert (health.message, health.details) == (MARKER, {"a": MARKER})


# -- properties -------------------------------------------------------------------------------

FRAGMENTS = [
    "password=",
    "token: ",
    "Bearer ",
    "Basic ",
    "https://",
    "user:pw@",
    "?token=",
    "&sig=",
    "#",
    "@",
    "=",
    '"',
    "'",
    " ",
    "4111 1111 1111 1111",
    "4111111111111111",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOi.eyJzdWIiOi.sig",
    "-----BEGIN PRIVATE KEY-----",
    "-----END PRIVATE KEY-----",
    "\ud800",
    MARKER,
    "REDACTED",
]
texts = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(FRAGMENTS)), max_size=12).map(
    "".join
)
sensitive_keys = st.sampled_from(
    ["password", "api_key", "X-Auth-Token", "set-cookie", "sessionId", "client_secret", "ssn"]
)
secrets_ = st.from_regex(r"\AQ[A-Za-z0-9]{7,24}\Z")


class _Weird:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    __hash__ = object.__hash__


weird_values = st.recursive(
    st.one_of(texts, st.integers(), st.floats(), st.booleans(), st.none(), st.builds(_Weird)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_text_never_raises_and_is_idempotent(text: str) -> None:
    """redact_text returns a string, and redacting twice changes nothing more."""
    redactor = Redactor()
    once = redactor.redact_text(text)
    assert isinstance(once, str)
    assert redactor.redact_text(once) == once
    assert redactor.redact_url(redactor.redact_url(text)) == redactor.redact_url(text)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=10), weird_values, max_size=5))
def test_attributes_never_raise(attributes: dict[str, Any]) -> None:
    """Arbitrary nested maps with hostile objects never make redaction raise."""
    redacted = Redactor().redact_attributes(attributes)
    assert set(redacted) <= {k.encode("utf-8", "replace").decode() for k in attributes} | set(
        attributes
    )


@settings(max_examples=150, deadline=None)
@given(attribute_maps())
def test_attribute_maps_idempotent(attributes: dict[str, Any]) -> None:
    """Redacting an attribute map twice gives the same result as once."""
    redactor = Redactor()
    once = redactor.redact_attributes(attributes)
    assert redactor.redact_attributes(once) == once


@settings(max_examples=200, deadline=None)
@given(key=sensitive_keys, secret=secrets_, prefix=texts, suffix=texts, style=st.integers(0, 4))
def test_secret_under_sensitive_key_never_survives(
    key: str, secret: str, prefix: str, suffix: str, style: int
) -> None:
    """A generated secret stored or written under a sensitive key never reaches the output."""
    redactor = Redactor()
    assert redactor.redact_attributes({key: secret, "other": prefix}) == {
        key: MARKER,
        "other": redactor.redact_text(prefix),
    }
    carrier = [
        f"{key}={secret}",
        f'"{key}": "{secret}"',
        f"{key}: {secret}",
        f"https://x.io/p?{key}={secret}",
        f"https://u:{secret}@x.io/",
    ][style]
    # A separator keeps random text from gluing onto the key or the secret.
    out = redactor.redact_text(f"{prefix} {carrier} {suffix}")
    assert secret not in out


@settings(max_examples=150, deadline=None)
@given(entities())
def test_entities_never_raise_and_are_idempotent(entity: Entity) -> None:
    """Any valid entity redacts without raising into a valid entity, idempotently."""
    redactor = Redactor()
    once = redactor.redact_entity(entity)
    assert type(once) is type(entity)
    assert type(once).model_validate_json(once.model_dump_json()) == once
    assert redactor.redact_entity(once) is once
