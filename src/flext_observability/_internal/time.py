"""Datetime <-> Unix epoch nanoseconds, exactly (integer arithmetic, no float rounding).

A `datetime` holds microseconds, so `datetime_to_ns` is exact and `ns_to_datetime` floors to the
microsecond: `ns_to_datetime(datetime_to_ns(d)) == d` for every datetime, and
`datetime_to_ns(ns_to_datetime(n)) == n - n % 1000` for every `n` in the datetime range. Naive
datetimes are taken as UTC. Standard library only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["EPOCH", "datetime_to_ns", "ns_to_datetime"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_MIN_US = (datetime.min.replace(tzinfo=UTC) - EPOCH) // _ONE_US
_MAX_US = (datetime.max.replace(tzinfo=UTC) - EPOCH) // _ONE_US


def datetime_to_ns(value: datetime) -> int:
    """Return `value` as Unix epoch nanoseconds (naive input is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // _ONE_US * 1000


def ns_to_datetime(ns: int) -> datetime:
    """Return Unix epoch nanoseconds as an aware UTC datetime, floored to microseconds.

    Flooring keeps order: `a <= b` gives `ns_to_datetime(a) <= ns_to_datetime(b)`. Values
    outside the datetime range are clamped to `datetime.min`/`datetime.max`.
    """
    micros = min(max(ns // 1000, _MIN_US), _MAX_US)
    return EPOCH + timedelta(microseconds=micros)
