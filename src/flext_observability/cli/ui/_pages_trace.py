"""`/traces/<trace_id>`: the waterfall on a shared time axis, span details, the trace's logs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from flext_observability._internal.time import datetime_to_ns
from flext_observability.cli.ui._charts import pct, waterfall_axis, waterfall_grid
from flext_observability.cli.ui._html import (
    Safe,
    attr_value,
    color_index,
    fmt_ms,
    fmt_time,
    h,
    join,
    kv_rows,
)
from flext_observability.cli.ui._layout import Page, message_page
from flext_observability.cli.ui._params import Params
from flext_observability.cli.ui._widgets import level_badge, service_chip, status_badge
from flext_observability.models import FlextLogEntry, FlextTrace
from flext_observability.sinks._store_browse import trace_logs
from flext_observability.sinks._store_traces import trace_spans
from flext_observability.sinks.store import SQLiteStore

__all__ = ["trace_page", "trace_page_for"]

_MAX_SPANS = 5000


def trace_page_for(trace_id: str) -> Callable[[SQLiteStore, Params], Page]:
    """The page function of one trace."""
    return lambda reader, _p: trace_page(reader, trace_id)


def _ordered(spans: list[FlextTrace]) -> list[tuple[FlextTrace, int]]:
    """Depth-first order (children by start time); spans whose parent is absent are roots."""
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[FlextTrace]] = defaultdict(list)
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children[parent].append(span)
    for group in children.values():
        group.sort(key=lambda s: (s.start_time, s.span_id))
    ordered: list[tuple[FlextTrace, int]] = []
    stack = [(root, 0) for root in reversed(children[None])]
    seen: set[str] = set()
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        ordered.append((span, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    return ordered


def _exception(span: FlextTrace) -> dict[str, str] | None:
    for event in span.events:
        if event.name == "exception":
            return {k: attr_value(v) for k, v in event.attributes.items()}
    return None


def _initial(ordered: list[tuple[FlextTrace, int]]) -> FlextTrace:
    errors = [(depth, span) for span, depth in ordered if span.is_error]
    with_exception = [(depth, span) for depth, span in errors if _exception(span)]
    if with_exception:
        return max(with_exception, key=lambda item: item[0])[1]
    return errors[0][1] if errors else ordered[0][0]


def _bar(span: FlextTrace, t0: int, total_ms: float, end_ns: int) -> Safe:
    start_ms = (datetime_to_ns(span.start_time) - t0) / 1e6
    duration = span.duration_ms if span.duration_ms is not None else (end_ns - t0) / 1e6 - start_ms
    left = start_ms / total_ms * 100 if total_ms > 0 else 0.0
    width = max(duration / total_ms * 100 if total_ms > 0 else 100.0, 0.3)
    # The duration label goes after the bar, or inside a wide bar near the right edge, or
    # before a narrow one there.
    label_x, anchor, dx, label_css = left + width, "start", "4", "dur"
    if label_x > 82:  # noqa: PLR2004 - room for the label on the right
        anchor, dx = "end", "-4"
        label_css, label_x = ("dur inside", left + width) if width >= 12 else ("dur", left)  # noqa: PLR2004
    css = f"bar st-{span.status.value}" + (" unfinished" if span.end_time is None else "")
    markers = join(
        h(
            '<circle class="ev{}" cx="{}" cy="11" r="3"><title>{} at +{}</title></circle>',
            Safe(" ev-exc" if event.name == "exception" else ""),
            pct(
                (datetime_to_ns(event.timestamp) - t0) / 1e6 / total_ms * 100 if total_ms > 0 else 0
            ),
            event.name,
            fmt_ms((datetime_to_ns(event.timestamp) - t0) / 1e6),
        )
        for event in span.events
    )
    label = fmt_ms(span.duration_ms) if span.end_time is not None else "unfinished"
    return h(
        '<svg class="bars" width="100%" height="22">{}<rect class="{}" x="{}" y="5" width="{}" '
        'height="12" rx="2"/>{}<text class="{}" x="{}" dx="{}" y="15" text-anchor="{}">{}'
        "</text></svg>",
        waterfall_grid(total_ms),
        css,
        pct(left),
        pct(width),
        markers,
        label_css,
        pct(label_x),
        dx,
        anchor,
        label,
    )


def _row(span: FlextTrace, depth: int, t0: int, total_ms: float, end_ns: int, *, sel: bool) -> Safe:
    return h(
        '<div class="wf-row{}" data-span="{}" id="row-{}" tabindex="0" role="button">'
        '<div class="wf-label d{}"><i class="dot c{}"></i><span class="op">{}</span>'
        '<span class="kind">{}</span>{}</div><div class="wf-bar">{}</div></div>',
        Safe(" selected" if sel else ""),
        span.span_id,
        span.span_id,
        min(depth, 24),
        color_index(span.service_name or ""),
        span.operation_name,
        span.kind.value,
        Safe('<span class="err-mark" title="error">!</span>') if span.is_error else Safe(""),
        _bar(span, t0, total_ms, end_ns),
    )


def _log_rows(entries: list[FlextLogEntry], t0: int, *, span_links: bool) -> Safe:
    if not entries:
        return Safe('<p class="empty">No logs.</p>')
    rows = []
    for entry in entries:
        link = Safe("")
        if span_links and entry.span_id:
            link = h(
                '<a class="span-link" href="#span-{}" data-span="{}">span</a>',
                entry.span_id,
                entry.span_id,
            )
        exc = Safe("")
        if entry.exception is not None:
            exc = h(
                '<details class="exc"><summary>{}: {}</summary><pre>{}</pre></details>',
                entry.exception.type,
                entry.exception.message,
                entry.exception.stacktrace,
            )
        rows.append(
            h(
                '<tr><td class="time">+{}</td><td>{}</td><td class="logger">{}</td>'
                '<td class="msg">{}{}</td><td>{}</td></tr>',
                fmt_ms((datetime_to_ns(entry.timestamp) - t0) / 1e6),
                level_badge(entry.level.value),
                entry.logger_name or "—",
                entry.message,
                exc,
                link,
            )
        )
    return h('<table class="list logs compact"><tbody>{}</tbody></table>', join(rows))


def _detail(span: FlextTrace, t0: int, logs: list[FlextLogEntry], *, sel: bool) -> Safe:
    exc = _exception(span)
    exc_block = Safe("")
    if exc is not None:
        exc_block = h(
            '<div class="exception"><h4>Exception</h4><p class="exc-title"><b>{}</b> {}</p>'
            "<pre>{}</pre></div>",
            exc.get("exception.type", ""),
            exc.get("exception.message", ""),
            exc.get("exception.stacktrace", ""),
        )
    events = join(
        h(
            '<li><span class="time">+{}</span> <b>{}</b>{}</li>',
            fmt_ms((datetime_to_ns(event.timestamp) - t0) / 1e6),
            event.name,
            h('<table class="kv">{}</table>', kv_rows(event.attributes))
            if event.attributes and event.name != "exception"
            else Safe(""),
        )
        for event in span.events
    )
    parent = span.parent_span_id or "—"
    message = h('<p class="status-msg">{}</p>', span.status_message) if span.status_message else ""
    return h(
        '<section class="detail" id="span-{}" data-span="{}"{}><h3>{}</h3>'
        '<div class="detail-meta">{} <span class="kind">{}</span> {}</div>{}'
        '<dl class="facts"><dt>Span ID</dt><dd><code>{}</code></dd><dt>Parent</dt>'
        '<dd><code>{}</code></dd><dt>Start</dt><dd>{} <span class="muted">(+{})</span></dd>'
        "<dt>Duration</dt><dd>{}</dd><dt>Scope</dt><dd>{}</dd></dl>{}"
        "<h4>Attributes</h4>{}<h4>Events</h4>{}<h4>Logs of this span</h4>{}</section>",
        span.span_id,
        span.span_id,
        Safe("" if sel else " hidden"),
        span.operation_name,
        status_badge(span.status.value),
        span.kind.value,
        service_chip(span.service_name),
        message,
        span.span_id,
        parent,
        fmt_time(datetime_to_ns(span.start_time)),
        fmt_ms((datetime_to_ns(span.start_time) - t0) / 1e6),
        fmt_ms(span.duration_ms),
        span.scope or "—",
        exc_block,
        h('<table class="kv">{}</table>', kv_rows(span.attributes))
        if span.attributes
        else Safe('<p class="empty">none</p>'),
        h('<ul class="events">{}</ul>', events)
        if span.events
        else Safe('<p class="empty">none</p>'),
        _log_rows([e for e in logs if e.span_id == span.span_id], t0, span_links=False),
    )


def trace_page(reader: SQLiteStore, trace_id: str) -> Page:
    """The waterfall of one trace, its span details and its logs."""
    trace_id = trace_id.lower()
    if len(trace_id) != 32 or any(c not in "0123456789abcdef" for c in trace_id):  # noqa: PLR2004
        msg = f"trace id: expected 32 hex digits, got {trace_id[:40]!r}"
        raise ValueError(msg)
    spans = trace_spans(reader, trace_id, limit=_MAX_SPANS)
    if not spans:
        page = message_page(
            "Trace not found",
            f"No span of trace {trace_id} is in the store (yet); this page updates by itself.",
            status=404,
            section="/traces",
        )
        return Page(
            title=page.title,
            section=page.section,
            live=page.live,
            live_kinds=("traces",),
            status=404,
        )
    logs = trace_logs(reader, trace_id)
    ordered = _ordered(spans)
    t0 = min(datetime_to_ns(span.start_time) for span in spans)
    end_ns = max(datetime_to_ns(span.end_time or span.start_time) for span in spans)
    end_ns = max([end_ns, *(datetime_to_ns(e.timestamp) for e in logs)])
    total_ms = (end_ns - t0) / 1e6
    selected = _initial(ordered)
    root = ordered[0][0]
    errors = sum(span.is_error for span in spans)
    services = sorted({span.service_name for span in spans if span.service_name})
    capped = (
        h('<p class="warn">Showing the first {} spans.</p>', _MAX_SPANS)
        if len(spans) >= _MAX_SPANS
        else Safe("")
    )
    summary = h(
        '<div class="trace-head"><h2>{} {}</h2><div class="facts-row">'
        "<span><b>Trace</b> <code>{}</code></span><span><b>Start</b> {}</span>"
        "<span><b>Duration</b> {}</span><span><b>Spans</b> {}</span>"
        '<span><b>Errors</b> <span class="{}">{}</span></span><span>{}</span></div></div>{}',
        root.operation_name,
        status_badge("error" if errors else root.status.value),
        trace_id,
        fmt_time(t0),
        fmt_ms(total_ms),
        len(spans),
        "errors" if errors else "",
        errors,
        join(service_chip(s) for s in services),
        capped,
    )
    rows = join(
        _row(span, depth, t0, total_ms, end_ns, sel=span is selected) for span, depth in ordered
    )
    details = join(_detail(span, t0, logs, sel=span is selected) for span, _ in ordered)
    live = h(
        '{}<div class="trace-grid"><div class="waterfall" data-selected="{}">'
        '<div class="wf-head"><div class="wf-label">Span</div><div class="wf-bar">{}</div></div>'
        '{}</div><aside class="details">{}</aside></div>'
        '<h3 class="section">Logs in this trace <span class="count">{}</span></h3>'
        '<div id="trace-logs">{}</div>',
        summary,
        selected.span_id,
        waterfall_axis(total_ms),
        rows,
        details,
        len(logs),
        _log_rows(logs, t0, span_links=True),
    )
    return Page(
        title=f"Trace {trace_id[:8]}…",
        section="/traces",
        live=live,
        live_kinds=("traces", "logs"),
        head=h('<p class="crumbs"><a href="/traces">← Traces</a></p>'),
    )
