"""FlextAlert: severity, statuses, every lifecycle transition, stable fingerprint."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from _helpers import run_python, validation_errors
from flext_observability import FlextResult
from flext_observability.models import AlertSeverity, AlertStatus, FlextAlert, alert_fingerprint
from flext_observability.testing import FAKE_START, FakeClock

T0 = datetime(2024, 1, 1, tzinfo=UTC)
_FINGERPRINT = "9ebadd4e31661b33ea521be51a0cea34"
_LABELS = {"host": "a", "mount": "/"}


def _alert(**overrides: Any) -> FlextAlert:
    data: dict[str, Any] = {"name": "disk full", "message": "disk at 95%", "timestamp": T0}
    return FlextAlert.model_validate({**data, **overrides})


def test_defaults_and_full_dump() -> None:
    """A new alert is active, manual, warning, with a fingerprint of name, source and labels."""
    alert = _alert(
        id="a1",
        severity="ERROR",
        source="rule:disk",
        labels=_LABELS,
        details={"used": "95%"},
        value=95.0,
        threshold=90,
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
    )
    assert alert.model_dump(mode="json") == {
        "id": "a1",
        "timestamp": "2024-01-01T00:00:00Z",
        "service_name": None,
        "name": "disk full",
        "message": "disk at 95%",
        "severity": "error",
        "status": "active",
        "details": {"used": "95%"},
        "labels": {"host": "a", "mount": "/"},
        "source": "rule:disk",
        "fingerprint": _FINGERPRINT,
        "resolved_at": None,
        "acknowledged_at": None,
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "value": 95.0,
        "threshold": 90.0,
    }
    assert (_alert().severity, _alert().status, _alert().source) == (
        AlertSeverity.WARNING,
        AlertStatus.ACTIVE,
        "manual",
    )


@pytest.mark.parametrize("text", ["info", "INFO", "Warning", " error ", "CriTical"])
def test_severity_is_case_insensitive_and_stored_lowercase(text: str) -> None:
    """Severity input is case-insensitive and stored as the lowercase enum value."""
    severity = _alert(severity=text).severity
    assert (severity, severity.value) == (AlertSeverity(text.strip().lower()), text.strip().lower())


@pytest.mark.parametrize("bad", ["warn", "fatal", "", "severe", 3, None])
def test_unknown_severity_is_rejected(bad: object) -> None:
    """Anything but info/warning/error/critical fails with "Invalid severity level"."""
    errors = validation_errors(FlextAlert, {"name": "n", "message": "m", "severity": bad})
    assert errors == [
        (
            "severity",
            f"Invalid severity level: expected one of info, warning, error, critical, got {bad!r}",
        )
    ]


@pytest.mark.parametrize("status", list(AlertStatus))
def test_every_status_is_accepted(status: AlertStatus) -> None:
    """active/acknowledged/resolved/suppressed are accepted in any case."""
    assert _alert(status=status.value.upper()).status is status


def test_unknown_status_is_rejected() -> None:
    """An unknown status is rejected with the allowed list."""
    errors = validation_errors(FlextAlert, {"name": "n", "message": "m", "status": "open"})
    assert errors == [
        (
            "status",
            (
                "Invalid alert: status: expected one of active, acknowledged, resolved, "
                "suppressed, got 'open'"
            ),
        )
    ]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", "Invalid alert: name cannot be empty"),
        ("message", "Invalid alert: message cannot be empty"),
    ],
)
@pytest.mark.parametrize("blank", ["", "  "])
def test_name_and_message_must_not_be_blank(field: str, message: str, blank: str) -> None:
    """An alert's name and message are non-empty."""
    data = {"name": "n", "message": "m", field: blank}
    assert validation_errors(FlextAlert, data) == [(field, message)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("trace_id", "ABC", "Invalid alert: trace_id must be 32 lowercase hex digits, got 'ABC'"),
        ("span_id", "0" * 16, "Invalid alert: span_id must not be all zeros"),
        ("details", {"n": 1}, "Input should be a valid string"),
        ("value", float("inf"), "Input should be a finite number"),
    ],
)
def test_invalid_links_and_details_are_rejected(field: str, value: object, message: str) -> None:
    """trace/span ids are W3C ids, details are strings, value/threshold are finite."""
    errors = validation_errors(FlextAlert, {"name": "n", "message": "m", field: value})
    location = "details.n" if field == "details" else field
    assert errors == [(location, message)]


# Every (from-status, action) pair and its outcome. Anything out of resolved is a failure.
_TRANSITIONS = [
    (AlertStatus.ACTIVE, "acknowledge", AlertStatus.ACKNOWLEDGED),
    (AlertStatus.ACTIVE, "resolve", AlertStatus.RESOLVED),
    (AlertStatus.ACTIVE, "suppress", AlertStatus.SUPPRESSED),
    (AlertStatus.ACTIVE, "escalate", AlertStatus.ACTIVE),
    (AlertStatus.ACKNOWLEDGED, "acknowledge", AlertStatus.ACKNOWLEDGED),
    (AlertStatus.ACKNOWLEDGED, "resolve", AlertStatus.RESOLVED),
    (AlertStatus.ACKNOWLEDGED, "suppress", AlertStatus.SUPPRESSED),
    (AlertStatus.ACKNOWLEDGED, "escalate", AlertStatus.ACKNOWLEDGED),
    (AlertStatus.SUPPRESSED, "acknowledge", AlertStatus.ACKNOWLEDGED),
    (AlertStatus.SUPPRESSED, "resolve", AlertStatus.RESOLVED),
    (AlertStatus.SUPPRESSED, "suppress", AlertStatus.SUPPRESSED),
    (AlertStatus.SUPPRESSED, "escalate", AlertStatus.SUPPRESSED),
]


@pytest.mark.parametrize(("start", "action", "end"), _TRANSITIONS)
def test_allowed_transitions(start: AlertStatus, action: str, end: AlertStatus) -> None:
    """Every transition out of an open status succeeds and returns a new alert."""
    alert = _alert(status=start, severity="info")
    result: FlextResult[FlextAlert] = getattr(alert, action)()
    assert result.is_success
    new = result.value
    expected_severity = AlertSeverity.WARNING if action == "escalate" else AlertSeverity.INFO
    assert (new.status, new.severity) == (end, expected_severity)
    assert (new.id, new.fingerprint, new.name) == (alert.id, alert.fingerprint, alert.name)
    assert (alert.status, alert.severity) == (start, AlertSeverity.INFO)


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "suppress", "escalate"])
def test_every_transition_out_of_resolved_fails(action: str) -> None:
    """A resolved alert is final: every action on it is a failure with INVALID_TRANSITION."""
    resolved = _alert(status="resolved", severity="info")
    result: FlextResult[FlextAlert] = getattr(resolved, action)()
    assert result == FlextResult[FlextAlert].fail(
        f"Invalid alert: cannot {action} an alert that is already resolved",
        error_code="INVALID_TRANSITION",
    )


def test_escalate_walks_the_severity_ladder_and_stops_at_critical() -> None:
    """escalate() goes info → warning → error → critical; critical cannot escalate."""
    alert = _alert(severity="info")
    seen = [alert.severity]
    for _ in range(3):
        alert = alert.escalate().value
        seen.append(alert.severity)
    assert seen == [
        AlertSeverity.INFO,
        AlertSeverity.WARNING,
        AlertSeverity.ERROR,
        AlertSeverity.CRITICAL,
    ]
    assert alert.escalate() == FlextResult[FlextAlert].fail(
        "Invalid alert: severity is already critical", error_code="INVALID_TRANSITION"
    )


def test_acknowledge_and_resolve_record_times() -> None:
    """acknowledge/resolve record their time (UTC); a second acknowledge keeps the first."""
    plus_one = timezone(timedelta(hours=1))
    acked = _alert().acknowledge(at=datetime(2024, 1, 1, 1, tzinfo=plus_one)).value
    again = acked.acknowledge(at=T0 + timedelta(hours=5)).value
    resolved = again.resolve(at=datetime(2024, 1, 1, 2)).value  # noqa: DTZ001 - read as UTC
    assert (acked.acknowledged_at, again.acknowledged_at) == (T0, T0)
    assert (resolved.status, resolved.resolved_at, resolved.acknowledged_at) == (
        AlertStatus.RESOLVED,
        T0 + timedelta(hours=2),
        T0,
    )
    assert (resolved.is_active, acked.is_active, _alert().is_active) == (False, True, True)


def test_transition_times_default_to_now(flext_clock: FakeClock) -> None:
    """Without `at`, acknowledge and resolve use the current UTC time."""
    acked = _alert().acknowledge().value
    flext_clock.advance(90)
    resolved = acked.resolve().value
    assert (resolved.acknowledged_at, resolved.resolved_at) == (
        FAKE_START,
        FAKE_START + timedelta(seconds=90),
    )


def test_fingerprint_depends_on_name_source_and_labels_only() -> None:
    """The fingerprint ignores message, details, severity and label order."""
    base = _alert(source="rule:disk", labels=_LABELS)
    same = _alert(
        source="rule:disk",
        labels={"mount": "/", "host": "a"},
        message="other",
        details={"x": "y"},
        severity="critical",
    )
    assert base.fingerprint == same.fingerprint == _FINGERPRINT
    variants = {
        _alert(name="other", source="rule:disk", labels=_LABELS).fingerprint,
        _alert(source="manual", labels=_LABELS).fingerprint,
        _alert(source="rule:disk", labels={"host": "b", "mount": "/"}).fingerprint,
        _alert(source="rule:disk").fingerprint,
    }
    assert len(variants | {base.fingerprint}) == 5


def test_explicit_fingerprint_is_kept() -> None:
    """A fingerprint given explicitly (e.g. read back from JSON) is kept as is."""
    assert _alert(fingerprint="custom").fingerprint == "custom"


def test_fingerprint_is_stable_across_processes_and_hash_seeds() -> None:
    """Fresh interpreters with different PYTHONHASHSEED compute the same pinned fingerprint."""
    code = (
        "from flext_observability.models import FlextAlert, alert_fingerprint\n"
        "a = FlextAlert(name='disk full', message='m', source='rule:disk',"
        " labels={'mount': '/', 'host': 'a'})\n"
        "print(a.fingerprint, alert_fingerprint('disk full', 'rule:disk', {'host': 'a', "
        "'mount': '/'}))\n"
    )
    outputs = {
        run_python(code, env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("0", "1", "4242")
    }
    assert outputs == {f"{_FINGERPRINT} {_FINGERPRINT}"}
    assert alert_fingerprint("disk full", "rule:disk", _LABELS) == _FINGERPRINT
