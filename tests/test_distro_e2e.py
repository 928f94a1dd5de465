"""`opentelemetry-instrument python examples/flask_app.py`: the distro end to end, zero code change.

Every test runs the example shop in a subprocess under the venv's `opentelemetry-instrument`,
with its own store and port, and looks at what really arrived: the embedded store, a real rotel
OTLP receiver, a real Prometheus server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from _receivers import Rotel, free_port, wait_for_port
from _shop import Shop, http_get
from flext_observability import cli
from flext_observability.models import FlextLogEntry, FlextMetric, FlextTrace
from flext_observability.sinks.store import SQLiteStore

pytestmark = pytest.mark.slow

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def _read(store_path: Path) -> tuple[list[FlextTrace], list[FlextLogEntry], list[FlextMetric]]:
    store = SQLiteStore.open_readonly(store_path)
    try:
        spans = [s for s in store.query("traces") if isinstance(s, FlextTrace)]
        logs = [e for e in store.query("logs") if isinstance(e, FlextLogEntry)]
        points = [m for m in store.query("metrics") if isinstance(m, FlextMetric)]
    finally:
        store.close()
    return spans, logs, points


def _shape(spans: list[FlextTrace], trace_id: str) -> list[tuple[str, str, str | None, str]]:
    """(name, kind, parent's name, status) of one trace's spans, by start time."""
    mine = sorted((s for s in spans if s.trace_id == trace_id), key=lambda s: s.start_time)
    names = {s.span_id: s.operation_name for s in mine}
    return [
        (s.operation_name, s.kind.value, names.get(s.parent_span_id or ""), s.status.value)
        for s in mine
    ]


def _root(spans: list[FlextTrace], name: str) -> FlextTrace:
    roots = [s for s in spans if s.operation_name == name and s.is_root]
    assert len(roots) == 1, [(s.operation_name, s.parent_span_id) for s in spans]
    return roots[0]


def test_spans_logs_and_metrics_reach_the_store_linked_across_the_http_call(
    tmp_path: Path,
) -> None:
    """One trace spans server, requests client and downstream server; logs carry its id."""
    with Shop(tmp_path) as shop:
        assert [shop.get("/order"), shop.get("/checkout?fail=1"), shop.get("/checkout")] == [
            200,
            500,
            200,
        ]
    assert shop.returncode == 0
    assert (
        f"flext-observability: service 'flext-shop': entities in {shop.store} "
        "(look: flext-observability summary)"
    ) in shop.stderr
    spans, logs, points = _read(shop.store)
    assert {s.service_name for s in spans} == {"flext-shop"}
    assert {e.service_name for e in logs} == {"flext-shop"}
    assert {m.service_name for m in points} == {"flext-shop"}

    order = _root(spans, "GET /order")
    assert _shape(spans, order.trace_id) == [
        ("GET /order", "server", None, "unset"),
        ("GET", "client", "GET /order", "unset"),
        ("GET /products", "server", "GET", "unset"),
    ]
    failed = next(
        s for s in spans if s.operation_name == "GET /checkout" and s.status.value == "error"
    )
    assert _shape(spans, failed.trace_id) == [
        ("GET /checkout", "server", None, "error"),
        ("checkout", "internal", "GET /checkout", "error"),
    ]
    # Exactly one entry per record: the logging instrumentation's own handler stays off.
    app_logs = sorted(
        (e.message, e.level.value, e.trace_id) for e in logs if e.logger_name == "app.shop"
    )
    ok = next(s for s in spans if s.operation_name == "GET /checkout" and not s.is_error)
    assert [entry for entry in app_logs if entry[2] is not None] == sorted(
        [
            ("checkout failed", "error", failed.trace_id),
            ("checkout ok: receipt-1650", "info", ok.trace_id),
            ("listing 3 products", "info", order.trace_id),
            ("order placed with 3 items", "info", order.trace_id),
        ]
    )
    calls = {
        (m.tags["outcome"], m.value)
        for m in points
        if m.name == "flext.function.calls" and m.tags["code.function.name"] == "__main__.charge"
    }
    assert calls == {("success", 1), ("error", 1)}


@pytest.fixture
def rotel(tmp_path: Path) -> Iterator[Rotel]:
    """A real rotel OTLP receiver on loopback."""
    receiver = Rotel(tmp_path)
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_otlp_endpoint_ships_every_signal_to_a_real_receiver(
    tmp_path: Path, rotel: Rotel, protocol: str
) -> None:
    """Spans, metrics and logs reach rotel with our resource; log records carry the trace id.

    The shop stops right after the request, so its last log records are still queued in the
    entity pipeline at exit: they must still reach the exporters (`BridgeDrainProcessor`).
    """
    endpoint = rotel.grpc_endpoint if protocol == "grpc" else rotel.http_endpoint
    otlp = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
    with Shop(tmp_path, otlp) as shop:
        assert shop.get("/order") == 200
    assert shop.returncode == 0
    assert "flext-observability: service 'flext-shop': OTLP to http://127.0.0.1:" in shop.stderr
    spans, _logs, _points = _read(shop.store)
    order = _root(spans, "GET /order")
    output = rotel.wait_for(
        "ResourceSpans #",
        "ResourceMetrics #",
        "ResourceLog #",
        "Name           : GET /order",
        "Body: Str(order placed with 3 items)",
        f"Trace ID       : {order.trace_id}",
    )
    resources = {
        line.strip() for line in output.splitlines() if line.strip().startswith("-> service.name")
    }
    assert resources == {"-> service.name: Str(flext-shop)"}
    # The log record with the order's body carries the order's trace id.
    record = output[output.index("Body: Str(order placed with 3 items)") :]
    assert record.split("Trace ID       : ", 1)[1].startswith(order.trace_id)


def _prometheus_query(port: int, query: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    status, body = http_get(url)
    assert status == 200, body
    payload = json.loads(body)
    assert payload["status"] == "success"
    return list(payload["data"]["result"])


def _wait_until_ready(port: int, timeout: float = 60.0) -> None:
    """Prometheus listens before its TSDB is open and answers 503 until then: wait for /-/ready."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if http_get(f"http://127.0.0.1:{port}/-/ready", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            msg = f"prometheus on 127.0.0.1:{port} was not ready after {timeout}s"
            raise AssertionError(msg)
        time.sleep(0.1)


def _wait_for_series(port: int, query: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        result = _prometheus_query(port, query)
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus is not installed")
def test_a_real_prometheus_server_scrapes_the_app(tmp_path: Path) -> None:
    """With OTEL_METRICS_EXPORTER=prometheus, Prometheus scrapes our Flask and function metrics."""
    exporter_port = free_port()
    prometheus_env = {
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
        "OTEL_EXPORTER_PROMETHEUS_PORT": str(exporter_port),
    }
    with Shop(tmp_path, prometheus_env) as shop:
        assert f"Prometheus metrics on http://127.0.0.1:{exporter_port}/metrics" in shop.stderr
        assert [shop.get("/checkout"), shop.get("/checkout?fail=1"), shop.get("/order")] == [
            200,
            500,
            200,
        ]
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: flext-shop\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{exporter_port}']\n"
        )
        web_port = free_port()
        with (tmp_path / "prometheus.log").open("wb") as log:
            prometheus = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{web_port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
            try:
                wait_for_port(web_port, timeout=30)
                _wait_until_ready(web_port)
                calls = _wait_for_series(web_port, 'flext_function_calls_total{job="flext-shop"}')
                durations = _wait_for_series(
                    web_port, 'http_server_request_duration_seconds_count{job="flext-shop"}'
                )
                target = _wait_for_series(web_port, "target_info")
            finally:
                prometheus.terminate()
                prometheus.wait(30)
    assert shop.returncode == 0
    assert sorted(
        (r["metric"]["code_function_name"], r["metric"]["outcome"], r["value"][1]) for r in calls
    ) == [("__main__.charge", "error", "1"), ("__main__.charge", "success", "1")]
    # Stable HTTP conventions by default: seconds, and the route template as `http_route`.
    assert {r["metric"]["http_route"] for r in durations} >= {"/checkout", "/order", "/products"}
    assert [r["metric"]["service_name"] for r in target] == ["flext-shop"]


BAD_VALUES = [
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "abc"),
    ("OTEL_TRACES_SAMPLER", "bogus"),
    ("OTEL_METRIC_EXPORT_INTERVAL", "-5"),
    ("FLEXT_OBSERVABILITY_SAMPLING_RATIO", "7"),
    ("OTEL_TRACES_EXPORTER", "nonexistent"),
    ("FLEXT_OBSERVABILITY_STORE_MAX_MB", "zero"),
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES)
def test_one_bad_variable_warns_once_and_telemetry_keeps_working(
    tmp_path: Path, variable: str, value: str
) -> None:
    """A bad value: one stderr warning naming the variable; spans still reach the store."""
    with Shop(tmp_path, {variable: value}) as shop:
        assert shop.get("/products") == 200
    assert shop.returncode == 0
    warnings = [line for line in shop.stderr.splitlines() if variable in line]
    assert len(warnings) == 1, shop.stderr
    assert repr(value) in warnings[0]
    spans, _logs, _points = _read(shop.store)
    assert {(s.operation_name, s.service_name) for s in spans} == {
        ("GET /", "flext-shop"),
        ("GET /products", "flext-shop"),
    }


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "abc",
            (
                "invalid configuration (strict mode):\n"
                "  - OTEL_EXPORTER_OTLP_TIMEOUT='abc' is invalid: "
                "expected a positive integer (milliseconds, at most 2147483647)"
            ),
        ),
        (
            "OTEL_TRACES_EXPORTER",
            "nonexistent",
            (
                "invalid configuration (strict mode):\n"
                "  - OTEL_TRACES_EXPORTER='nonexistent' is invalid: expected 'none' or a "
                "comma-separated list of exporter names (otlp, console, zipkin, or an installed "
                "entry point) (not installed: 'nonexistent': no entry point in group "
                "'opentelemetry_traces_exporter')"
            ),
        ),
    ],
)
def test_strict_mode_refuses_to_start_with_status_2(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    """FLEXT_OBSERVABILITY_STRICT=true and a bad value: exit 2 with a clear message, no serving."""
    shop = Shop(tmp_path, {"FLEXT_OBSERVABILITY_STRICT": "true", variable: value})
    assert shop.wait_exit() == 2
    stderr = shop.stderr
    assert f"flext-observability: configuration error: {message}" in stderr
    assert "not starting the application (strict mode); exit status 2" in stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "shop.out").read_text() == ""  # the app never ran
    assert not shop.store.exists() or _read(shop.store)[0] == []


def test_pinned_distro_wins_over_opentelemetry_distro(tmp_path: Path) -> None:
    """With opentelemetry-distro installed too, pinning ours routes telemetry to our store."""
    with Shop(tmp_path) as shop:
        assert shop.get("/") == 200
    assert shop.returncode == 0
    assert "Configuration of configurator not loaded" in shop.stderr  # the other one, skipped
    spans, _logs, _points = _read(shop.store)
    assert {(s.operation_name, s.service_name) for s in spans} == {("GET /", "flext-shop")}


def test_doctor_warns_when_another_distro_would_be_picked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unpinned, `doctor` names both distros and says how to pin ours; pinned, it is quiet."""
    out = StringIO()
    assert cli.main(["--store", "/nonexistent/telemetry.db", "doctor"], out=out) == 0
    text = out.getvalue()
    assert "distros installed: " in text
    assert {"distro", "flext_observability"} <= set(
        text.split("distros installed: ", 1)[1].split("\n", 1)[0].split(", ")
    )
    assert (
        "warning: another distro or configurator may be picked; pin ours with "
        "OTEL_PYTHON_DISTRO=flext_observability OTEL_PYTHON_CONFIGURATOR=flext_observability"
    ) in text
    monkeypatch.setenv("OTEL_PYTHON_DISTRO", "flext_observability")
    monkeypatch.setenv("OTEL_PYTHON_CONFIGURATOR", "flext_observability")
    pinned = StringIO()
    assert cli.main(["--store", "/nonexistent/telemetry.db", "doctor"], out=pinned) == 0
    assert "opentelemetry-instrument would load distro: flext_observability" in pinned.getvalue()
    assert "warning: another distro" not in pinned.getvalue()
