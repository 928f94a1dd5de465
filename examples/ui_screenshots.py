"""Screenshots of every page of `flext-observability ui` (`make ui-screenshots`).

```sh
python examples/ui_screenshots.py [--store PATH] [--out docs/screenshots]
```

Without `--store`, runs the demo (`examples/demo.py`) into a fresh store first. Serves the store
with the viewer on a free loopback port, opens each page in Debian's headless Chromium through
Selenium and `/usr/bin/chromedriver` (`pip install -e ".[dev]"` installs Selenium; nothing is
downloaded), and writes one PNG per page: `overview.png`, `traces.png`, `trace.png` (the failing
checkout's waterfall with its exception selected), `logs.png`, `metrics.png`, `alerts.png`,
`health.png`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from flext_observability.cli.ui._app import UiApp
from flext_observability.cli.ui._server import loopback_hosts, make_server
from flext_observability.models import FlextTrace
from flext_observability.sinks import SQLiteStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium(profile: str, width: int = 1440, height: int = 1000) -> webdriver.Chrome:
    """Headless Chromium (the Debian package) driven by its chromedriver."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


def failing_checkout_trace(store: Path) -> str:
    """The trace id of the newest failing checkout in the store."""
    reader = SQLiteStore.open_readonly(store)
    try:
        for span in reader.query("traces", errors_only=True, order="desc", limit=200):
            if isinstance(span, FlextTrace) and span.operation_name == "checkout":
                return span.trace_id
        msg = f"no failing checkout span in {store}"
        raise SystemExit(msg)
    finally:
        reader.close()


def capture(driver: webdriver.Chrome, url: str, path: Path, width: int = 1440) -> None:
    """Load `url`, fit the window to the page (at most 2400 px tall) and save a PNG."""
    driver.set_window_size(width, 1000)
    driver.get(url)
    time.sleep(0.6)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(width, min(max(height, 700), 2400))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Make (or reuse) a demo store, serve it and capture each page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="an existing store (default: run the demo)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="flext-shots-") as tmp:
        store = args.store
        if store is None:
            store = Path(tmp) / "demo.db"
            subprocess.run(
                [sys.executable, str(HERE / "demo.py"), "--store", str(store)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        server = make_server(
            "127.0.0.1", 0, lambda port: UiApp(store, allowed_hosts=loopback_hosts(port))
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        driver = chromium(str(Path(tmp) / "profile"))
        try:
            trace_id = failing_checkout_trace(store)
            pages = {
                "overview": "/",
                "traces": "/traces",
                "trace": f"/traces/{trace_id}",
                "logs": "/logs",
                "metrics": "/metrics",
                "alerts": "/alerts",
                "health": "/health",
            }
            for name, path in pages.items():
                capture(driver, base + path, args.out / f"{name}.png")
        finally:
            driver.quit()
            server.shutdown()
            server.server_close()
            server.app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
