"""Hostile stored strings, generated over every displayed field, render as text on every page.

Each example writes a span, its log, a metric point, an alert and a health result whose text
fields are generated (markup, quotes, braces, scripts, arbitrary unicode), then renders every
page through the viewer and parses it: only the viewer's own elements and attributes exist (no
injected tag, event handler, style or `javascript:` URL), and each hostile string appears as
text exactly as stored.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _ui_store import T0, span
from flext_observability.cli.ui._app import UiApp
from flext_observability.models import (
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
)
from flext_observability.models._log import ExceptionInfo
from flext_observability.models._trace import SpanEvent
from flext_observability.sinks import SQLiteStore

HOST = {"host": "127.0.0.1:8787"}
FRAGMENTS = (
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)",
    "</textarea></pre></table>",
    "javascript:alert(1)",
    "{} {0} {name}",
    "&lt;b&gt; &amp; &#60;",
    "<!-- -->",
    "<svg onload=alert(1)>",
    "\u202e\u2028",
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=24)
HOSTILE = st.builds(
    lambda prefix, fragment, suffix: f"x{prefix}{fragment}{suffix}",
    TEXT,
    st.sampled_from(FRAGMENTS),
    TEXT,
)
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "link",
    "script",
    "body",
    "header",
    "a",
    "span",
    "nav",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "div",
    "footer",
    "form",
    "label",
    "select",
    "option",
    "input",
    "datalist",
    "button",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "svg",
    "rect",
    "line",
    "text",
    "circle",
    "polyline",
    "p",
    "ul",
    "li",
    "b",
    "i",
    "code",
    "pre",
    "details",
    "summary",
    "section",
    "aside",
    "dl",
    "dt",
    "dd",
}
_counter = itertools.count(1)


class _Page(HTMLParser):
    """Collects tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check_structure(page: _Page) -> None:
    for tag, attrs in page.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            if name in {"href", "src", "action"}:
                assert value is not None
                assert value.startswith(("/", "#")), (tag, name, value)
        if tag == "script":
            assert attrs == [("src", "/static/app.js"), ("defer", None)]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One store that the examples add to."""
    return tmp_path_factory.mktemp("hostile") / "hostile.db"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    op=HOSTILE,
    service=HOSTILE,
    key=HOSTILE,
    value=HOSTILE,
    message=HOSTILE,
    event=HOSTILE,
    logger=HOSTILE,
    unit=HOSTILE,
    name=HOSTILE,
)
def test_every_displayed_field_renders_as_text(
    store_path: Path,
    *,
    op: str,
    service: str,
    key: str,
    value: str,
    message: str,
    event: str,
    logger: str,
    unit: str,
    name: str,
) -> None:
    """Generated hostile strings in every field: no injected markup, each string shown as text."""
    n = next(_counter)
    trace = f"{n:032x}"
    at = T0 + timedelta(minutes=n)
    boom = SpanEvent(
        name=event,
        timestamp=at,
        attributes={
            "exception.type": name,
            "exception.message": message,
            "exception.stacktrace": value,
        },
    )
    with SQLiteStore(store_path, retention_hours=None, max_mb=None) as store:
        store.write(
            [
                span(
                    trace,
                    n,
                    op,
                    0,
                    5,
                    service=service,
                    status="error",
                    status_message=message,
                    attributes={key: value},
                    events=[boom],
                    scope=name,
                    at=at,
                ),
                FlextLogEntry(
                    message=message,
                    logger_name=logger,
                    trace_id=trace,
                    span_id=f"{n:016x}",
                    service_name=service,
                    timestamp=at,
                    context={key: value},
                    exception=ExceptionInfo(type=name, message=message, stacktrace=value),
                ),
                FlextMetric(
                    name=f"hostile.metric{n}",
                    value=1.0,
                    unit=unit,
                    tags={key: value},
                    service_name=service,
                    timestamp=at,
                ),
                FlextAlert(
                    name=name,
                    message=message,
                    details={key: value},
                    labels={key: value},
                    source=name,
                    trace_id=trace,
                    service_name=service,
                    timestamp=at,
                ),
                FlextHealthCheck(
                    name=name,
                    message=message,
                    details={key: value},
                    service_name=service,
                    timestamp=at,
                ),
            ]
        )
    app = UiApp(store_path, allowed_hosts=frozenset(HOST.values()))
    try:
        expected = {
            f"/traces/{trace}": [op, service, key, value, message, event, name, logger],
            "/traces": [op, service],
            "/logs": [message, logger, service, key, value, name],
            f"/metrics?name=hostile.metric{n}": [unit, key, value, service],
            "/alerts": [name, message, key, value, service],
            "/health": [name, message, key, value],
            "/": [op, service, name, message],
        }
        for target, strings in expected.items():
            response = app.handle("GET", target, HOST)
            assert response.status == 200, target
            page = _Page()
            page.feed(response.body.decode())
            page.close()
            _check_structure(page)
            texts = "\x00".join(page.text)
            for string in strings:
                assert string in texts, (target, string)
        echoed = app.handle("GET", "/traces?" + _query(q=op, operation=op), HOST)
        page = _Page()
        page.feed(echoed.body.decode())
        _check_structure(page)
        inputs = {
            dict(attrs).get("name"): dict(attrs).get("value")
            for tag, attrs in page.tags
            if tag == "input"
        }
        assert inputs["q"] == op.strip()
        # the text search finds the span (values are stripped: the search is a substring)
        found = app.handle("GET", "/traces?" + _query(q=op), HOST).body.decode()
        assert f'href="/traces/{trace}"' in found
        assert inputs["operation"] == op.strip()
    finally:
        app.close()


def _query(**params: str) -> str:
    from urllib.parse import urlencode  # noqa: PLC0415 - local to the one caller

    return urlencode(params)
