"""FlextHealthCheck and FlextLogEntry: statuses, levels and aliases, links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from _helpers import validation_errors
from flext_observability.models import (
    ExceptionInfo,
    FlextHealthCheck,
    FlextLogEntry,
    HealthStatus,
    LogLevel,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_health_check_full_dump() -> None:
    """A health check dumps exactly its fields."""
    check = FlextHealthCheck(
        id="h1",
        timestamp=T0,
        name="db",
        status=HealthStatus.DEGRADED,
        message="slow",
        details={"latency_ms": 250.5},
        duration_ms=3,
    )
    assert check.model_dump(mode="json") == {
        "id": "h1",
        "timestamp": "2024-01-01T00:00:00Z",
        "service_name": None,
        "name": "db",
        "status": "degraded",
        "message": "slow",
        "details": {"latency_ms": 250.5},
        "duration_ms": 3.0,
    }


@pytest.mark.parametrize(
    ("status", "healthy"),
    [("healthy", True), ("DEGRADED", False), ("Unhealthy", False), ("unknown", False)],
)
def test_health_status_and_is_healthy(status: str, healthy: bool) -> None:
    """Every status is accepted case-insensitively; only healthy is_healthy."""
    check = FlextHealthCheck.model_validate({"name": "db", "status": status})
    assert (check.status, check.is_healthy) == (HealthStatus(status.lower()), healthy)


def test_health_status_defaults_to_unknown() -> None:
    """A check without a status is unknown (no data yet)."""
    assert FlextHealthCheck(name="db").status is HealthStatus.UNKNOWN


@pytest.mark.parametrize("bad", ["ok", "down", "", 1])
def test_unknown_health_status_is_rejected(bad: object) -> None:
    """Anything but healthy/degraded/unhealthy/unknown fails with "Invalid health status"."""
    assert validation_errors(FlextHealthCheck, {"name": "db", "status": bad}) == [
        (
            "status",
            (
                "Invalid health status: expected one of healthy, degraded, unhealthy, unknown, "
                f"got {bad!r}"
            ),
        )
    ]


@pytest.mark.parametrize(
    ("data", "location", "message"),
    [
        ({"name": " "}, "name", "Invalid health check: name cannot be empty"),
        (
            {"name": "db", "duration_ms": -1},
            "duration_ms",
            ("Input should be greater than or equal to 0"),
        ),
    ],
)
def test_invalid_health_check_fields(data: dict[str, object], location: str, message: str) -> None:
    """The name is non-empty and duration_ms non-negative."""
    assert validation_errors(FlextHealthCheck, data) == [(location, message)]


def test_log_entry_full_dump() -> None:
    """A log entry dumps exactly its fields, including the exception."""
    entry = FlextLogEntry(
        id="l1",
        timestamp=T0,
        level=LogLevel.WARNING,
        message="retrying",
        logger_name="app.db",
        context={"attempt": 2},
        correlation_id="req-1",
        trace_id="0af7651916cd43dd8448eb211c80319c",
        span_id="b7ad6b7169203331",
        exception=ExceptionInfo(type="TimeoutError", message="slow", stacktrace="tb"),
    )
    assert entry.model_dump(mode="json") == {
        "id": "l1",
        "timestamp": "2024-01-01T00:00:00Z",
        "service_name": None,
        "level": "warning",
        "message": "retrying",
        "logger_name": "app.db",
        "context": {"attempt": 2},
        "correlation_id": "req-1",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "exception": {"type": "TimeoutError", "message": "slow", "stacktrace": "tb"},
    }


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("debug", LogLevel.DEBUG),
        ("INFO", LogLevel.INFO),
        ("Warning", LogLevel.WARNING),
        ("warn", LogLevel.WARNING),
        ("WARN", LogLevel.WARNING),
        ("error", LogLevel.ERROR),
        ("critical", LogLevel.CRITICAL),
        ("fatal", LogLevel.CRITICAL),
        ("FATAL", LogLevel.CRITICAL),
        (LogLevel.ERROR, LogLevel.ERROR),
    ],
)
def test_log_level_aliases_and_case(given: str, stored: LogLevel) -> None:
    """Levels are case-insensitive; warn → warning and fatal → critical; stored lowercase."""
    entry = FlextLogEntry.model_validate({"level": given, "message": "m"})
    assert (entry.level, entry.model_dump(mode="json")["level"]) == (stored, stored.value)


def test_log_level_defaults_to_info_and_ranks_in_order() -> None:
    """The default level is info; rank follows debug < info < warning < error < critical."""
    assert FlextLogEntry(message="m").level is LogLevel.INFO
    assert [level.rank for level in LogLevel] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("bad", ["trace", "notice", "", 10, None])
def test_unknown_log_level_is_rejected(bad: object) -> None:
    """Anything else fails with "Invalid log level" and the allowed values."""
    assert validation_errors(FlextLogEntry, {"level": bad, "message": "m"}) == [
        (
            "level",
            (
                "Invalid log level: expected one of debug, info, warning, error, critical, "
                f"got {bad!r}"
            ),
        )
    ]


def test_log_message_may_be_empty_on_the_model() -> None:
    """The model allows an empty message (records with an empty body); the API does not."""
    assert FlextLogEntry(message="").message == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("trace_id", "0" * 32, "Invalid log entry: trace_id must not be all zeros"),
        (
            "span_id",
            "B7AD6B7169203331",
            "Invalid log entry: span_id must be 16 lowercase hex digits, got 'B7AD6B7169203331'",
        ),
    ],
)
def test_log_correlation_ids_are_w3c_ids(field: str, value: str, message: str) -> None:
    """trace_id/span_id on a log entry follow the W3C rules."""
    errors = validation_errors(FlextLogEntry, {"message": "m", field: value})
    assert errors == [(field, message)]
