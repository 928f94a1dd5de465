"""Built-in checks: export health, pipeline saturation and a writable store."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from flext_observability.health import (
    HealthRegistry,
    export_health_check,
    pipeline_saturation_check,
    store_writable_check,
)
from flext_observability.models import FlextHealthCheck, HealthStatus


def _short(result: FlextHealthCheck) -> tuple[str, str, dict[str, Any]]:
    return result.status.value, result.message, dict(result.details)


def test_export_check_degrades_after_consecutive_failures_and_recovers() -> None:
    """Degraded from `degraded_after` consecutive failures on; healthy again at zero."""
    failures = iter([0, 1, 2, 3, 7, 0, 0])
    check = export_health_check(lambda: next(failures), degraded_after=3)
    seen = [_short(check())[:2] for _ in range(6)]
    assert seen == [
        ("healthy", "exports succeeding"),
        ("healthy", "1 consecutive export failure"),
        ("healthy", "2 consecutive export failures"),
        ("degraded", "3 consecutive export failures"),
        ("degraded", "7 consecutive export failures"),
        ("healthy", "exports succeeding"),
    ]
    assert check().details == {"consecutive_failures": 0, "degraded_after": 3}


@pytest.mark.parametrize("bad", [0, -1])
def test_export_check_rejects_a_non_positive_threshold(bad: int) -> None:
    """degraded_after must be a positive integer."""
    with pytest.raises(ValueError, match="degraded_after must be a positive integer"):
        export_health_check(lambda: 0, degraded_after=bad)
    with pytest.raises(TypeError, match="got float"):
        export_health_check(lambda: 0, degraded_after=1.5)  # type: ignore[arg-type]


def test_pipeline_check_follows_queue_fill_and_new_drops() -> None:
    """Healthy below 80%; degraded at 80% or on new drops; unhealthy when full."""
    samples: Iterator[Mapping[str, int]] = iter(
        [
            {"queue_size": 10, "queue_capacity": 100, "dropped": 0},
            {"queue_size": 80, "queue_capacity": 100, "dropped": 0},
            {"queue_size": 10, "queue_capacity": 100, "dropped": 4},
            {"queue_size": 10, "queue_capacity": 100, "dropped": 4},
            {"queue_size": 100, "queue_capacity": 100, "dropped": 9},
            {"queue_size": 0, "queue_capacity": 0, "dropped": 9},
        ]
    )
    check = pipeline_saturation_check(lambda: next(samples))
    assert [_short(check()) for _ in range(6)] == [
        (
            "healthy",
            "queue 10% full",
            {"queue_size": 10, "queue_capacity": 100, "dropped": 0, "dropped_since_last_check": 0},
        ),
        (
            "degraded",
            "queue 80% full",
            {"queue_size": 80, "queue_capacity": 100, "dropped": 0, "dropped_since_last_check": 0},
        ),
        (
            "degraded",
            "queue 10% full, 4 dropped since last check",
            {"queue_size": 10, "queue_capacity": 100, "dropped": 4, "dropped_since_last_check": 4},
        ),
        (
            "healthy",
            "queue 10% full",
            {"queue_size": 10, "queue_capacity": 100, "dropped": 4, "dropped_since_last_check": 0},
        ),
        (
            "unhealthy",
            "queue full, 5 dropped since last check",
            {"queue_size": 100, "queue_capacity": 100, "dropped": 9, "dropped_since_last_check": 5},
        ),
        (
            "unknown",
            "queue capacity unknown",
            {"queue_size": 0, "queue_capacity": 0, "dropped": 9, "dropped_since_last_check": 0},
        ),
    ]


def test_pipeline_check_with_missing_stats_is_unhealthy_through_the_registry() -> None:
    """Stats without the documented keys make the check unhealthy, not the registry fail."""
    registry = HealthRegistry()
    try:
        registry.register("pipeline", pipeline_saturation_check(lambda: {"queue_size": 1}))
        result = registry.run("pipeline")
        assert _short(result)[:2] == ("unhealthy", "KeyError: 'queue_capacity'")
    finally:
        assert registry.stop(5.0)


def test_store_check_on_an_existing_database(tmp_path: Path) -> None:
    """An existing store file opened for append is writable and left unchanged."""
    db = tmp_path / "telemetry.db"
    db.write_bytes(b"SQLite format 3\x00")
    assert _short(store_writable_check(db)()) == ("healthy", "store is writable", {})
    assert db.read_bytes() == b"SQLite format 3\x00"


def test_store_check_probes_the_directory_and_cleans_up(tmp_path: Path) -> None:
    """Without a database yet, a probe file is created in its directory and removed."""
    assert _short(store_writable_check(tmp_path / "telemetry.db")()) == (
        "healthy",
        "store directory is writable",
        {},
    )
    assert list(tmp_path.iterdir()) == []


def test_store_check_when_the_directory_does_not_exist_yet(tmp_path: Path) -> None:
    """A missing directory is fine when the nearest existing ancestor is writable."""
    check = store_writable_check(str(tmp_path / "a" / "b" / "telemetry.db"))
    assert _short(check()) == ("healthy", "store directory will be created", {})
    assert list(tmp_path.iterdir()) == []


def test_store_check_fails_without_showing_the_path(tmp_path: Path) -> None:
    """An unusable location is unhealthy and the message never contains the path."""
    blocker = tmp_path / "canary-secret-dir"
    blocker.write_text("a file, not a directory")
    a_dir = tmp_path / "canary.db"
    a_dir.mkdir()
    results = [
        store_writable_check(blocker / "telemetry.db")(),
        store_writable_check(blocker / "x" / "telemetry.db")(),
        store_writable_check(a_dir)(),
    ]
    assert [_short(r) for r in results] == [
        ("unhealthy", "store directory cannot be created", {}),
        ("unhealthy", "store directory cannot be created", {}),
        ("unhealthy", "store path is not a file", {}),
    ]


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux /proc")
def test_store_check_reports_an_os_error_by_its_reason_only() -> None:
    """An OSError while opening becomes "store is not writable: <Type>: <reason>", no path."""
    result = store_writable_check("/proc/version")()
    assert result.status is HealthStatus.UNHEALTHY
    assert result.message.startswith("store is not writable: ")
    assert "/proc" not in result.message
