"""Human-readable rendering for the command line: span trees, tables, durations.

Every line printed for a human goes through `line()` (or the renderers here, which use
`escape_control`): stored data may hold terminal escapes, carriage returns or newlines followed by
a forged line, and they are shown escaped, so a stored record can never clear the screen, retitle
the terminal or fake output. `--json` output is not escaped (JSON escapes controls itself and
keeps the exact text).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from flext_observability._internal.text import escape_control
from flext_observability.models import FlextLogEntry, FlextMetric, FlextTrace

__all__ = [
    "line",
    "parse_since",
    "render_log",
    "render_metric",
    "render_trace_tree",
    "short_time",
]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def line(text: str) -> str:
    """One output line: control characters from data escaped, then a newline."""
    return escape_control(text) + "\n"


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """Parse `15m`, `2h`, `30s`, `1d` (ago) or an ISO-8601 time into an aware UTC datetime."""
    now = now or datetime.now(UTC)
    stripped = text.strip().lower()
    for suffix in sorted(_UNITS, key=len, reverse=True):
        number = stripped.removesuffix(suffix)
        if number != stripped:
            try:
                return now - timedelta(seconds=float(number) * _UNITS[suffix])
            except ValueError:
                break
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"--since {text!r} is invalid: expected a duration like 15m, 2h, 1d or an ISO time"
        raise ValueError(msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def short_time(moment: datetime) -> str:
    """Local-free short UTC time for tables."""
    return moment.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]


def _duration(span: FlextTrace) -> str:
    if span.duration_ms is None:
        return "unfinished"
    if span.duration_ms >= 1000:  # noqa: PLR2004 - one second
        return f"{span.duration_ms / 1000:.2f}s"
    return f"{span.duration_ms:.1f}ms"


def render_trace_tree(spans: Sequence[FlextTrace]) -> list[str]:
    """Render the spans of one trace as an indented tree with durations and errors."""
    by_parent: dict[str | None, list[FlextTrace]] = defaultdict(list)
    ids = {span.span_id for span in spans}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        by_parent[parent].append(span)
    for children in by_parent.values():
        children.sort(key=lambda s: s.start_time)
    roots = by_parent.get(None, [])
    first = roots[0] if roots else spans[0]
    lines = [escape_control(f"trace {first.trace_id}  service={first.service_name or '-'}")]

    def walk(span: FlextTrace, depth: int) -> None:
        mark = "  ERROR" if span.is_error else ""
        message = f" ({span.status_message})" if span.is_error and span.status_message else ""
        lines.append(
            escape_control(
                f"{'  ' * depth}└─ {span.operation_name} [{span.kind.value}] "
                f"{_duration(span)}{mark}{message}"
            )
        )
        for child in by_parent.get(span.span_id, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 1)
    return lines


def render_log(entry: FlextLogEntry) -> str:
    """One log line: time, level, logger, message, trace id."""
    trace = f"  trace={entry.trace_id}" if entry.trace_id else ""
    return escape_control(
        f"{short_time(entry.timestamp)} {entry.level.value.upper():8} "
        f"{entry.logger_name or '-'}: {entry.message}{trace}"
    )


def render_metric(metric: FlextMetric) -> str:
    """One metric line: name, type, value (histograms: count/sum), unit, tags."""
    tags = ",".join(f"{k}={v}" for k, v in sorted(metric.tags.items()))
    if metric.histogram is not None:
        value = f"count={metric.histogram.count} sum={metric.histogram.sum:g}"
    else:
        value = f"{metric.value}"
    unit = f" {metric.unit}" if metric.unit else ""
    return escape_control(f"{metric.name} ({metric.metric_type.value}) {value}{unit}  {{{tags}}}")
