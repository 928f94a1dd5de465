"""`/` (overview: counts, error rate and latency per operation, alerts, health) and `/logs`."""

from __future__ import annotations

from flext_observability._internal.time import datetime_to_ns
from flext_observability.cli.ui._html import Safe, fmt_ms, fmt_time, h, join, url
from flext_observability.cli.ui._layout import Page
from flext_observability.cli.ui._params import Params
from flext_observability.cli.ui._widgets import (
    field,
    filter_form,
    level_badge,
    service_chip,
    window_select,
)
from flext_observability.models import FlextAlert, FlextLogEntry
from flext_observability.models._types import LogLevel
from flext_observability.sinks._store_browse import (
    LogFilter,
    alerts_since,
    distinct_values,
    health_history,
    health_names,
    list_logs,
)
from flext_observability.sinks._store_traces import SpanFilter, list_traces, operation_stats
from flext_observability.sinks.store import SQLiteStore

__all__ = ["active_alerts", "logs_page", "overview_page"]

_LEVELS = tuple(level.value for level in LogLevel)
_SAMPLE = 20_000


def _card(label: str, value: str, note: str = "", css: str = "") -> Safe:
    return h(
        '<div class="card {}"><div class="card-label">{}</div><div class="card-value">{}'
        '</div><div class="card-note">{}</div></div>',
        css,
        label,
        value,
        note,
    )


def active_alerts(reader: SQLiteStore) -> list[FlextAlert]:
    """The latest notification of every alert whose latest notification is not resolved."""
    latest: dict[str, FlextAlert] = {}
    for alert, _ in alerts_since(reader):
        latest[alert.fingerprint] = alert
    return [alert for alert in latest.values() if alert.is_active]


def overview_page(reader: SQLiteStore, p: Params) -> Page:
    """Counts, per-operation error rate and latency, active alerts, health, recent errors."""
    since = p.moment("since")
    counts = reader.counts()
    stats, covered = operation_stats(reader, since=since, sample=_SAMPLE)
    spans = sum(s.count for s in stats)
    errors = sum(s.errors for s in stats)
    alerts = active_alerts(reader)
    checks = [
        hist[0] for name in health_names(reader) if (hist := health_history(reader, name, limit=1))
    ]
    unhealthy = [c for c in checks if c.status.value != "healthy"]
    cards = join(
        [
            _card(
                "Spans stored",
                f"{counts['traces']:,}",
                f"{counts['logs']:,} logs · {counts['metrics']:,} metric points",
            ),
            _card(
                "Error rate",
                f"{errors / spans:.1%}" if spans else "—",
                f"{errors:,} of {spans:,} recent spans",
                "bad" if errors else "good",
            ),
            _card(
                "Active alerts",
                str(len(alerts)),
                "firing now" if alerts else "all quiet",
                "bad" if alerts else "good",
            ),
            _card(
                "Health",
                "—"
                if not checks
                else ("healthy" if not unhealthy else f"{len(unhealthy)} not healthy"),
                f"{len(checks)} checks",
                "" if not checks else ("bad" if unhealthy else "good"),
            ),
        ]
    )
    rows = join(
        h(
            '<tr><td><a class="op" href="{}">{}</a></td><td>{}</td><td class="num">{}</td>'
            '<td class="num{}">{}</td><td class="num">{}</td><td class="num">{}</td>'
            '<td class="num">{}</td></tr>',
            url("/traces", {"operation": s.operation, "service": s.service or ""}),
            s.operation,
            service_chip(s.service),
            f"{s.count:,}",
            Safe(" errors" if s.errors else ""),
            f"{s.errors:,}",
            f"{s.error_rate:.1%}",
            fmt_ms(s.percentile(50)),
            fmt_ms(s.percentile(95)),
        )
        for s in stats[:40]
    )
    ops = (
        h(
            '<table class="list ops"><thead><tr><th>Operation</th><th>Service</th>'
            '<th class="num">Spans</th><th class="num">Errors</th><th class="num">Error rate</th>'
            '<th class="num">p50</th><th class="num">p95</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            rows,
        )
        if stats
        else Safe('<p class="empty">No spans in this window.</p>')
    )
    alert_list = join(
        h(
            '<li><a href="/alerts">{}</a> {} <span class="muted">{}</span></li>',
            a.name,
            h('<span class="badge sev-{}">{}</span>', a.severity.value, a.severity.value),
            a.message,
        )
        for a in alerts
    ) or Safe('<li class="muted">No active alert.</li>')
    health_list = join(
        h(
            '<li><a href="/health">{}</a> {} <span class="muted">{}</span></li>',
            c.name,
            h('<span class="badge hs-{}">{}</span>', c.status.value, c.status.value),
            c.message,
        )
        for c in checks
    ) or Safe('<li class="muted">No health results.</li>')
    recent_errors = list_traces(reader, SpanFilter(status="error", since=since), limit=8).items
    errors_list = join(
        h(
            '<li><a href="{}">{}</a> {} <span class="muted">{} · {}</span></li>',
            url(f"/traces/{row.trace_id}"),
            row.root_name,
            service_chip(row.root_service),
            fmt_time(row.start_ns, date=False),
            fmt_ms(row.duration_ms),
        )
        for row in recent_errors
    ) or Safe('<li class="muted">No failing trace.</li>')
    note = f"statistics over the newest {covered:,} spans" + (
        " (sampled)" if covered >= _SAMPLE else ""
    )
    live = h(
        '<div class="cards">{}</div><div class="overview-grid"><section><h3 class="section">'
        'Operations <span class="muted">{}</span></h3>{}</section><section class="side">'
        '<h3 class="section">Active alerts</h3><ul class="plain">{}</ul>'
        '<h3 class="section">Health</h3><ul class="plain">{}</ul>'
        '<h3 class="section">Recent failing traces</h3><ul class="plain">{}</ul></section></div>',
        cards,
        note,
        ops,
        alert_list,
        health_list,
        errors_list,
    )
    head = filter_form("/", [field("Time", window_select(p))])
    return Page(
        title="Overview",
        section="/",
        head=head,
        live=live,
        live_kinds=("traces", "alerts", "health", "logs"),
    )


def _log_row(entry: FlextLogEntry) -> Safe:
    trace = Safe('<span class="muted">—</span>')
    if entry.trace_id:
        anchor = f"#span-{entry.span_id}" if entry.span_id else ""
        trace = h(
            '<a class="trace-link" href="{}{}">{}…</a>',
            url(f"/traces/{entry.trace_id}"),
            anchor,
            entry.trace_id[:12],
        )
    exc = Safe("")
    if entry.exception is not None:
        exc = h(
            '<details class="exc"><summary>{}: {}</summary><pre>{}</pre></details>',
            entry.exception.type,
            entry.exception.message,
            entry.exception.stacktrace,
        )
    context = Safe("")
    if entry.context:
        tags = join(
            h('<span class="tag">{}={}</span>', k, v) for k, v in sorted(entry.context.items())
        )
        context = h(
            '<details class="ctx"><summary>{} attributes</summary>{}</details>',
            len(entry.context),
            tags,
        )
    return h(
        '<tr class="lv-row-{}"><td class="time">{}</td><td>{}</td><td>{}</td>'
        '<td class="logger">{}</td><td class="msg">{}{}{}</td><td>{}</td></tr>',
        entry.level.value,
        fmt_time(datetime_to_ns(entry.timestamp)),
        level_badge(entry.level.value),
        service_chip(entry.service_name),
        entry.logger_name or "—",
        entry.message,
        exc,
        context,
        trace,
    )


def logs_page(reader: SQLiteStore, p: Params) -> Page:
    """Log entries, newest first, with level/logger/text/trace filters."""
    flt = LogFilter(
        level=p.choice("level", (*_LEVELS, "warn", "fatal")),
        logger=p.text("logger"),
        text=p.text("q"),
        trace_id=p.hex_id("trace_id", 32),
        service=p.text("service"),
        since=p.moment("since"),
    )
    before = p.cursor()
    page = list_logs(reader, flt, before=before, limit=p.limit(100, 1000))
    loggers = distinct_values(reader, "logs", "name", limit=200)
    head = filter_form(
        "/logs",
        [
            field(
                "Level",
                h(
                    '<select name="level" data-autosubmit>{}</select>',
                    join(
                        h(
                            '<option value="{}"{}>{}</option>',
                            v,
                            Safe(" selected" if v == (p.text("level") or "").lower() else ""),
                            label,
                        )
                        for v, label in [("", "any"), *((lv, f"{lv} and above") for lv in _LEVELS)]
                    ),
                ),
            ),
            field(
                "Logger",
                h(
                    '<input name="logger" list="loggers" value="{}" placeholder="any">'
                    '<datalist id="loggers">{}</datalist>',
                    p.text("logger") or "",
                    join(h('<option value="{}">', lg) for lg in loggers),
                ),
            ),
            field(
                "Text",
                h(
                    '<input name="q" type="search" value="{}" placeholder="message…">',
                    p.text("q") or "",
                ),
            ),
            field(
                "Trace ID",
                h(
                    '<input name="trace_id" value="{}" placeholder="32 hex digits">',
                    p.text("trace_id") or "",
                ),
            ),
            field("Time", window_select(p)),
        ],
    )
    params = p.items()
    pager = []
    if before is not None:
        pager.append(h('<a href="{}">⇤ Newest</a>', url("/logs", {**params, "before": None})))
    if page.next is not None:
        pager.append(
            h('<a href="{}">Older →</a>', url("/logs", {**params, "before": page.next.encode()}))
        )
    table = (
        h(
            '<table class="list logs"><thead><tr><th>Time (UTC)</th><th>Level</th><th>Service</th>'
            "<th>Logger</th><th>Message</th><th>Trace</th></tr></thead><tbody>{}</tbody></table>",
            join(_log_row(entry) for entry in page.items),
        )
        if page.items
        else Safe('<p class="empty">No log entry matches these filters.</p>')
    )
    live = h('{}<nav class="pager">{}</nav>', table, join(pager))
    return Page(
        title="Logs",
        section="/logs",
        head=head,
        live=live,
        live_kinds=() if before is not None else ("logs",),
    )
