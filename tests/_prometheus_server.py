"""A real Prometheus (Debian package) started by a test on 127.0.0.1 with a temporary config."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _receivers import free_port, wait_for_port
from _shop import http_get

__all__ = ["PROMETHEUS", "prometheus_api", "running_prometheus"]

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def prometheus_api(port: int, path: str, **params: str) -> Any:
    """GET an API path; return its `data` (asserting success)."""
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    status, body = http_get(f"http://127.0.0.1:{port}{path}{query}")
    assert status == 200, body
    payload = json.loads(body)
    assert payload["status"] == "success", payload
    return payload["data"]


@contextmanager
def running_prometheus(
    workdir: Path,
    targets: Sequence[str],
    *,
    rule_files: Sequence[Path] = (),
) -> Iterator[int]:
    """Run Prometheus scraping `targets` and evaluating `rule_files` each second; yield its port."""
    config = workdir / "prometheus.yml"
    lines = [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: app",
        "    static_configs:",
        f"      - targets: {json.dumps(list(targets))}",
    ]
    if rule_files:
        lines += ["rule_files:", *(f"  - {json.dumps(str(path))}" for path in rule_files)]
    config.write_text("\n".join(lines) + "\n")
    port = free_port()
    with (workdir / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
        try:
            wait_for_port(port, timeout=30)
            deadline = time.monotonic() + 60
            while True:  # listening before the TSDB is open: 503 until /-/ready says 200
                try:
                    if http_get(f"http://127.0.0.1:{port}/-/ready", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "prometheus was not ready after 60 s"
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(30)
