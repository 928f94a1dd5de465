"""Small shared pieces of the pages: badges, service chips, the filter form and its fields."""

from __future__ import annotations

from flext_observability.cli.ui._html import Safe, color_index, h, join
from flext_observability.cli.ui._params import WINDOWS, Params

__all__ = [
    "field",
    "filter_form",
    "level_badge",
    "options",
    "service_chip",
    "status_badge",
    "window_select",
]


def status_badge(status: str) -> Safe:
    """A coloured status pill."""
    return h('<span class="badge st-{}">{}</span>', status, status)


def level_badge(level: str) -> Safe:
    """A coloured log-level pill."""
    return h('<span class="badge lv-{}">{}</span>', level, level)


def service_chip(service: str | None) -> Safe:
    """A service name with its stable colour dot."""
    if not service:
        return Safe('<span class="svc muted">—</span>')
    return h('<span class="svc"><i class="dot c{}"></i>{}</span>', color_index(service), service)


def options(values: list[tuple[str, str]], selected: str | None) -> Safe:
    return join(
        h(
            '<option value="{}"{}>{}</option>',
            value,
            Safe(" selected" if value == (selected or "") else ""),
            label,
        )
        for value, label in values
    )


def filter_form(action: str, fields: list[Safe]) -> Safe:
    """A GET filter form; JS submits it when a select changes."""
    return h(
        '<form class="filters" method="get" action="{}">{}'
        '<div class="actions"><button type="submit">Apply</button>'
        '<a class="clear" href="{}">Clear</a></div></form>',
        action,
        join(fields),
        action,
    )


def field(label: str, control: Safe) -> Safe:
    """A labelled filter control."""
    return h("<label><span>{}</span>{}</label>", label, control)


def window_select(p: Params, name: str = "since") -> Safe:
    """The time-window select."""
    return h(
        '<select name="{}" data-autosubmit>{}</select>', name, options(list(WINDOWS), p.text(name))
    )
