"""The viewer in a real browser: Debian's headless Chromium via Selenium and chromedriver.

A store made by a real app run (the example shop under auto-instrumentation), served by the
real `flext-observability ui` command: every page loads without a console error, the waterfall
shows the known nesting and order, filters narrow the list, a span written after the page opened
appears without a reload, a span named like markup renders as text, and Ctrl-C stops the server.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from _shop import BIN, Shop, clean_env
from flext_observability.models import FlextTrace
from flext_observability.sinks import SQLiteStore

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FIRST_LINE = re.compile(r"flext-observability ui: http://127\.0\.0\.1:(\d+)/")
HOSTILE = "<img src=x onerror=alert(1)>"


def wait_for(check: Callable[[], object], timeout: float = 15.0, what: str = "") -> object:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    msg = f"timed out waiting for {what or check}"
    raise AssertionError(msg)


@pytest.fixture(scope="module")
def shop_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store written by the example shop serving orders, products and a failing checkout."""
    workdir = tmp_path_factory.mktemp("ui-shop")
    with Shop(workdir) as shop:
        for path in ("/order", "/products", "/checkout", "/checkout?fail=1", "/"):
            shop.get(path)
    return shop.store


@pytest.fixture(scope="module")
def viewer(shop_store: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`flext-observability ui --port 0` over the shop's store; yields (base URL, process)."""
    process = subprocess.Popen(
        [
            str(BIN / "flext-observability"),
            "--store",
            str(shop_store),
            "ui",
            "--port",
            "0",
            "--no-browser",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    assert process.stdout is not None
    first = process.stdout.readline().rstrip("\n")
    match = FIRST_LINE.fullmatch(first)
    assert match, first
    yield f"http://127.0.0.1:{match.group(1)}", process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with console logging on."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(
            "chromium and chromium-driver are required (apt-get install them; .ci/run does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def open_page(browser: webdriver.Chrome, url: str) -> None:
    """Load `url` and wait until the script has polled once (the live status says so)."""
    browser.get(url)
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    wait_for(
        lambda: (
            browser.find_element(By.ID, "live-status").text != "live"
            or "on" in (browser.find_element(By.ID, "live-status").get_attribute("class") or "")
        ),
        what="the first poll",
    )


def find_trace(store: Path, root: str) -> str:
    """The trace id of the newest root span named `root`."""
    reader = SQLiteStore.open_readonly(store)
    try:
        for span in reader.query("traces", name=root, order="desc"):
            assert isinstance(span, FlextTrace)
            if span.is_root:
                return span.trace_id
    finally:
        reader.close()
    msg = f"no root span {root!r}"
    raise AssertionError(msg)


def severe(browser: webdriver.Chrome) -> list[dict[str, object]]:
    """Console messages at error level since the last call."""
    entries: list[dict[str, object]] = browser.get_log("browser")  # type: ignore[no-untyped-call]
    return [entry for entry in entries if entry["level"] == "SEVERE"]


def _depth(css: str | None) -> int:
    """The depth class (`d2`) of a waterfall label."""
    match = re.search(r"\bd(\d+)\b", css or "")
    assert match is not None, css
    return int(match.group(1))


def test_every_page_loads_without_console_errors(
    viewer: tuple[str, subprocess.Popen[str]], browser: webdriver.Chrome, shop_store: Path
) -> None:
    """Each page (and a trace) renders, polls, and logs nothing at error level."""
    base, _ = viewer
    trace = find_trace(shop_store, "GET /order")
    severe(browser)
    for path in ("/", "/traces", f"/traces/{trace}", "/logs", "/metrics", "/alerts", "/health"):
        open_page(browser, base + path)
        assert browser.find_element(By.CSS_SELECTOR, "h1.page-title").text
        assert severe(browser) == [], path


def test_waterfall_nesting_order_and_selection(
    viewer: tuple[str, subprocess.Popen[str]], browser: webdriver.Chrome, shop_store: Path
) -> None:
    """/order's trace: server span, its requests client span, the downstream server span."""
    base, _ = viewer
    open_page(browser, f"{base}/traces/{find_trace(shop_store, 'GET /order')}")
    rows = browser.find_elements(By.CSS_SELECTOR, ".waterfall .wf-row")
    shown = [
        (
            row.find_element(By.CSS_SELECTOR, ".op").text,
            row.find_element(By.CSS_SELECTOR, ".kind").text.lower(),
            _depth(row.find_element(By.CSS_SELECTOR, ".wf-label").get_attribute("class")),
        )
        for row in rows
    ]
    assert shown == [
        ("GET /order", "server", 0),
        ("GET", "client", 1),
        ("GET /products", "server", 2),
    ]
    rows[2].click()
    detail = wait_for(
        lambda: [
            d for d in browser.find_elements(By.CSS_SELECTOR, "section.detail") if d.is_displayed()
        ]
    )
    assert isinstance(detail, list)
    assert [d.find_element(By.TAG_NAME, "h3").text for d in detail] == ["GET /products"]
    assert browser.current_url.endswith(f"#span-{rows[2].get_attribute('data-span')}")


def test_failing_checkout_shows_its_exception_and_logs(
    viewer: tuple[str, subprocess.Popen[str]], browser: webdriver.Chrome, shop_store: Path
) -> None:
    """The failing checkout opens on its exception, with the stack and the error log."""
    base, _ = viewer
    reader = SQLiteStore.open_readonly(shop_store)
    try:
        spans = reader.query("traces", name="checkout", errors_only=True, limit=1)
    finally:
        reader.close()
    assert isinstance(spans[0], FlextTrace)
    open_page(browser, f"{base}/traces/{spans[0].trace_id}")
    visible = [
        d for d in browser.find_elements(By.CSS_SELECTOR, "section.detail") if d.is_displayed()
    ]
    assert len(visible) == 1
    text = visible[0].text
    assert "PaymentDeclinedError" in text
    assert "Traceback (most recent call last)" in text
    assert "checkout failed" in browser.find_element(By.ID, "trace-logs").text


def test_filters_narrow_the_list(
    viewer: tuple[str, subprocess.Popen[str]], browser: webdriver.Chrome
) -> None:
    """Choosing status=error submits the form and leaves only failing traces."""
    base, _ = viewer
    open_page(browser, base + "/traces")
    everything = len(browser.find_elements(By.CSS_SELECTOR, "tr.trace-row"))
    Select(browser.find_element(By.NAME, "status")).select_by_value("error")
    wait_for(lambda: "status=error" in browser.current_url, what="the filter submit")
    wait_for(lambda: browser.execute_script("return document.readyState") == "complete")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.trace-row")
    assert 0 < len(rows) < everything
    assert all("GET /checkout" in row.text for row in rows)
    browser.find_element(By.NAME, "q").send_keys("no-such-thing-anywhere\n")
    wait_for(lambda: "No trace matches" in browser.page_source, what="the empty result")


def test_new_span_appears_without_reload_and_markup_is_text(
    viewer: tuple[str, subprocess.Popen[str]], browser: webdriver.Chrome, shop_store: Path
) -> None:
    """A span written by another process shows up live; its markup-like name shows as text."""
    base, _ = viewer
    open_page(browser, base + "/traces")
    browser.execute_script("window.__notReloaded = true;")
    trace_id = uuid.uuid4().hex
    with SQLiteStore(shop_store) as writer:
        writer.write(
            [
                FlextTrace(
                    trace_id=trace_id,
                    operation_name=HOSTILE,
                    service_name="live",
                    start_time=datetime.now(UTC),
                    duration_ms=3.0,
                )
            ]
        )
    link = wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, f'a.op[href="/traces/{trace_id}"]'),
        what="the new span",
    )
    assert isinstance(link, list)
    assert link[0].text == HOSTILE
    assert browser.execute_script("return window.__notReloaded === true")
    assert browser.find_elements(By.TAG_NAME, "img") == []
    open_page(browser, f"{base}/traces/{trace_id}")
    assert browser.find_element(By.CSS_SELECTOR, ".wf-row .op").text == HOSTILE
    assert browser.find_elements(By.TAG_NAME, "img") == []
    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text
    assert severe(browser) == []


def test_ctrl_c_stops_cleanly(viewer: tuple[str, subprocess.Popen[str]]) -> None:
    """SIGINT (Ctrl-C) ends the server with status 0 and a last line, no traceback."""
    _, process = viewer
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    assert out.strip().splitlines()[-1] == "flext-observability ui: stopped"
    assert "Traceback" not in err
