"""SVG building blocks: nice axis ticks, the waterfall's time axis and line charts.

All geometry is in SVG attributes (no inline styles: the CSP forbids them); colours come from
CSS classes in `static/app.css`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flext_observability.cli.ui._html import Safe, fmt_ms, fmt_number, fmt_time, h, join

__all__ = ["Line", "line_chart", "nice_ticks", "pct", "waterfall_axis"]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (about `count` of them)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks: list[float] = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def pct(value: float) -> str:
    """A percentage for SVG geometry."""
    return f"{max(0.0, min(100.0, value)):.3f}%"


def waterfall_axis(total_ms: float) -> Safe:
    """The tick labels and grid of the waterfall's shared time axis (0 … trace duration)."""
    ticks = [t for t in nice_ticks(0.0, total_ms, 6) if t <= total_ms] if total_ms > 0 else [0.0]
    marks = []
    for tick in ticks:
        x = tick / total_ms * 100 if total_ms > 0 else 0.0
        anchor = "start" if x < 3 else ("end" if x > 97 else "middle")  # noqa: PLR2004
        marks.append(
            h(
                '<line class="tick" x1="{}" x2="{}" y1="16" y2="24"/>'
                '<text x="{}" y="12" text-anchor="{}">{}</text>',
                pct(x),
                pct(x),
                pct(x),
                anchor,
                fmt_ms(tick) if tick else "0",
            )
        )
    return h('<svg class="axis" width="100%" height="24" role="img">{}</svg>', join(marks))


def waterfall_grid(total_ms: float) -> Safe:
    """Vertical grid lines at the axis ticks, drawn behind a row's bar."""
    if total_ms <= 0:
        return Safe("")
    return join(
        h(
            '<line class="grid" x1="{}" x2="{}" y1="0" y2="100%"/>',
            pct(t / total_ms * 100),
            pct(t / total_ms * 100),
        )
        for t in nice_ticks(0.0, total_ms, 6)
        if 0 < t <= total_ms
    )


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a chart: label, CSS class and (epoch ns, value) points."""

    label: str
    css: str
    points: Sequence[tuple[int, float]]


_W, _H = 640.0, 190.0
_LEFT, _RIGHT, _TOP, _BOTTOM = 52.0, 12.0, 12.0, 26.0


def line_chart(lines: Sequence[Line], t0: int, t1: int, unit: str = "") -> Safe:
    """A line chart over a time window [t0, t1] with a y axis from 0 (or the minimum)."""
    values = [v for line in lines for _, v in line.points if math.isfinite(v)]
    if not values:
        return Safe('<p class="empty">no points in this window</p>')
    low = min(0.0, *values)
    high = max(values)
    if high <= low:
        high = low + 1.0
    y_ticks = nice_ticks(low, high, 4)
    high = max(high, y_ticks[-1])
    span_t = max(1, t1 - t0)
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x_of(t: int) -> float:
        return _LEFT + (t - t0) / span_t * plot_w

    def y_of(v: float) -> float:
        return _TOP + (1 - (v - low) / (high - low)) * plot_h

    parts: list[Safe] = []
    for tick in y_ticks:
        y = y_of(tick)
        parts.append(
            h(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="ylab" x="{}" y="{}" text-anchor="end">{}</text>',
                f"{_LEFT:.1f}",
                f"{_W - _RIGHT:.1f}",
                f"{y:.1f}",
                f"{y:.1f}",
                f"{_LEFT - 6:.1f}",
                f"{y + 4:.1f}",
                fmt_number(tick),
            )
        )
    for index in range(5):
        t = t0 + span_t * index // 4
        anchor = ("start", "middle", "middle", "middle", "end")[index]
        parts.append(
            h(
                '<text class="xlab" x="{}" y="{}" text-anchor="{}">{}</text>',
                f"{x_of(t):.1f}",
                f"{_H - 8:.1f}",
                anchor,
                fmt_time(t, date=False)[:8],
            )
        )
    for line in lines:
        finite = [(t, v) for t, v in line.points if math.isfinite(v)]
        if not finite:
            continue
        coords = " ".join(f"{x_of(t):.1f},{y_of(v):.1f}" for t, v in finite)
        parts.append(h('<polyline class="line {}" points="{}"/>', line.css, coords))
        for t, v in finite[-200:]:
            parts.append(
                h(
                    '<circle class="pt {}" cx="{}" cy="{}" r="2.2">'
                    "<title>{} {}: {}{}</title></circle>",
                    line.css,
                    f"{x_of(t):.1f}",
                    f"{y_of(v):.1f}",
                    fmt_time(t, date=False),
                    line.label,
                    fmt_number(v),
                    f" {unit}" if unit else "",
                )
            )
    legend = join(
        h('<span class="legend-item"><i class="sw {}"></i>{}</span>', line.css, line.label)
        for line in lines
    )
    return h(
        '<svg class="chart" viewBox="0 0 640 190" role="img">{}</svg><div class="legend">{}</div>',
        join(parts),
        legend,
    )
