"""`/metrics`: one chart per series over a time window.

Counters are drawn as rates per second (cumulative points: the difference between consecutive
points over their interval, a reset starts over; delta points: the value over its own interval),
gauges as values, histograms as p50/p95 (interpolated in the buckets of each interval) and
their count per second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from flext_observability.cli.ui._charts import Line, line_chart
from flext_observability.cli.ui._html import Safe, attr_value, fmt_number, h, join, url
from flext_observability.cli.ui._layout import Page
from flext_observability.cli.ui._params import Params
from flext_observability.cli.ui._widgets import field, filter_form, service_chip, window_select
from flext_observability.sinks._store_browse import MetricSeries, distinct_values, metric_series
from flext_observability.sinks.store import SQLiteStore

__all__ = ["counter_rates", "histogram_lines", "metrics_page", "quantile"]

_MAX_SERIES = 60
_MAX_POINTS = 400


def _thin(points: list[tuple[int, float]]) -> list[tuple[int, float]]:
    if len(points) <= _MAX_POINTS:
        return points
    step = len(points) / _MAX_POINTS
    return [points[int(i * step)] for i in range(_MAX_POINTS - 1)] + [points[-1]]


def counter_rates(series: MetricSeries) -> list[tuple[int, float]]:
    """Per-second rates of a counter series.

    A point sharing its start time with the previous one (cumulative) gives the increase over
    the interval between them (a decrease, a reset, gives nothing); a delta point (one whose
    start differs from the next point's) gives its value over its own interval.
    """
    rates: list[tuple[int, float]] = []
    starts = series.starts
    for i, (t, value) in enumerate(zip(series.times, series.values, strict=True)):
        start = starts[i]
        if i and start is not None and start == starts[i - 1]:
            dt = (t - series.times[i - 1]) / 1e9
            delta = value - series.values[i - 1]
            if dt > 0 and delta >= 0:
                rates.append((t, delta / dt))
        elif start is not None and t > start and (i + 1 == len(starts) or starts[i + 1] != start):
            # a delta point (the next one starts anew); the first point of a cumulative run is
            # skipped: its start may be just before it, which would make a meaningless spike
            rates.append((t, value / ((t - start) / 1e9)))
    return rates


def quantile(bounds: Sequence[float], counts: Sequence[int], q: float, top: float | None) -> float:
    """The q-quantile (0-1) of bucketed observations, interpolated inside its bucket."""
    total = sum(counts)
    if total <= 0:
        return math.nan
    rank = q * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low = bounds[index - 1] if index > 0 else min(0.0, bounds[0] if bounds else 0.0)
            high = bounds[index] if index < len(bounds) else (top if top is not None else low)
            return low + (high - low) * ((rank - seen) / count)
        seen += count
    return bounds[-1] if bounds else math.nan


def histogram_lines(
    series: MetricSeries,
) -> tuple[list[tuple[int, float]], list[tuple[int, float]], list[tuple[int, float]]]:
    """p50, p95 and count-per-second points of a histogram series."""
    p50: list[tuple[int, float]] = []
    p95: list[tuple[int, float]] = []
    rate: list[tuple[int, float]] = []
    previous: dict[str, Any] | None = None
    for i, data in enumerate(series.histograms):
        t = series.times[i]
        if data is None:
            continue
        counts = list(data.get("bucket_counts") or [])
        count = int(data.get("count") or 0)
        cumulative = previous is not None and i and series.starts[i] == series.starts[i - 1]
        if cumulative and previous is not None:
            old = list(previous.get("bucket_counts") or [])
            if len(old) == len(counts) and count >= int(previous.get("count") or 0):
                counts = [a - b for a, b in zip(counts, old, strict=True)]
                dt = (t - series.times[i - 1]) / 1e9
                if dt > 0:
                    rate.append((t, (count - int(previous.get("count") or 0)) / dt))
                count = sum(counts)
        previous = data
        if counts and sum(counts) > 0:
            bounds = list(data.get("bounds") or [])
            top = data.get("max")
            p50.append((t, quantile(bounds, counts, 0.5, top)))
            p95.append((t, quantile(bounds, counts, 0.95, top)))
    return p50, p95, rate


def _chart(series: MetricSeries, t0: int, t1: int) -> Safe:
    unit = series.unit
    if series.metric_type == "counter":
        title = "rate /s"
        chart = line_chart([Line("rate", "s0", _thin(counter_rates(series)))], t0, t1, f"{unit}/s")
    elif series.metric_type == "histogram":
        p50, p95, rate = histogram_lines(series)
        title = f"p50 / p95 ({unit or 'value'}) and count /s"
        chart = join(
            [
                line_chart(
                    [Line("p50", "s0", _thin(p50)), Line("p95", "s1", _thin(p95))], t0, t1, unit
                ),
                line_chart([Line("count /s", "s2", _thin(rate))], t0, t1, "/s"),
            ]
        )
    else:
        title = "value"
        points = list(zip(series.times, series.values, strict=True))
        chart = line_chart([Line("value", "s0", _thin(points))], t0, t1, unit)
    last = series.values[-1] if series.values else math.nan
    tags = join(
        h('<span class="tag">{}={}</span>', k, attr_value(v))
        for k, v in sorted(series.tags.items())
    ) or Safe('<span class="muted">no tags</span>')
    return h(
        '<div class="chart-card"><div class="chart-head"><div class="tags">{}</div>'
        '<div class="chart-meta">{} · {} · last {} {} · {} points</div></div>'
        '<div class="chart-title">{}</div>{}</div>',
        tags,
        service_chip(series.service),
        series.metric_type,
        fmt_number(last),
        unit,
        len(series.times),
        title,
        chart,
    )


def metrics_page(reader: SQLiteStore, p: Params) -> Page:
    """Charts of every series in the window, grouped by metric name."""
    since = p.moment("since")
    name = p.text("name")
    series, capped = metric_series(reader, since=since, name=name, service=p.text("service"))
    names = distinct_values(reader, "metrics", "name", limit=300)
    head = filter_form(
        "/metrics",
        [
            field(
                "Metric",
                h(
                    '<select name="name" data-autosubmit>{}</select>',
                    join(
                        h(
                            '<option value="{}"{}>{}</option>',
                            v,
                            Safe(" selected" if v == (name or "") else ""),
                            label,
                        )
                        for v, label in [("", "all metrics"), *((n, n) for n in names)]
                    ),
                ),
            ),
            field("Time", window_select(p)),
        ],
    )
    if not series:
        live = Safe('<p class="empty">No metric points in this window.</p>')
        return Page(
            title="Metrics", section="/metrics", head=head, live=live, live_kinds=("metrics",)
        )
    t0 = since if since is not None else min(s.times[0] for s in series)
    t1 = max(s.times[-1] for s in series)
    if since is not None:
        t1 = max(t1, time.time_ns())
    shown = series[:_MAX_SERIES]
    groups: dict[str, list[MetricSeries]] = {}
    for s in shown:
        groups.setdefault(s.name, []).append(s)
    sections = join(
        h(
            '<section class="metric" id="m-{}"><h3 class="section"><a href="{}">{}</a> '
            '<span class="muted">{} series</span></h3><div class="charts">{}</div></section>',
            metric_name,
            url("/metrics", {"name": metric_name, "since": p.text("since")}),
            metric_name,
            len(items),
            join(_chart(s, t0, t1) for s in items),
        )
        for metric_name, items in groups.items()
    )
    notes = []
    if len(series) > _MAX_SERIES:
        notes.append(
            h(
                '<p class="warn">Showing {} of {} series: pick a metric to see all of '
                "its series.</p>",
                _MAX_SERIES,
                len(series),
            )
        )
    if capped:
        notes.append(
            Safe(
                '<p class="warn">The window holds more points than one page reads; '
                "pick a shorter window or one metric.</p>"
            )
        )
    toc = join(h('<a href="#m-{}">{}</a>', n, n) for n in groups)
    live = h('{}<nav class="toc">{}</nav>{}', join(notes), toc, sections)
    return Page(title="Metrics", section="/metrics", head=head, live=live, live_kinds=("metrics",))
