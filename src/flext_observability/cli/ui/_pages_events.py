"""`/alerts` (activations, escalations and resolutions on a timeline) and `/health`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from flext_observability._internal.time import datetime_to_ns
from flext_observability.cli.ui._charts import nice_ticks, pct
from flext_observability.cli.ui._html import (
    Safe,
    fmt_ms,
    fmt_number,
    fmt_time,
    h,
    join,
    kv_rows,
    url,
)
from flext_observability.cli.ui._layout import Page
from flext_observability.cli.ui._params import Params
from flext_observability.cli.ui._widgets import field as form_field
from flext_observability.cli.ui._widgets import filter_form, service_chip, window_select
from flext_observability.models import FlextAlert, FlextHealthCheck
from flext_observability.sinks._store_browse import alerts_since, health_history, health_names
from flext_observability.sinks.store import SQLiteStore

__all__ = ["AlertEvent", "alert_events", "alerts_page", "health_page"]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One notification, classified: `fired`, `escalated`, `resolved` or `updated`."""

    kind: str
    at: int
    alert: FlextAlert


@dataclass(slots=True)
class _Lane:
    fingerprint: str
    name: str
    labels: dict[str, str]
    segments: list[tuple[int, int | None, str]] = field(
        default_factory=list["tuple[int, int | None, str]"]
    )
    events: list[AlertEvent] = field(default_factory=list[AlertEvent])


def alert_events(rows: list[tuple[FlextAlert, int | None]]) -> list[AlertEvent]:
    """Classify stored notifications (oldest first) into lifecycle events."""
    open_severity: dict[str, str] = {}
    events: list[AlertEvent] = []
    for alert, recorded in rows:
        key = alert.fingerprint
        if not alert.is_active:
            at = (
                datetime_to_ns(alert.resolved_at)
                if alert.resolved_at
                else recorded or datetime_to_ns(alert.timestamp)
            )
            events.append(AlertEvent("resolved", at, alert))
            open_severity.pop(key, None)
        elif key not in open_severity:
            events.append(AlertEvent("fired", datetime_to_ns(alert.timestamp), alert))
            open_severity[key] = alert.severity.value
        elif open_severity[key] != alert.severity.value:
            events.append(
                AlertEvent("escalated", recorded or datetime_to_ns(alert.timestamp), alert)
            )
            open_severity[key] = alert.severity.value
        else:
            events.append(AlertEvent("updated", recorded or datetime_to_ns(alert.timestamp), alert))
    return events


def _lanes(events: list[AlertEvent]) -> list[_Lane]:
    lanes: dict[str, _Lane] = {}
    for event in events:
        alert = event.alert
        lane = lanes.get(alert.fingerprint)
        if lane is None:
            lane = lanes[alert.fingerprint] = _Lane(alert.fingerprint, alert.name, alert.labels)
        lane.events.append(event)
        if event.kind == "fired":
            lane.segments.append((event.at, None, alert.severity.value))
        elif event.kind == "escalated" and lane.segments and lane.segments[-1][1] is None:
            start, _, severity = lane.segments[-1]
            lane.segments[-1] = (start, event.at, severity)
            lane.segments.append((event.at, None, alert.severity.value))
        elif event.kind == "resolved" and lane.segments and lane.segments[-1][1] is None:
            start, _, severity = lane.segments[-1]
            lane.segments[-1] = (start, event.at, severity)
    return list(lanes.values())


def _axis(t0: int, t1: int) -> Safe:
    span = max(1, t1 - t0)
    marks = []
    for tick in nice_ticks(0, span / 1e9, 6):
        x = tick * 1e9 / span * 100
        anchor = "start" if x < 3 else ("end" if x > 97 else "middle")  # noqa: PLR2004
        marks.append(
            h(
                '<line class="tick" x1="{}" x2="{}" y1="16" y2="24"/><text x="{}" y="12" '
                'text-anchor="{}">{}</text>',
                pct(x),
                pct(x),
                pct(x),
                anchor,
                fmt_time(t0 + int(tick * 1e9), date=False)[:8],
            )
        )
    return h('<svg class="axis" width="100%" height="24">{}</svg>', join(marks))


def _lane_row(lane: _Lane, t0: int, t1: int) -> Safe:
    span = max(1, t1 - t0)

    def x(at: int) -> float:
        return (at - t0) / span * 100

    bars = join(
        h(
            '<rect class="seg sev-{}{}" x="{}" y="5" width="{}" height="14" rx="3">'
            "<title>{} {} → {}"
            "</title></rect>",
            severity,
            Safe(" open" if end is None else ""),
            pct(x(start)),
            pct(max(0.4, x(end if end is not None else t1) - x(start))),
            severity,
            fmt_time(start, date=False),
            fmt_time(end, date=False) if end else "still active",
        )
        for start, end, severity in lane.segments
    )
    marks = join(
        h(
            '<circle class="mk mk-{}" cx="{}" cy="12" r="5"><title>{} {} at {}</title></circle>',
            e.kind,
            pct(x(e.at)),
            lane.name,
            e.kind,
            fmt_time(e.at, date=False),
        )
        for e in lane.events
        if e.kind in {"fired", "escalated", "resolved"}
    )
    labels = join(h('<span class="tag">{}={}</span>', k, v) for k, v in sorted(lane.labels.items()))
    return h(
        '<div class="wf-row tl-row"><div class="wf-label"><span class="op">{}</span>{}</div>'
        '<div class="wf-bar"><svg class="bars" width="100%" height="24">{}{}</svg></div></div>',
        lane.name,
        labels,
        bars,
        marks,
    )


def _event_row(event: AlertEvent) -> Safe:
    alert = event.alert
    value = "—"
    if alert.value is not None:
        value = fmt_number(alert.value) + (
            f" / {fmt_number(alert.threshold)}" if alert.threshold is not None else ""
        )
    trace = (
        h(
            '<a class="trace-link" href="{}">{}…</a>',
            url(f"/traces/{alert.trace_id}"),
            alert.trace_id[:12],
        )
        if alert.trace_id
        else Safe('<span class="muted">—</span>')
    )
    details = h('<table class="kv">{}</table>', kv_rows(alert.details)) if alert.details else ""
    labels = join(
        h('<span class="tag">{}={}</span>', k, v) for k, v in sorted(alert.labels.items())
    )
    return h(
        '<tr><td class="time">{}</td><td><span class="badge ev-{}">{}</span></td>'
        '<td><b>{}</b><div class="sub">{}{}</div></td><td><span class="badge sev-{}">{}</span></td>'
        '<td class="msg">{}{}</td><td class="num">{}</td><td>{}</td></tr>',
        fmt_time(event.at),
        event.kind,
        event.kind,
        alert.name,
        service_chip(alert.service_name),
        labels,
        alert.severity.value,
        alert.severity.value,
        alert.message,
        details,
        value,
        trace,
    )


def alerts_page(reader: SQLiteStore, p: Params) -> Page:
    """The alert timeline, the open alerts and every notification with its rule details."""
    events = alert_events(alerts_since(reader, since=p.moment("since")))
    head = filter_form("/alerts", [form_field("Time", window_select(p))])
    if not events:
        live = Safe('<p class="empty">No alert has fired in this window.</p>')
        return Page(title="Alerts", section="/alerts", head=head, live=live, live_kinds=("alerts",))
    lanes = _lanes(events)
    t0 = min(e.at for e in events)
    t1 = max(e.at for e in events)
    if any(seg[1] is None for lane in lanes for seg in lane.segments):
        t1 = max(t1, min(time.time_ns(), t1 + 3600 * 10**9))
    span = max(1, t1 - t0)
    t0, t1 = t0 - span // 20, t1 + span // 20
    open_lanes = [lane for lane in lanes if lane.segments and lane.segments[-1][1] is None]
    active = join(
        h(
            '<li><b>{}</b> <span class="badge sev-{}">{}</span> since {} <span class="muted">{}'
            "</span></li>",
            lane.name,
            lane.segments[-1][2],
            lane.segments[-1][2],
            fmt_time(lane.segments[-1][0]),
            lane.events[-1].alert.message,
        )
        for lane in open_lanes
    ) or Safe('<li class="muted">No alert is active.</li>')
    timeline = h(
        '<div class="timeline"><div class="wf-head"><div class="wf-label">Alert</div>'
        '<div class="wf-bar">{}</div></div>{}</div>'
        '<div class="legend"><span class="legend-item"><i class="mk-sw mk-fired"></i>fired</span>'
        '<span class="legend-item"><i class="mk-sw mk-escalated"></i>escalated</span>'
        '<span class="legend-item"><i class="mk-sw mk-resolved"></i>resolved</span></div>',
        _axis(t0, t1),
        join(_lane_row(lane, t0, t1) for lane in lanes),
    )
    table = h(
        '<table class="list alerts"><thead><tr><th>Time (UTC)</th><th>Event</th><th>Alert</th>'
        '<th>Severity</th><th>Message and rule</th><th class="num">Value / threshold</th>'
        "<th>Trace</th></tr></thead><tbody>{}</tbody></table>",
        join(_event_row(e) for e in reversed(events)),
    )
    live = h(
        '<h3 class="section">Active now</h3><ul class="plain">{}</ul>'
        '<h3 class="section">Timeline</h3>{}<h3 class="section">Notifications</h3>{}',
        active,
        timeline,
        table,
    )
    return Page(title="Alerts", section="/alerts", head=head, live=live, live_kinds=("alerts",))


def _strip(history: list[FlextHealthCheck]) -> Safe:
    slots = 60
    width = 100 / slots
    ordered = list(reversed(history[:slots]))
    offset = slots - len(ordered)
    empty = join(
        h(
            '<rect class="hs-empty" x="{}" y="2" width="{}" height="18" rx="1.5"/>',
            pct(i * width),
            pct(width * 0.8),
        )
        for i in range(offset)
    )
    results = join(
        h(
            '<rect class="hs-{}" x="{}" y="2" width="{}" height="18" rx="1.5"><title>{} {}{}'
            "</title></rect>",
            c.status.value,
            pct((offset + i) * width),
            pct(width * 0.8),
            fmt_time(datetime_to_ns(c.timestamp), date=False),
            c.status.value,
            f": {c.message}" if c.message else "",
        )
        for i, c in enumerate(ordered)
    )
    return h(
        '<div class="strip-label">last {} results, newest on the right</div>'
        '<svg class="strip" width="100%" height="22">{}{}</svg>',
        len(ordered),
        empty,
        results,
    )


def _check_card(history: list[FlextHealthCheck]) -> Safe:
    latest = history[0]
    recent = join(
        h(
            '<tr><td class="time">{}</td><td><span class="badge hs-{}">{}</span></td>'
            '<td class="msg">{}</td><td class="num">{}</td></tr>',
            fmt_time(datetime_to_ns(c.timestamp)),
            c.status.value,
            c.status.value,
            c.message or "—",
            fmt_ms(c.duration_ms),
        )
        for c in history[:20]
    )
    details = (
        h('<table class="kv">{}</table>', kv_rows(latest.details)) if latest.details else Safe("")
    )
    return h(
        '<div class="check-card"><div class="check-head"><h3>{}</h3>{}'
        '<span class="badge hs-{}">{}</span></div><p class="msg">{}</p>'
        '<p class="muted">last run {} · took {}</p>{}{}'
        '<details><summary>Recent results</summary><table class="list compact"><tbody>{}'
        "</tbody></table></details></div>",
        latest.name,
        service_chip(latest.service_name),
        latest.status.value,
        latest.status.value,
        latest.message or "—",
        fmt_time(datetime_to_ns(latest.timestamp)),
        fmt_ms(latest.duration_ms),
        _strip(history),
        details,
        recent,
    )


def health_page(reader: SQLiteStore, p: Params) -> Page:  # noqa: ARG001 - one page signature
    """The latest result of every check and its recent history."""
    cards = [
        _check_card(history)
        for name in health_names(reader)
        if (history := health_history(reader, name, limit=60))
    ]
    live = (
        h('<div class="checks">{}</div>', join(cards))
        if cards
        else Safe('<p class="empty">No health results yet.</p>')
    )
    return Page(title="Health", section="/health", live=live, live_kinds=("health",))
