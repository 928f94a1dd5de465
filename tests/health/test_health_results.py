"""Normalising what a health check returns, and the aggregate rules (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flext_observability.health import STATUS_VALUES, aggregate, normalize_outcome, status_value
from flext_observability.models import FlextHealthCheck, HealthStatus
from flext_observability.result import FlextResult

H, D, U, K = (
    HealthStatus.HEALTHY,
    HealthStatus.DEGRADED,
    HealthStatus.UNHEALTHY,
    HealthStatus.UNKNOWN,
)


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class _UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def _summary(result: FlextHealthCheck) -> dict[str, Any]:
    return {
        "name": result.name,
        "status": result.status,
        "message": result.message,
        "duration_ms": result.duration_ms,
        "service_name": result.service_name,
    }


@pytest.mark.parametrize(
    ("outcome", "status", "message"),
    [
        (HealthStatus.DEGRADED, D, ""),
        ("healthy", H, ""),
        (" Unhealthy ", U, ""),
        ("DEGRADED", D, ""),
        (True, H, ""),
        (False, U, ""),
        (None, H, ""),
        (("degraded", "replica lag 3s"), D, "replica lag 3s"),
        ((False, "db down"), U, "db down"),
        ((HealthStatus.HEALTHY, _Unprintable()), H, "<unprintable>"),
        (FlextResult.ok("degraded"), D, ""),
        (FlextResult.ok(None), H, ""),
        (FlextResult.fail("cannot reach db"), U, "cannot reach db"),
        (ValueError("bad config"), U, "ValueError: bad config"),
        (RuntimeError(), U, "RuntimeError"),
        (_UnprintableError(), U, "_UnprintableError: <unprintable>"),
        (
            FileNotFoundError(2, "No such file or directory", "/secret/canary/path.db"),
            U,
            "FileNotFoundError: No such file or directory",
        ),
        (42, K, "check returned an unsupported value of type int"),
        ("bogus", K, "check returned an unsupported value of type str"),
        (("healthy", "a", "b"), K, "check returned an unsupported value of type tuple"),
        (("sideways", "x"), K, "check returned an unsupported value of type tuple"),
        (object(), K, "check returned an unsupported value of type object"),
    ],
)
def test_each_return_type_normalises_to_its_status_and_message(
    outcome: object, status: HealthStatus, message: str
) -> None:
    """Every supported return (or exception) maps to the documented status and message."""
    result = normalize_outcome("db", outcome, duration_ms=1.5, service_name="svc")
    assert _summary(result) == {
        "name": "db",
        "status": status,
        "message": message,
        "duration_ms": 1.5,
        "service_name": "svc",
    }


def test_a_returned_entity_is_kept_but_renamed_and_completed() -> None:
    """A returned FlextHealthCheck is taken as is, with the registered name forced on it."""
    given_check = FlextHealthCheck(
        name="other", status=HealthStatus.DEGRADED, message="slow", details={"lag_s": 3}
    )
    result = normalize_outcome("db", given_check, duration_ms=2.0, service_name="svc")
    assert result.model_dump() == {
        **given_check.model_dump(),
        "name": "db",
        "duration_ms": 2.0,
        "service_name": "svc",
    }
    timed = FlextHealthCheck(
        name="x", status=HealthStatus.HEALTHY, duration_ms=9.0, service_name="mine"
    )
    kept = normalize_outcome("db", timed, duration_ms=2.0, service_name="svc")
    assert (kept.name, kept.duration_ms, kept.service_name) == ("db", 9.0, "mine")


def test_long_messages_are_truncated() -> None:
    """An exception message is capped, so one check cannot flood the probe output."""
    result = normalize_outcome("db", ValueError("x" * 5000), duration_ms=None)
    assert len(result.message) == 500
    assert result.message.startswith("ValueError: xxx")
    assert result.message.endswith("...")


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(),
        st.binary(),
        st.tuples(st.text(), st.text()),
        st.tuples(st.booleans(), st.integers()),
        st.lists(st.integers()),
        st.dictionaries(st.text(), st.integers()),
        st.sampled_from(list(HealthStatus)),
        st.builds(ValueError, st.text()),
    )
)
def test_normalising_never_raises_and_always_round_trips(outcome: object) -> None:
    """Whatever a check returns, normalising yields a valid entity that survives JSON."""
    result = normalize_outcome("check", outcome, duration_ms=0.0)
    assert result.name == "check"
    assert result.status in set(HealthStatus)
    assert FlextHealthCheck.model_validate_json(result.model_dump_json()) == result


def _r(status: HealthStatus) -> FlextHealthCheck:
    return FlextHealthCheck(name="c", status=status)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], K),
        ([(None, True)], K),
        ([(None, True), (None, False)], K),
        ([(_r(H), True)], H),
        ([(_r(H), True), (_r(H), False)], H),
        ([(_r(U), True), (_r(H), False)], U),
        ([(_r(U), False), (_r(H), True)], D),
        ([(_r(D), True), (_r(H), True)], D),
        ([(_r(D), False)], D),
        ([(_r(U), True), (_r(D), True)], U),
        ([(_r(H), True), (None, True)], K),
        ([(_r(H), True), (_r(K), False)], K),
        ([(_r(D), True), (_r(K), True)], D),
        ([(_r(U), True), (None, True)], U),
        ([(_r(K), True)], K),
    ],
)
def test_aggregate_rules(pairs: list[tuple[FlextHealthCheck | None, bool]], expected: str) -> None:
    """Critical unhealthy → unhealthy; other bad → degraded; all healthy → healthy; else unknown."""
    assert aggregate(pairs) is HealthStatus(expected)


def test_gauge_values_order_statuses_from_best_to_worst() -> None:
    """The flext.health.status gauge value is 1/0.5/0/-1 for healthy/degraded/unhealthy/unknown."""
    assert {s.value: status_value(s) for s in HealthStatus} == {
        "healthy": 1.0,
        "degraded": 0.5,
        "unhealthy": 0.0,
        "unknown": -1.0,
    }
    assert set(STATUS_VALUES) == set(HealthStatus)


class _BrokenCheck(FlextHealthCheck):
    def model_copy(self, *args: Any, **kwargs: Any) -> _BrokenCheck:
        raise RuntimeError("cannot copy")


def test_an_unreadable_result_is_unknown() -> None:
    """A returned entity that cannot be copied yields `unknown`, not an exception."""
    result = normalize_outcome("db", _BrokenCheck(name="x"), duration_ms=1.0)
    assert (result.status, result.message) == (
        HealthStatus.UNKNOWN,
        "check result could not be read: RuntimeError: cannot copy",
    )
