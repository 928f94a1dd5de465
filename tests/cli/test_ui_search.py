"""The traces page and `/api/traces` search text in bounded windows and say how far they looked."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from _ui_store import span
from flext_observability.cli.ui._app import UiApp
from flext_observability.sinks import SQLiteStore, _store_traces

HOST = {"host": "127.0.0.1:8787"}
OLD_MATCH = "0" * 31 + "1"
WINDOW = 4


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[UiApp]:
    """A viewer over 12 one-span traces, only the oldest matching "needle"; windows of 4 spans."""
    path = tmp_path / "search.db"
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        store.write(
            [
                span(f"{i + 1:032x}", i + 1, "needle op" if i == 0 else "plain op", i * 10, 1)
                for i in range(12)
            ]
        )
    monkeypatch.setattr(_store_traces, "SEARCH_WINDOW", WINDOW)
    viewer = UiApp(path, allowed_hosts=frozenset(HOST.values()))
    yield viewer
    viewer.close()


def _get(app: UiApp, target: str) -> tuple[int, str, dict[str, str]]:
    response = app.handle("GET", target, HOST)
    return response.status, response.body.decode(), response.headers


def test_a_miss_says_how_far_it_searched_and_links_to_older_spans(app: UiApp) -> None:
    """Each window without a match says so and links on; the third window finds the old trace."""
    target = "/traces?q=NEEDLE"
    searched: list[str] = []
    for _ in range(3):
        status, page, _ = _get(app, target)
        assert status == 200
        if "/traces/" + OLD_MATCH in page:
            break
        assert "No trace matches" not in page  # not a verdict on the whole store
        note = re.search(r"Searched spans back to ([0-9:. -]+) UTC: no match there", page)
        link = re.search(r'<a class="search-older" href="([^"]+)">Search older', page)
        assert note is not None
        assert link is not None
        searched.append(note.group(1))
        target = html.unescape(link.group(1))
        assert "q=NEEDLE" in target
    else:
        pytest.fail("the old matching trace was never listed")
    assert searched == sorted(searched, reverse=True)
    assert len(searched) == 2  # 12 spans in windows of 4: the match is in the third
    assert "Search older" not in page  # the last window reached the oldest span
    assert "Searched spans back to" not in page


def test_the_last_window_without_a_match_says_nothing_matches(app: UiApp) -> None:
    """Once the windows reach the oldest span, a miss is the plain "no trace matches" page."""
    target = "/traces?q=absent"
    for _ in range(5):
        _, page, _ = _get(app, target)
        link = re.search(r'<a class="search-older" href="([^"]+)">', page)
        if link is None:
            break
        target = html.unescape(link.group(1))
    assert "No trace matches these filters." in page


def test_the_api_continues_a_search_with_x_next_before(app: UiApp) -> None:
    """`/api/traces?q=` returns [] and a cursor per empty window, then the matching span."""
    target = "/api/traces?q=needle"
    empty_windows = 0
    while True:
        status, body, headers = _get(app, target)
        assert status == 200
        spans = json.loads(body)
        if spans:
            break
        empty_windows += 1
        assert "X-Searched-Back-To" in headers
        target = "/api/traces?q=needle&before=" + headers["X-Next-Before"]
    assert [s["trace_id"] for s in spans] == [OLD_MATCH]
    assert empty_windows == 2
    assert "X-Next-Before" not in headers
