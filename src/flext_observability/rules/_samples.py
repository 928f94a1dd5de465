"""Light samples: what the rules need from data that became no entity.

`SpanSample`: spans that were sampled reach the rules as `FlextTrace` entities; the others,
recorded only for the derived metrics, reach them as these light tuples, so `error_ratio`,
`latency` and `absence` rules see every span whatever the sampling ratio.

`MetricSample`: a metric whose series were all unchanged since the previous collection becomes
no entity that round (see `_internal/metric_series.py`); this one tuple tells the metric
`absence` rules it is still reported (a `threshold` rule keeps each series' last value anyway).

Samples go to the rules only, never to sinks.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["MetricSample", "Sample", "SpanSample"]


class SpanSample(NamedTuple):
    """One ended span, reduced to the fields the span rules read."""

    operation_name: str
    service_name: str | None
    error: bool
    duration_ms: float
    trace_id: str
    span_id: str


class MetricSample(NamedTuple):
    """A metric that was collected with no changed series: still reported, nothing new."""

    name: str
    service_name: str | None


Sample = SpanSample | MetricSample
"""Anything the rules take besides entities."""
