"""`SpanSample`: what the span rules need from a span that was not sampled (no entity is built).

Spans that were sampled reach the rules as `FlextTrace` entities; the others, recorded only for
the derived metrics, reach them as these light tuples, so `error_ratio`, `latency` and `absence`
rules see every span whatever the sampling ratio. Samples go to the rules only, never to sinks.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SpanSample"]


class SpanSample(NamedTuple):
    """One ended span, reduced to the fields the span rules read."""

    operation_name: str
    service_name: str | None
    error: bool
    duration_ms: float
    trace_id: str
    span_id: str
