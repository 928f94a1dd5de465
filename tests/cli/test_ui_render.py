"""The viewer's pure pieces: number/duration formats, parameters, rates and percentiles."""

from __future__ import annotations

import math

import pytest

from flext_observability.cli.ui._charts import Line, line_chart, nice_ticks
from flext_observability.cli.ui._html import Safe, attr_value, esc, fmt_ms, fmt_number, h, url
from flext_observability.cli.ui._pages_metrics import counter_rates, histogram_lines, quantile
from flext_observability.cli.ui._params import Params
from flext_observability.sinks._store_browse import MetricSeries

S = 10**9


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, "—"),
        (math.inf, "—"),
        (0.25, "250 µs"),
        (4.5, "4.50 ms"),
        (45.0, "45.0 ms"),
        (450.0, "450 ms"),
        (4500.0, "4.50 s"),
        (125_000.0, "2m 05s"),
    ],
)
def test_durations_read_naturally(ms: float | None, text: str) -> None:
    """Durations pick their unit."""
    assert fmt_ms(ms) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (0.000123, "0.000123"),
        (12.5, "12.5"),
        (1234.0, "1.23k"),
        (2.5e6, "2.5M"),
        (3e9, "3G"),
        (math.nan, "—"),
    ],
)
def test_numbers_are_compact(value: float, text: str) -> None:
    """Axis and table numbers are short."""
    assert fmt_number(value) == text


def test_escaping_helpers() -> None:
    """Values are escaped once, Safe markup passes, URLs encode their parts."""
    assert h("<b>{}</b>", "<i>&") == "<b>&lt;i&gt;&amp;</b>"
    assert esc(Safe("<i>")) == "<i>"
    assert url("/traces", {"q": "a&b <c>", "x": None, "y": ""}) == "/traces?q=a%26b+%3Cc%3E"
    assert attr_value("text") == "text"
    assert attr_value([1, "a"]) == '[1, "a"]'
    assert attr_value(True) == "true"


def test_params_validate_and_name_the_parameter() -> None:
    """Parameters are stripped; bad ones raise ValueError naming them."""
    p = Params(
        {
            "q": ["  hi "],
            "empty": ["   "],
            "n": ["2.5"],
            "id": ["ABCDEF0123456789"],
            "long": ["x" * 501],
            "bad": ["nan"],
            "limit": ["5000"],
        }
    )
    assert p.items() == {
        "q": "hi",
        "n": "2.5",
        "id": "ABCDEF0123456789",
        "long": "x" * 501,
        "bad": "nan",
        "limit": "5000",
    }
    assert (p.text("q"), p.text("empty"), p.number("n"), p.hex_id("id", 16)) == (
        "hi",
        None,
        2.5,
        "abcdef0123456789",
    )
    assert p.limit(50, 500) == 500
    assert p.hex_id("missing", 16) is None
    with pytest.raises(ValueError, match="long: at most 500 characters"):
        p.text("long")
    with pytest.raises(ValueError, match="bad: expected a number"):
        p.number("bad")
    with pytest.raises(ValueError, match="q: expected 32 hex digits"):
        p.hex_id("q", 32)


def _series(kind: str, values: list[float], starts: list[int | None]) -> MetricSeries:
    times = [(i + 1) * 10 * S for i in range(len(values))]
    return MetricSeries("m", None, {}, kind, "", times, values, starts, [None] * len(values))


def test_counter_rates_cumulative_reset_and_delta() -> None:
    """Cumulative points give increases per second; a reset gives nothing; deltas their own."""
    cumulative = _series("counter", [10, 30, 5], [0, 0, 0])
    assert counter_rates(cumulative) == [(20 * S, 2.0)]
    delta = _series("counter", [20, 40], [5 * S, 15 * S])
    assert counter_rates(delta) == [(10 * S, 4.0), (20 * S, 8.0)]
    assert counter_rates(_series("counter", [1], [None])) == []


def test_quantiles_interpolate_inside_buckets() -> None:
    """The median of 10 observations in (0..1] and (1..5] falls where its rank says."""
    assert quantile([1.0, 5.0], [5, 5, 0], 0.5, None) == pytest.approx(1.0)
    assert quantile([1.0, 5.0], [0, 10, 0], 0.5, None) == pytest.approx(3.0)
    assert quantile([1.0], [0, 4], 0.5, 9.0) == pytest.approx(5.0)  # overflow bucket up to max
    assert math.isnan(quantile([1.0], [0, 0], 0.5, None))


def test_histogram_lines_use_interval_buckets() -> None:
    """Cumulative histograms are differenced per interval before the percentiles."""
    series = _series("histogram", [0.0, 0.0], [0, 0])
    series.histograms = [
        {"count": 10, "bounds": [1.0, 5.0], "bucket_counts": [10, 0, 0], "max": 1.0},
        {"count": 20, "bounds": [1.0, 5.0], "bucket_counts": [10, 10, 0], "max": 5.0},
    ]
    p50, p95, rate = histogram_lines(series)
    assert [v for _, v in p50] == [pytest.approx(0.5), pytest.approx(3.0)]
    assert len(p95) == 2
    assert rate == [(20 * S, 1.0)]


def test_charts_and_ticks() -> None:
    """Ticks are round; a chart with no finite point says so."""
    assert nice_ticks(0, 10, 5) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(5, 5) == [5]
    assert "no points" in line_chart([], 0, 1)
    chart = line_chart([Line("v", "s0", [(0, 1.0), (S, 3.0)])], 0, S, "ms")
    assert "<polyline" in chart
