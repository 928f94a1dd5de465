"""The one severity table: every conversion agrees on each level and keeps order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from opentelemetry._logs import SeverityNumber

from flext_observability._internal.convert.severity import (
    SEVERITIES,
    level_from_levelno,
    level_from_severity,
    severity_of_level,
    severity_of_levelno,
)
from flext_observability.models import LogLevel


def test_each_row_round_trips_through_every_conversion() -> None:
    """A level's stdlib number, OTel number and OTel text all map back to that level."""
    for row in SEVERITIES:
        assert (
            level_from_levelno(row.levelno),
            level_from_severity(severity_of_levelno(row.levelno), None),
            level_from_severity(SeverityNumber(row.number), None),
            level_from_severity(0, row.text),
            severity_of_level(row.level),
        ) == (row.level, row.level, row.level, row.level, row)
    assert [row.level for row in SEVERITIES] == list(LogLevel)


@given(st.integers(-100, 200), st.integers(-100, 200))
def test_stdlib_numbers_keep_their_order(a: int, b: int) -> None:
    """A higher stdlib level never maps to a lower OTel severity or a lower `LogLevel`."""
    low, high = sorted((a, b))
    ranks = list(LogLevel)
    assert severity_of_levelno(low) <= severity_of_levelno(high) <= SeverityNumber.FATAL4.value
    assert ranks.index(level_from_levelno(low)) <= ranks.index(level_from_levelno(high))
