"""The one datetime <-> epoch-nanosecond conversion is exact and keeps order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from flext_observability._internal.time import EPOCH, datetime_to_ns, ns_to_datetime

_MIN_NS = datetime_to_ns(datetime.min.replace(tzinfo=UTC))
_MAX_NS = datetime_to_ns(datetime.max.replace(tzinfo=UTC))
_aware = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7, minutes=-30))]))


@given(_aware)
def test_datetime_round_trips_exactly(moment: datetime) -> None:
    """Every datetime (any offset) comes back as the same instant, microseconds included."""
    back = ns_to_datetime(datetime_to_ns(moment))
    assert (back, back.tzinfo) == (moment, UTC)


@given(st.datetimes())
def test_naive_datetimes_are_utc(moment: datetime) -> None:
    """A naive datetime converts as the same wall time in UTC."""
    assert datetime_to_ns(moment) == datetime_to_ns(moment.replace(tzinfo=UTC))


@given(st.integers(_MIN_NS, _MAX_NS + 999))
def test_nanoseconds_floor_to_the_microsecond(ns: int) -> None:
    """Nanoseconds come back floored to whole microseconds, never rounded by a float."""
    assert datetime_to_ns(ns_to_datetime(ns)) == ns - ns % 1000


@given(st.integers(), st.integers())
def test_order_is_kept_and_out_of_range_clamps(a: int, b: int) -> None:
    """`a <= b` gives `ns_to_datetime(a) <= ns_to_datetime(b)`, at any magnitude."""
    low, high = sorted((a, b))
    assert ns_to_datetime(low) <= ns_to_datetime(high)


def test_known_instants() -> None:
    """The epoch is 0 and a nanosecond-precise OTel timestamp keeps its microseconds exactly."""
    ns = 1_767_225_599_999_999_999  # 2025-12-31T23:59:59.999999999Z: a float would round up
    assert (datetime_to_ns(EPOCH), ns_to_datetime(ns)) == (
        0,
        datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    )
