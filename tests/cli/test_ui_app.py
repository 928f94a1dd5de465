"""The viewer's request handling over a real SQLite store (no sockets).

Pages, filters, paging, the JSON API, live versions, authentication, Host checks and store
problems.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _ui_store import T0, Known, fill, span
from flext_observability.cli import main
from flext_observability.cli.ui._app import CSP, UiApp
from flext_observability.models import FlextAlert, FlextLogEntry, FlextTrace
from flext_observability.sinks import SQLiteStore

HOST = {"host": "127.0.0.1:8787"}


@pytest.fixture(scope="module")
def known_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Known]:
    """A store file holding the known dataset."""
    path = tmp_path_factory.mktemp("ui") / "known.db"
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        known = fill(store)
    return path, known


@pytest.fixture
def app(known_store: tuple[Path, Known]) -> Iterator[UiApp]:
    """A viewer over the known store, accepting the loopback Host header."""
    viewer = UiApp(known_store[0], allowed_hosts=frozenset(HOST.values()))
    yield viewer
    viewer.close()


def get(app: UiApp, target: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    """GET `target`; return status, body text and headers."""
    response = app.handle("GET", target, {**HOST, **headers})
    return response.status, response.body.decode(), response.headers


def rows(page: str) -> list[tuple[str, int, str]]:
    """The waterfall rows of a trace page: (span id, depth, operation name)."""
    found = re.findall(
        r'<div class="wf-row[^"]*" data-span="([0-9a-f]+)".*?<div class="wf-label d(\d+)">'
        r'.*?<span class="op">(.*?)</span>',
        page,
    )
    return [(sid, int(depth), html.unescape(name)) for sid, depth, name in found]


def listed_traces(page: str) -> list[str]:
    """The trace ids linked from a traces list page, in order."""
    return re.findall(r'<a class="op" href="/traces/([0-9a-f]{32})"', page)


@pytest.mark.parametrize("path", ["/", "/traces", "/logs", "/metrics", "/alerts", "/health"])
def test_every_page_renders_with_strict_headers(app: UiApp, path: str) -> None:
    """Each page answers 200 with the CSP, nosniff, no-store and the script as a file."""
    status, body, headers = get(app, path)
    assert status == 200
    assert headers["Content-Security-Policy"] == CSP
    assert "script-src 'self'" in CSP
    assert "unsafe-inline" not in CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert '<script src="/static/app.js" defer></script>' in body
    assert "<script>" not in body
    assert " style=" not in body


def test_waterfall_shows_nesting_order_exception_and_logs(
    app: UiApp, known_store: tuple[Path, Known]
) -> None:
    """The waterfall lists spans depth first; the exception's span is selected, with its stack.

    The trace's logs are listed below, linked to their span.
    """
    known = known_store[1]
    status, page, _ = get(app, f"/traces/{known.failing_trace}")
    assert status == 200
    shown = rows(page)
    assert [name for _, _, name in shown] == known.order
    assert [depth for _, depth, _ in shown] == known.depths
    selected = re.search(
        r'<section class="detail" id="span-([0-9a-f]+)" data-span="[0-9a-f]+">', page
    )
    assert selected is not None
    assert selected.group(1) == "0000000000000002"  # "checkout", the span with the exception
    assert page.count('<section class="detail"') == 4
    assert "PaymentDeclinedError" in page
    assert "Traceback (most recent call last):" in page
    assert "checkout failed" in page
    assert 'href="#span-0000000000000002"' in page


def test_trace_page_for_an_unknown_or_invalid_id(app: UiApp) -> None:
    """An unknown trace is a 404 page that keeps polling; a malformed id is a 400."""
    status, page, _ = get(app, "/traces/" + "f" * 32)
    assert status == 404
    assert 'data-live="traces"' in page
    assert "is in the store (yet)" in page
    status, page, _ = get(app, "/traces/not-hex")
    assert status == 400
    assert "expected 32 hex digits" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=error", "failing"),
        ("operation=checkout", "failing"),
        ("service=billing", "billing"),
        ("min_ms=400", "billing"),
        ("q=declined", "failing"),
        ("q=%2Fcheckout", "failing"),
        ("operation=GET+%2Fch*", "failing"),
    ],
)
def test_filters_narrow_the_trace_list(
    app: UiApp, known_store: tuple[Path, Known], query: str, expected: str
) -> None:
    """Each filter leaves exactly the trace it describes."""
    known = known_store[1]
    want = known.failing_trace if expected == "failing" else known.billing_trace
    status, page, _ = get(app, f"/traces?{query}")
    assert status == 200
    assert listed_traces(page) == [want]


def test_time_window_and_no_match(app: UiApp) -> None:
    """A window after the data lists nothing, and says so."""
    _, page, _ = get(app, "/traces?since=2099-01-01T00:00:00")
    assert listed_traces(page) == []
    assert "No trace matches these filters." in page


def test_pages_cover_every_trace_once(app: UiApp, known_store: tuple[Path, Known]) -> None:
    """Following "Older" links visits each trace exactly once, newest first."""
    known = known_store[1]
    seen: list[str] = []
    target = "/traces?limit=50"
    for _ in range(10):
        _, page, _ = get(app, target)
        seen += listed_traces(page)
        older = re.search(r'<a href="([^"]+)">Older →</a>', page)
        if older is None:
            break
        target = html.unescape(older.group(1))
    assert len(seen) == len(set(seen)) == 2 + len(known.product_traces)
    assert set(seen) == {known.failing_trace, known.billing_trace, *known.product_traces}


def test_paged_lists_stop_live_updates(app: UiApp) -> None:
    """The first page updates live; an older page does not (it would jump)."""
    _, first, _ = get(app, "/traces?limit=5")
    assert '<body data-live="traces">' in first
    older = re.search(r'<a href="([^"]+)">Older →</a>', first)
    assert older is not None
    _, second, _ = get(app, html.unescape(older.group(1)))
    assert '<body data-live="">' in second


def test_logs_filters_and_trace_links(app: UiApp, known_store: tuple[Path, Known]) -> None:
    """Level, logger, text and trace filters narrow the logs; entries link to their trace."""
    known = known_store[1]
    _, everything, _ = get(app, "/logs")
    assert everything.count('<tr class="lv-row-') == 3
    _, errors, _ = get(app, "/logs?level=error")
    assert errors.count('<tr class="lv-row-') == 1
    assert f'href="/traces/{known.failing_trace}#span-0000000000000002"' in errors
    _, by_logger, _ = get(app, "/logs?logger=app.cac*")
    assert by_logger.count('<tr class="lv-row-') == 1
    assert "cache warm" in by_logger
    _, by_text, _ = get(app, "/logs?q=PRODUCTS")
    assert by_text.count('<tr class="lv-row-') == 1
    _, by_trace, _ = get(app, f"/logs?trace_id={known.failing_trace}")
    assert by_trace.count('<tr class="lv-row-') == 1


def test_metrics_page_charts_rates_values_and_percentiles(app: UiApp) -> None:
    """Counters become rates, gauges values and histograms p50/p95 plus count per second."""
    _, page, _ = get(app, "/metrics")
    assert page.count('<div class="chart-card">') == 3
    assert "rate /s" in page
    assert "p50 / p95 (ms) and count /s" in page
    assert page.count('<polyline class="line') == 5  # rate; p50, p95, count/s; the gauge
    titles = set(re.findall(r"<title>[0-9:.]+ (.*?)</title>", page))
    # counter 5, 10, 15 every 10 s; histogram +1/+2/+0 per interval in buckets (..1], (1..5]
    assert {"rate: 0.5 /s", "p50: 2 ms", "p95: 4.7 ms", "count /s: 0.3 /s"} <= titles
    assert "value: 2 {item}" in {html.unescape(t) for t in titles}
    _, one, _ = get(app, "/metrics?name=shop.queue")
    assert one.count('<div class="chart-card">') == 1


def test_alerts_timeline_classifies_the_lifecycle(app: UiApp) -> None:
    """Fired, escalated and resolved appear on the timeline and in the table with details."""
    _, page, _ = get(app, "/alerts")
    for kind in ("fired", "escalated", "resolved"):
        assert f'<span class="badge ev-{kind}">{kind}</span>' in page
        assert f'class="mk mk-{kind}"' in page
    assert page.count('<rect class="seg') == 2  # warning until escalation, then error
    assert "No alert is active." in page
    assert "error_ratio" in page
    assert "team=pay" in page


def test_health_page_shows_latest_and_history(app: UiApp) -> None:
    """The latest result leads the check's card; its history strip has one square per result."""
    _, page, _ = get(app, "/health")
    assert re.search(r'<h3>db</h3>.*?<span class="badge hs-healthy">healthy</span>', page)
    squares = re.findall(r'<rect class="hs-(\w+)"', page)
    assert [s for s in squares if s != "empty"] == ["healthy", "degraded", "healthy"]
    assert len(squares) == 60
    assert "db is degraded" in page


def test_overview_counts_and_operation_stats(app: UiApp, known_store: tuple[Path, Known]) -> None:
    """The overview counts spans, computes error rates and percentiles, links operations."""
    _, page, _ = get(app, "/")
    assert "125" in page
    assert 'href="/traces?operation=checkout&amp;service=shop"' in page
    assert f'href="/traces/{known_store[1].failing_trace}"' in page
    assert "No active alert." in page


def test_fragment_request_returns_only_the_live_region(app: UiApp) -> None:
    """With X-Flext-Fragment the answer is the live region, without the page chrome."""
    _, page, _ = get(app, "/traces", **{"x-flext-fragment": "1"})
    assert "<html" not in page
    assert '<table class="list traces">' in page


def test_api_returns_entity_json_and_pages(app: UiApp, known_store: tuple[Path, Known]) -> None:
    """API lists are arrays of model_dump_json objects; X-Next-Before pages through them."""
    known = known_store[1]
    status, body, headers = get(app, "/api/traces?limit=100")
    assert status == 200
    first = [FlextTrace.model_validate(item) for item in json.loads(body)]
    assert len(first) == 100
    cursor = headers["X-Next-Before"]
    _, body, headers = get(app, f"/api/traces?limit=100&before={cursor}")
    second = [FlextTrace.model_validate(item) for item in json.loads(body)]
    assert len(first) + len(second) == 125
    assert "X-Next-Before" not in headers
    _, body, _ = get(app, f"/api/traces/{known.failing_trace}")
    spans = json.loads(body)
    assert [FlextTrace.model_validate(s).model_dump_json() for s in spans] == [
        json.dumps(s, separators=(",", ":"), ensure_ascii=False) for s in spans
    ]
    _, body, _ = get(app, "/api/logs?level=error")
    assert [FlextLogEntry.model_validate(e).message for e in json.loads(body)] == [
        "checkout failed"
    ]
    _, body, _ = get(app, "/api/alerts")
    assert [FlextAlert.model_validate(a).status.value for a in json.loads(body)] == [
        "active",
        "active",
        "resolved",
    ]
    _, body, _ = get(app, "/api/health")
    assert [(c["name"], c["status"]) for c in json.loads(body)] == [("db", "healthy")]
    _, body, _ = get(app, "/api/metrics?name=shop.queue")
    assert len(json.loads(body)) == 3
    status, body, _ = get(app, "/api/nothing")
    assert (status, json.loads(body)) == (404, {"error": "no API at /api/nothing"})
    status, body, _ = get(app, "/api/logs?level=loud")
    assert status == 400
    assert "level: expected one of" in json.loads(body)["error"]


def test_version_changes_when_another_process_writes(tmp_path: Path) -> None:
    """/api/version moves when a writer adds spans, which is what the pages poll."""
    path = tmp_path / "live.db"
    with SQLiteStore(path) as writer:
        writer.write([span("b" * 32, 1, "first", 0, 1)])
        viewer = UiApp(path, allowed_hosts=frozenset(HOST.values()))
        try:
            before = json.loads(get(viewer, "/api/version")[1])
            writer.write([span("c" * 32, 2, "second", 0, 1)])
            after = json.loads(get(viewer, "/api/version")[1])
        finally:
            viewer.close()
    assert before["store"] == after["store"] == "ok"
    assert after["traces"] > before["traces"]
    assert after["logs"] == before["logs"]


def test_bad_filters_are_a_400_naming_the_parameter(app: UiApp) -> None:
    """Invalid values give a page naming the parameter, not a traceback."""
    for query, phrase in [
        ("status=bogus", "status: expected one of ok, error, unset"),
        ("min_ms=-1", "min_ms: expected a number &gt;= 0"),
        ("since=yesterday", "since: expected a duration like 15m"),
        ("before=zz", "before: expected a cursor"),
    ]:
        status, page, _ = get(app, f"/traces?{query}")
        assert status == 400
        assert phrase in page


def test_missing_store_page_then_store_appears(tmp_path: Path) -> None:
    """A missing store gives a 503 page that says so; once written, pages work."""
    path = tmp_path / "later.db"
    viewer = UiApp(path, allowed_hosts=frozenset(HOST.values()))
    try:
        status, page, _ = get(viewer, "/traces")
        assert status == 503
        assert "No store yet" in page
        assert json.loads(get(viewer, "/api/version")[1])["store"] == "missing"
        with SQLiteStore(path) as writer:
            writer.write([span("d" * 32, 1, "now-here", 0, 1)])
        status, page, _ = get(viewer, "/traces")
        assert status == 200
        assert "now-here" in page
    finally:
        viewer.close()


def test_corrupt_store_page(tmp_path: Path) -> None:
    """A file that is not a store gives a clear 503 page."""
    path = tmp_path / "garbage.db"
    path.write_bytes(b"not sqlite at all" * 300)
    viewer = UiApp(path, allowed_hosts=frozenset(HOST.values()))
    try:
        status, page, _ = get(viewer, "/")
        assert status == 503
        assert "Cannot read the store" in page
        assert "corrupt or not a SQLite database" in page
    finally:
        viewer.close()


def test_locked_store_page(tmp_path: Path) -> None:
    """A store held under an exclusive lock gives the "Store busy" page, then recovers."""
    path = tmp_path / "locked.db"
    with SQLiteStore(path) as writer:
        writer.write([span("e" * 32, 1, "x", 0, 1)])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    viewer = UiApp(path, allowed_hosts=frozenset(HOST.values()), lock_timeout=0.2)
    try:
        status, page, _ = get(viewer, "/traces")
        assert status == 503
        assert "Store busy" in page
        holder.execute("COMMIT")
        holder.close()
        status, _, _ = get(viewer, "/traces")
        assert status == 200
    finally:
        viewer.close()


def test_token_login_cookie_and_bearer(known_store: tuple[Path, Known]) -> None:
    """With a token, pages ask for it; the login sets a cookie; the API takes a bearer token."""
    viewer = UiApp(known_store[0], token="s3cret")
    try:
        status, page, _ = get(viewer, "/traces")
        assert status == 401
        assert 'name="token"' in page
        assert get(viewer, "/api/version")[0] == 401
        bad = viewer.handle("POST", "/login", {}, b"token=nope&next=/traces")
        assert bad.status == 403
        for target in (b"//evil.example/", b"/%5Cevil.example/", b"https://evil.example/"):
            away = viewer.handle("POST", "/login", {}, b"token=s3cret&next=" + target)
            assert (away.status, away.headers["Location"]) == (303, "/")
        good = viewer.handle("POST", "/login", {}, b"token=s3cret&next=/logs%3Flevel%3Derror")
        assert good.status == 303
        assert good.headers["Location"] == "/logs?level=error"
        cookie = good.headers["Set-Cookie"].split(";")[0]
        assert "s3cret" not in cookie
        assert "HttpOnly" in good.headers["Set-Cookie"]
        assert "SameSite=Strict" in good.headers["Set-Cookie"]
        assert get(viewer, "/traces", cookie=cookie)[0] == 200
        assert get(viewer, "/api/version", authorization="Bearer s3cret")[0] == 200
        assert get(viewer, "/api/version", authorization="Bearer s3cre")[0] == 401
    finally:
        viewer.close()


def test_foreign_host_header_is_refused(app: UiApp) -> None:
    """A loopback viewer answers only to its own Host names (DNS rebinding defence)."""
    response = app.handle("GET", "/", {"host": "evil.example:8787"})
    assert response.status == 421
    assert app.handle("GET", "/", {"host": "localhost:8787"}).status in {200, 421}


def test_static_files_and_unknown_paths(app: UiApp) -> None:
    """The CSS/JS/icon are served with their types; other paths are 404s."""
    response = app.handle("GET", "/static/app.js", HOST)
    assert (response.status, response.content_type) == (200, "text/javascript; charset=utf-8")
    assert b"X-Flext-Fragment" in response.body
    assert app.handle("GET", "/static/app.css", HOST).status == 200
    assert app.handle("GET", "/static/../_app.py", HOST).status == 404
    assert app.handle("GET", "/nowhere", HOST).status == 404
    assert app.handle("POST", "/traces", HOST).status == 405


def test_cli_ui_refuses_a_public_host_without_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ui --host 0.0.0.0` without a token exits 2 naming both ways to give one."""
    code = main(["--store", str(tmp_path / "x.db"), "ui", "--host", "0.0.0.0", "--no-browser"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--token" in err
    assert "FLEXT_OBSERVABILITY_UI_TOKEN" in err


def test_importing_the_package_does_not_import_the_viewer() -> None:
    """`import flext_observability` (and the CLI module) leave the ui modules unloaded."""
    code = (
        "import sys, flext_observability, flext_observability.cli\n"
        "print(sorted(m for m in sys.modules if 'cli.ui' in m))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_hostile_stored_strings_are_text(tmp_path: Path) -> None:
    """A span named like markup shows as those characters on the list and the trace page."""
    name = "<img src=x onerror=alert(1)>"
    path = tmp_path / "hostile.db"
    with SQLiteStore(path) as writer:
        writer.write([span("f" * 32, 1, name, 0, 1, service='"><script>x</script>', at=T0)])
    viewer = UiApp(path, allowed_hosts=frozenset(HOST.values()))
    try:
        for target in ("/traces", "/traces/" + "f" * 32, "/"):
            _, page, _ = get(viewer, target)
            assert "<img" not in page
            assert "&lt;img src=x onerror=alert(1)&gt;" in page
            assert "<script>x" not in page
    finally:
        viewer.close()


def test_ui_accepts_store_after_the_command(tmp_path: Path) -> None:
    """`ui --store PATH` works like the global `--store PATH ui`; defaults are loopback:8787."""
    from flext_observability.cli import build_parser  # noqa: PLC0415 - one test

    args = build_parser().parse_args(["ui", "--store", str(tmp_path / "s.db")])
    assert (args.store, args.host, args.port, args.no_browser, args.token) == (
        tmp_path / "s.db",
        "127.0.0.1",
        8787,
        False,
        None,
    )
    assert build_parser().parse_args(["ui"]).store is None


def test_loopback_detection() -> None:
    """Loopback names and addresses need no token; anything else does."""
    from flext_observability.cli.ui._server import is_loopback  # noqa: PLC0415 - one test

    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2")] == [
        True,
        True,
        True,
        True,
        True,
    ]
    assert [is_loopback(h) for h in ("0.0.0.0", "192.168.1.2", "example.com", "::")] == [
        False,
        False,
        False,
        False,
    ]


def test_run_ui_usage_and_bind_errors(tmp_path: Path) -> None:
    """A port out of range is a usage error (2); a port in use is a runtime error (1)."""
    import io  # noqa: PLC0415 - one test
    import socket  # noqa: PLC0415

    from flext_observability.cli.ui import run_ui  # noqa: PLC0415

    out, err = io.StringIO(), io.StringIO()
    assert run_ui(tmp_path / "s.db", port=70000, open_browser=False, out=out, err=err) == 2
    assert "--port must be 0..65535" in err.getvalue()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_ui(tmp_path / "s.db", port=port, open_browser=False, out=out, err=err) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in err.getvalue()
    assert out.getvalue() == ""
