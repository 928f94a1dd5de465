"""FlextMetric: name syntax, finite values, Decimal fidelity, types, histograms."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _helpers import validation_errors
from flext_observability.models import FlextMetric, HistogramData, MetricType

_SYNTAX = (
    "does not match the OpenTelemetry instrument-name syntax "
    "(a letter, then up to 254 of A-Z a-z 0-9 _ . / -)"
)


@pytest.mark.parametrize(
    "name",
    ["a", "Z", "a" * 255, "http.server.request.duration", "a_b-c/d.e", "A9", "x" + "9" * 254],
)
def test_valid_names_are_accepted(name: str) -> None:
    """A letter followed by up to 254 of letters, digits and _ . / - is a valid name."""
    assert FlextMetric(name=name, value=1).name == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Invalid metric name: name cannot be empty"),
        ("   ", "Invalid metric name: name cannot be empty"),
        ("a" * 256, f"Invalid metric name: {'a' * 80!r} {_SYNTAX}"),
        ("1abc", f"Invalid metric name: '1abc' {_SYNTAX}"),
        ("_abc", f"Invalid metric name: '_abc' {_SYNTAX}"),
        (".abc", f"Invalid metric name: '.abc' {_SYNTAX}"),
        ("ab c", f"Invalid metric name: 'ab c' {_SYNTAX}"),
        ("ab:c", f"Invalid metric name: 'ab:c' {_SYNTAX}"),
        ("abc\n", f"Invalid metric name: 'abc\\n' {_SYNTAX}"),
        ("é", f"Invalid metric name: 'é' {_SYNTAX}"),
        (7, "Invalid metric name: name must be a string, got int"),
        (None, "Invalid metric name: name must be a string, got NoneType"),
    ],
    ids=repr,
)
def test_invalid_names_are_rejected(name: object, message: str) -> None:
    """Empty, too long (256), leading non-letter, other punctuation and non-strings fail."""
    assert validation_errors(FlextMetric, {"name": name, "value": 1}) == [("name", message)]


@given(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_./-]{0,254}\Z"))
def test_every_name_matching_the_syntax_is_accepted(name: str) -> None:
    """Any string matching the OTel instrument-name grammar is a valid metric name."""
    assert FlextMetric(name=name, value=0).name == name


@given(st.text(string.printable, min_size=1, max_size=300))
def test_names_are_accepted_exactly_when_they_match(name: str) -> None:
    """Validation agrees with the grammar on arbitrary printable text."""
    allowed = set(string.ascii_letters + string.digits + "_./-")
    expected = name[0].isascii() and name[0].isalpha() and set(name) <= allowed
    expected = expected and len(name) <= 255
    try:
        FlextMetric(name=name, value=0)
    except ValueError:
        accepted = False
    else:
        accepted = True
    assert accepted == expected


@pytest.mark.parametrize(
    "value",
    [0, -1, 10**400, -(10**400), 1.5, -0.0, 1e308, Decimal("1.10"), Decimal("-0"), Decimal("1E+2")],
    ids=repr,
)
def test_finite_values_keep_their_type(value: float | Decimal) -> None:
    """Ints (even huge), floats and Decimals are stored unchanged, with their own type."""
    metric = FlextMetric(name="m", value=value)
    assert (metric.value, type(metric.value)) == (value, type(value))


@pytest.mark.parametrize(
    ("value", "expected"), [(Fraction(1, 4), 0.25), (Fraction(3), 3.0)], ids=repr
)
def test_other_real_numbers_become_floats(value: object, expected: float) -> None:
    """Numbers that are not int/float/Decimal but convert to float are stored as floats."""
    metric = FlextMetric.model_validate({"name": "m", "value": value})
    assert (metric.value, type(metric.value)) == (expected, float)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1.10"),
        Decimal("0.1"),
        Decimal("-3.14159265358979323846264338327950288"),
        Decimal("1E+2"),
        Decimal("123456789012345678901234567890.5"),
    ],
    ids=str,
)
def test_decimal_survives_json_round_trip_exactly(value: Decimal) -> None:
    """A Decimal is written as a string and read back as the same Decimal (same digits)."""
    metric = FlextMetric(name="m", value=value)
    again = FlextMetric.model_validate_json(metric.model_dump_json())
    assert (type(again.value), str(again.value)) == (Decimal, str(value))


def test_huge_int_survives_json_round_trip() -> None:
    """An int larger than any float keeps every digit through JSON."""
    metric = FlextMetric(name="m", value=10**400 + 1)
    assert FlextMetric.model_validate_json(metric.model_dump_json()).value == 10**400 + 1


class _Unconvertible:
    def __float__(self) -> float:
        raise RuntimeError


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "Invalid metric value: value must be finite, got nan"),
        (float("inf"), "Invalid metric value: value must be finite, got inf"),
        (float("-inf"), "Invalid metric value: value must be finite, got -inf"),
        (Decimal("NaN"), "Invalid metric value: value must be finite, got NaN"),
        (Decimal("sNaN"), "Invalid metric value: value must be finite, got sNaN"),
        (Decimal("-Infinity"), "Invalid metric value: value must be finite, got -Infinity"),
        (True, "Invalid metric value: expected a finite number, got bool"),
        (False, "Invalid metric value: expected a finite number, got bool"),
        ("1.5", "Invalid metric value: expected a finite number, got str"),
        (b"1", "Invalid metric value: expected a finite number, got bytes"),
        (None, "Invalid metric value: expected a finite number, got NoneType"),
        ([1], "Invalid metric value: expected a finite number, got list"),
        (
            _Unconvertible(),
            "Invalid metric value: the number could not be converted to float",
        ),
    ],
    ids=repr,
)
def test_invalid_values_are_rejected(value: object, message: str) -> None:
    """NaN, infinities, bools, strings (outside JSON) and non-numbers are rejected."""
    assert validation_errors(FlextMetric, {"name": "m", "value": value}) == [("value", message)]


@pytest.mark.parametrize(
    ("json_value", "message"),
    [
        ('"abc"', "Invalid metric value: 'abc' is not a number"),
        ('"NaN"', "Invalid metric value: value must be finite, got NaN"),
        ("true", "Invalid metric value: expected a finite number, got bool"),
    ],
)
def test_invalid_json_values_are_rejected(json_value: str, message: str) -> None:
    """In JSON a string value must be a finite decimal number."""
    with pytest.raises(ValueError, match="Invalid metric value") as info:
        FlextMetric.model_validate_json(f'{{"name": "m", "value": {json_value}}}')
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("given_type", "stored"),
    [
        ("counter", MetricType.COUNTER),
        ("GAUGE", MetricType.GAUGE),
        (" Histogram ", MetricType.HISTOGRAM),
        ("summary", MetricType.SUMMARY),
        (MetricType.COUNTER, MetricType.COUNTER),
    ],
)
def test_metric_type_is_case_insensitive(given_type: str, stored: MetricType) -> None:
    """metric_type accepts the four names in any case; gauge is the default."""
    metric = FlextMetric.model_validate({"name": "m", "value": 1, "metric_type": given_type})
    assert metric.metric_type is stored
    assert FlextMetric(name="m", value=1).metric_type is MetricType.GAUGE


@pytest.mark.parametrize("bad", ["sum", "", 3, None])
def test_unknown_metric_type_is_rejected(bad: object) -> None:
    """Anything but counter/gauge/histogram/summary is rejected, listing the allowed values."""
    errors = validation_errors(FlextMetric, {"name": "m", "value": 1, "metric_type": bad})
    assert errors == [
        (
            "metric_type",
            f"Invalid metric type: expected one of counter, gauge, histogram, summary, got {bad!r}",
        )
    ]


def test_full_metric_dump() -> None:
    """A fully specified histogram point dumps exactly its fields."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    metric = FlextMetric(
        id="m-1",
        timestamp=when,
        service_name="api",
        name="http.server.duration",
        value=6.0,
        unit="ms",
        tags={"route": "/x", "codes": [200, 500]},
        metric_type=MetricType.HISTOGRAM,
        start_time=datetime(2023, 12, 31, 23, 59),  # noqa: DTZ001 - naive is read as UTC
        histogram=HistogramData(
            count=3, sum=6.0, min=1.0, max=3.0, bounds=[1.0, 2.0], bucket_counts=[1, 1, 1]
        ),
    )
    assert metric.model_dump(mode="json") == {
        "id": "m-1",
        "timestamp": "2024-01-01T00:00:00Z",
        "service_name": "api",
        "name": "http.server.duration",
        "value": 6.0,
        "unit": "ms",
        "tags": {"route": "/x", "codes": [200, 500]},
        "metric_type": "histogram",
        "start_time": "2023-12-31T23:59:00Z",
        "histogram": {
            "count": 3,
            "sum": 6.0,
            "min": 1.0,
            "max": 3.0,
            "bounds": [1.0, 2.0],
            "bucket_counts": [1, 1, 1],
        },
    }


def test_summarised_exponential_histogram_is_valid() -> None:
    """A histogram with only count/sum/min/max (exponential buckets summarised) is valid."""
    data = HistogramData(count=4, sum=10.0, min=1.0, max=4.0)
    assert data.model_dump() == {
        "count": 4,
        "sum": 10.0,
        "min": 1.0,
        "max": 4.0,
        "bounds": [],
        "bucket_counts": [],
    }


def _histogram(**overrides: Any) -> dict[str, Any]:
    return {"count": 2, "sum": 3.0, "bounds": [1.0], "bucket_counts": [1, 1], **overrides}


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"bucket_counts": [1, 1, 0]}, "needs len(bounds) + 1 bucket counts, got 3 for 1 bounds"),
        ({"bucket_counts": [3, -1]}, "bucket counts cannot be negative"),
        ({"count": 5}, "bucket counts add up to 2, not count 5"),
        ({"bounds": [2.0, 1.0], "bucket_counts": [1, 1, 0]}, "bounds must be strictly increasing"),
        ({"bounds": [1.0, 1.0], "bucket_counts": [1, 1, 0]}, "bounds must be strictly increasing"),
        ({"min": 3.0, "max": 1.0}, "min 3.0 is greater than max 1.0"),
    ],
)
def test_inconsistent_histogram_data_is_rejected(overrides: dict[str, Any], problem: str) -> None:
    """Bucket counts must match the bounds, be non-negative and add up to count."""
    assert validation_errors(HistogramData, _histogram(**overrides)) == [
        ("", f"Invalid metric value: a histogram {problem}")
    ]


@pytest.mark.parametrize(
    ("field", "value"), [("count", -1), ("sum", float("nan")), ("min", float("-inf"))]
)
def test_histogram_numbers_are_checked(field: str, value: float) -> None:
    """A histogram's count is non-negative and its sum/min/max are finite."""
    errors = validation_errors(HistogramData, _histogram(**{field: value}))
    assert [location for location, _ in errors] == [field]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"value": 3.0, "metric_type": "gauge"},
            "Invalid metric value: histogram data needs metric_type 'histogram'",
        ),
        (
            {"value": 4.0, "metric_type": "histogram"},
            "Invalid metric value: a histogram point's value must be its sum",
        ),
        (
            {"value": 10**400, "metric_type": "histogram"},
            "Invalid metric value: a histogram point's value must be its sum",
        ),
    ],
)
def test_histogram_point_must_be_consistent(data: dict[str, Any], message: str) -> None:
    """Histogram data requires metric_type histogram and value equal to its sum."""
    errors = validation_errors(FlextMetric, {"name": "m", "histogram": _histogram(), **data})
    assert errors == [("", message)]


def test_histogram_value_may_be_a_decimal_or_int_equal_to_sum() -> None:
    """The sum comparison works for every value type."""
    for value in (3, 3.0, Decimal("3.0")):
        metric = FlextMetric(
            name="m",
            value=value,
            metric_type=MetricType.HISTOGRAM,
            histogram=HistogramData.model_validate(_histogram()),
        )
        assert metric.value == value
