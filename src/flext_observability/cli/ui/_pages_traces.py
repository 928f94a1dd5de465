"""`/traces`: the trace list, with filters and keyset pages."""

from __future__ import annotations

from flext_observability.cli.ui._charts import pct
from flext_observability.cli.ui._html import Safe, fmt_ms, fmt_time, h, join, url
from flext_observability.cli.ui._layout import Page
from flext_observability.cli.ui._params import Params
from flext_observability.cli.ui._widgets import (
    field,
    filter_form,
    options,
    service_chip,
    status_badge,
    window_select,
)
from flext_observability.sinks._store_browse import distinct_values
from flext_observability.sinks._store_traces import SpanFilter, TraceRow, list_traces
from flext_observability.sinks.store import SQLiteStore

__all__ = ["span_filter", "traces_page"]

_STATUSES = ("ok", "error", "unset")


def span_filter(p: Params) -> SpanFilter:
    """The trace filters of a request."""
    return SpanFilter(
        service=p.text("service"),
        operation=p.text("operation"),
        status=p.choice("status", _STATUSES),
        min_ms=p.number("min_ms"),
        since=p.moment("since"),
        until=p.moment("until"),
        text=p.text("q"),
    )


def _form(reader: SQLiteStore, p: Params) -> Safe:
    services = distinct_values(reader, "traces", "service_name", limit=100)
    operations = distinct_values(reader, "traces", "name", limit=300)
    datalist = join(h('<option value="{}">', op) for op in operations)
    return filter_form(
        "/traces",
        [
            field(
                "Service",
                h(
                    '<select name="service" data-autosubmit>{}</select>',
                    options([("", "any"), *((s, s) for s in services)], p.text("service")),
                ),
            ),
            field(
                "Operation",
                h(
                    '<input name="operation" list="ops" value="{}" placeholder="any '
                    '(globs: *)"><datalist id="ops">{}</datalist>',
                    p.text("operation") or "",
                    datalist,
                ),
            ),
            field(
                "Status",
                h(
                    '<select name="status" data-autosubmit>{}</select>',
                    options([("", "any"), *((s, s) for s in _STATUSES)], p.text("status")),
                ),
            ),
            field(
                "Min duration (ms)",
                h(
                    '<input name="min_ms" type="number" min="0" step="any" '
                    'value="{}" placeholder="0">',
                    p.text("min_ms") or "",
                ),
            ),
            field("Time", window_select(p)),
            field(
                "Text",
                h(
                    '<input name="q" type="search" value="{}" placeholder="name, attribute, '
                    'error…">',
                    p.text("q") or "",
                ),
            ),
        ],
    )


def _trace_row(row: TraceRow, longest: float) -> Safe:
    width = row.duration_ms / longest * 100 if longest > 0 else 0.0
    status = "error" if row.error_count else row.root_status
    others = join(service_chip(s) for s in row.services if s != row.root_service)
    return h(
        '<tr class="trace-row"><td class="time">{}</td>'
        '<td><a class="op" href="{}">{}</a><div class="sub">{}{}</div></td>'
        '<td class="num">{}</td><td class="num{}">{}</td>'
        '<td class="dur"><svg class="mini" width="100%" height="8"><rect class="bg" x="0" '
        'width="100%" height="8" rx="2"/><rect class="st-{}" x="0" width="{}" height="8" '
        'rx="2"/></svg><span>{}</span></td><td>{}</td></tr>',
        fmt_time(row.start_ns),
        url(f"/traces/{row.trace_id}"),
        row.root_name,
        service_chip(row.root_service),
        others,
        row.span_count,
        Safe(" errors" if row.error_count else ""),
        row.error_count,
        status,
        pct(max(width, 0.5)),
        fmt_ms(row.duration_ms),
        status_badge(status),
    )


def traces_page(reader: SQLiteStore, p: Params) -> Page:
    """The traces list."""
    flt = span_filter(p)
    before = p.cursor()
    page = list_traces(reader, flt, before=before, limit=p.limit(50, 500))
    longest = max((row.duration_ms for row in page.items), default=0.0)
    rows = join(_trace_row(row, longest) for row in page.items)
    params = p.items()
    pager = []
    if before is not None:
        pager.append(h('<a href="{}">⇤ Newest</a>', url("/traces", {**params, "before": None})))
    if page.next is not None:
        pager.append(
            h('<a href="{}">Older →</a>', url("/traces", {**params, "before": page.next.encode()}))
        )
    if page.items:
        table = h(
            '<table class="list traces"><thead><tr><th>Start (UTC)</th><th>Trace</th>'
            '<th class="num">Spans</th><th class="num">Errors</th><th>Duration</th>'
            "<th>Status</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )
    else:
        table = Safe('<p class="empty">No trace matches these filters.</p>')
    live = h('{}<nav class="pager">{}</nav>', table, join(pager))
    return Page(
        title="Traces",
        section="/traces",
        head=_form(reader, p),
        live=live,
        live_kinds=() if before is not None else ("traces",),
    )
