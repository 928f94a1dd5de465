"""The page chrome (header, navigation, live status, footer) and the message pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from flext_observability.cli.ui._html import Safe, h, join

__all__ = ["NAV", "Page", "message_page", "render"]

NAV: tuple[tuple[str, str], ...] = (
    ("/", "Overview"),
    ("/traces", "Traces"),
    ("/logs", "Logs"),
    ("/metrics", "Metrics"),
    ("/alerts", "Alerts"),
    ("/health", "Health"),
)


@dataclass(frozen=True, slots=True)
class Page:
    """A rendered page: `head` stays put, `live` is replaced when the data changes."""

    title: str
    section: str
    live: Safe
    head: Safe = field(default_factory=Safe)
    live_kinds: tuple[str, ...] = ()
    """Store kinds whose changes refresh `live` (empty: no live refresh on this page)."""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict[str, str])


def render(page: Page, *, store_label: str) -> Safe:
    """The full HTML document of a page."""
    nav = join(
        h(
            '<a href="{}"{}>{}</a>',
            path,
            Safe(' aria-current="page"' if path == page.section else ""),
            label,
        )
        for path, label in NAV
    )
    return h(
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{} · flext-observability</title>"
        '<link rel="stylesheet" href="/static/app.css">'
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        '<script src="/static/app.js" defer></script>'
        '</head><body data-live="{}">'
        '<header class="top"><a class="brand" href="/"><span class="logo"></span>'
        "flext<b>observability</b></a><nav>{}</nav>"
        '<span class="live-status" id="live-status" title="updates as the store changes">'
        "live</span></header>"
        '<main><h1 class="page-title">{}</h1>{}<div id="live">{}</div></main>'
        "<footer>store <code>{}</code> · read-only · times in UTC</footer>"
        "</body></html>\n",
        page.title,
        ",".join(page.live_kinds),
        nav,
        page.title,
        page.head,
        page.live,
        store_label,
    )


def message_page(
    title: str, message: str, *, hint: str = "", status: int = 200, section: str = ""
) -> Page:
    """A page that only says something (missing store, bad filter, not found...)."""
    body = h(
        '<div class="notice"><h2>{}</h2><p>{}</p>{}</div>',
        title,
        message,
        h('<p class="hint">{}</p>', hint) if hint else Safe(""),
    )
    return Page(title=title, section=section, live=body, live_kinds=("store",), status=status)
