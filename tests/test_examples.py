"""The examples run: `quickstart.py` prints what it recorded; `demo.py` works end to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from _shop import EXAMPLES, clean_env, http_get

_TRACE_ID = re.compile(r"\b[0-9a-f]{32}\b")
_DURATION = re.compile(r"\b\d+\.\d+ms\b")


def _run(
    args: list[str], cwd: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=clean_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_quickstart_prints_what_it_recorded_and_leaves_nothing_behind(tmp_path: Path) -> None:
    """Simple API, emit, decorator, OTel span and stdlib log all come back from the store."""
    completed = _run([str(EXAMPLES / "quickstart.py")], cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    trace_ids = _TRACE_ID.findall(completed.stdout)
    normalised = _DURATION.sub("<ms>", _TRACE_ID.sub("<trace>", completed.stdout))
    normalised = re.sub(r"metrics=\d+", "metrics=<n>", normalised)
    assert normalised == (
        "stored: traces=3, metrics=<n>, logs=2, alerts=1, health=1\n"
        "trace <trace>  service=quickstart\n"
        "  └─ nightly-report [internal] <ms>\n"
        "trace <trace>  service=quickstart\n"
        "  └─ handle-order [internal] <ms>\n"
        "    └─ price-basket [internal] <ms>\n"
        "metric orders_total (counter) = 3.0 {'region': 'eu'}\n"
        "log warning: disk almost full  trace=-\n"
        "log info: order 42 priced at 19.80  trace=<trace>\n"
        "alert disk-full [warning, active]\n"
        "health database: healthy (ping 3 ms)\n"
    )
    # The stdlib log written inside the span carries that span's trace id.
    assert trace_ids[1] == trace_ids[2]
    assert list(tmp_path.iterdir()) == []


def test_quickstart_honours_the_store_path_setting(tmp_path: Path) -> None:
    """With FLEXT_OBSERVABILITY_STORE_PATH set, the store is written there and kept."""
    store = tmp_path / "kept" / "quick.db"
    completed = _run(
        [str(EXAMPLES / "quickstart.py")], cwd=tmp_path, FLEXT_OBSERVABILITY_STORE_PATH=str(store)
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("stored: traces=3, ")
    assert store.is_file()


def test_traffic_reports_a_shop_that_never_answers(tmp_path: Path) -> None:
    """`traffic.py` against a closed port: exit 2 and a one-line explanation."""
    from _receivers import free_port  # noqa: PLC0415 - helper only this test needs

    url = f"http://127.0.0.1:{free_port()}"
    completed = _run(
        [str(EXAMPLES / "traffic.py"), "--base-url", url, "--ready-timeout", "0.5"], cwd=tmp_path
    )
    assert completed.returncode == 2
    assert completed.stdout == f"traffic: {url} did not become ready in 0.5s\n"


@pytest.mark.slow
def test_demo_runs_end_to_end_and_prints_the_summary(tmp_path: Path) -> None:
    """`demo.py`: the shop under opentelemetry-instrument, traffic, clean stop, full summary."""
    store = tmp_path / "demo" / "telemetry.db"
    completed = _run(
        [str(EXAMPLES / "demo.py"), "--store", str(store), "--count", "48"],
        cwd=tmp_path,
        timeout=180,
    )
    out = completed.stdout
    assert completed.returncode == 0, out + completed.stderr
    assert re.search(
        r"^traffic: 48 requests to http://127\.0\.0\.1:\d+ in [\d.]+s, 0 unexpected",
        out,
        re.MULTILINE,
    )
    assert f"entities in {store}" in out  # the shop's startup line, relayed by the demo
    sections = re.split(r"^-- (.+) --$", out, flags=re.MULTILINE)
    body = dict(zip(sections[1::2], sections[2::2], strict=True))
    assert list(body) == ["recent traces", "error spans", "metrics", "logs", "alerts", "health"]
    # span trees: the /order trace crosses the HTTP call
    assert re.search(
        r"^  └─ GET /order \[server\] [\d.]+m?s\n    └─ GET \[client\] [\d.]+m?s\n"
        r"      └─ GET /products \[server\] [\d.]+m?s$",
        body["recent traces"],
        re.MULTILINE,
    )
    assert re.search(
        r"^\d\d:\d\d:\d\d\.\d{3} checkout: PaymentDeclinedError: card declined for 16\.50  "
        r"trace=[0-9a-f]{32}$",
        body["error spans"],
        re.MULTILINE,
    )
    assert re.search(
        r"^flext\.function\.calls \(counter\) 6 \{call\}  \{code\.function\.name=__main__\.charge,"
        r"error\.type=__main__\.PaymentDeclinedError,outcome=error\}$",
        body["metrics"],
        re.MULTILINE,
    )
    # Stable HTTP semantic conventions by default (seconds, `http.server.request.duration`).
    assert re.search(
        r"^http\.server\.request\.duration \(histogram\) count=", body["metrics"], re.MULTILINE
    )
    assert re.search(
        r"^flext\.span\.duration \(histogram\) count=\d+ sum=\S+ s  "
        r"\{span\.kind=server,span\.name=GET /checkout,status=error\}$",
        body["metrics"],
        re.MULTILINE,
    )
    assert re.search(
        r"^\S+ INFO     app\.shop: order placed with 3 items  trace=[0-9a-f]{32}$",
        body["logs"],
        re.MULTILINE,
    )
    # The demo's rules (examples/demo_rules.toml) fire on the failing checkouts, then resolve.
    assert "checkout-errors: error ratio" in body["alerts"]
    assert re.search(r"^\S+ active\s+error\s+checkout-errors", body["alerts"], re.MULTILINE)
    assert re.search(r"^\S+ resolved\s+error\s+checkout-errors", body["alerts"], re.MULTILINE)
    assert "demo: alert checkout-errors: active, resolved" in out
    assert re.search(r"^store\s+healthy", body["health"], re.MULTILINE)
    assert out.splitlines()[-1].endswith(f"flext-observability --store {store} ui")
    # the shop is gone: its port no longer answers
    port = int(re.search(r"starting flext-shop on 127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
    with pytest.raises(OSError):
        http_get(f"http://127.0.0.1:{port}/", timeout=1)
