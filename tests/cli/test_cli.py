"""The `flext-observability` command line against a store filled by the test."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest

from _shop import BIN, clean_env
from flext_observability import cli
from flext_observability.health import HealthRegistry, ProbeServer
from flext_observability.models import (
    AlertSeverity,
    AlertStatus,
    Entity,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    HistogramData,
    LogLevel,
    MetricType,
    TraceKind,
    TraceStatus,
)
from flext_observability.sinks.store import SQLiteStore

TRACE_A = "a" * 31 + "1"
TRACE_B = "b" * 31 + "2"
MODELS: dict[str, type[Entity]] = {
    "traces": FlextTrace,
    "logs": FlextLogEntry,
    "metrics": FlextMetric,
    "alerts": FlextAlert,
    "health": FlextHealthCheck,
}


@dataclass(frozen=True)
class Filled:
    """A store written by the test and the entities in it, by kind."""

    path: Path
    entities: dict[str, list[Entity]]


def _span(
    trace_id: str,
    span_id: str,
    name: str,
    start: datetime,
    ms: float,
    *,
    parent: str | None = None,
    kind: TraceKind = TraceKind.INTERNAL,
    service: str = "shop",
    error: str = "",
) -> FlextTrace:
    return FlextTrace(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        operation_name=name,
        service_name=service,
        kind=kind,
        start_time=start,
        end_time=start + timedelta(milliseconds=ms),
        status=TraceStatus.ERROR if error else TraceStatus.OK,
        status_message=error,
        timestamp=start,
    )


@pytest.fixture
def filled(tmp_path: Path) -> Filled:
    """A store with two traces (one 3 h old), logs, metrics, alerts and health results."""
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(minutes=1)
    old = now - timedelta(hours=3)
    traces: list[Entity] = [
        _span(TRACE_A, "a" * 15 + "1", "GET /orders", t0, 120, kind=TraceKind.SERVER),
        _span(
            TRACE_A,
            "a" * 15 + "2",
            "db.query",
            t0 + timedelta(milliseconds=5),
            30,
            parent="a" * 15 + "1",
            kind=TraceKind.CLIENT,
        ),
        _span(
            TRACE_A,
            "a" * 15 + "3",
            "charge",
            t0 + timedelta(milliseconds=40),
            50,
            parent="a" * 15 + "1",
            error="card declined",
        ),
        _span(TRACE_B, "b" * 15 + "1", "nightly", old, 2000, service="billing"),
    ]
    logs: list[Entity] = [
        FlextLogEntry(
            level=LogLevel.DEBUG, message="cache warm", timestamp=old, service_name="billing"
        ),
        FlextLogEntry(
            level=LogLevel.INFO,
            message="order placed",
            logger_name="app.shop",
            trace_id=TRACE_A,
            span_id="a" * 15 + "1",
            timestamp=t0 + timedelta(milliseconds=10),
            service_name="shop",
        ),
        FlextLogEntry(
            level=LogLevel.ERROR,
            message="payment failed",
            logger_name="app.shop",
            trace_id=TRACE_A,
            span_id="a" * 15 + "3",
            timestamp=t0 + timedelta(milliseconds=80),
            service_name="shop",
        ),
    ]
    metrics: list[Entity] = [
        FlextMetric(
            name="orders_total",
            value=3,
            unit="{order}",
            metric_type=MetricType.COUNTER,
            tags={"region": "eu"},
            timestamp=t0,
            service_name="shop",
        ),
        FlextMetric(
            name="latency",
            value=12.5,
            unit="ms",
            metric_type=MetricType.HISTOGRAM,
            histogram=HistogramData(
                count=2, sum=12.5, min=2.5, max=10.0, bounds=[5.0], bucket_counts=[1, 1]
            ),
            timestamp=t0,
            service_name="shop",
        ),
    ]
    alerts: list[Entity] = [
        FlextAlert(
            name="checkout-errors",
            message="error ratio 0.25 > 0.05",
            severity=AlertSeverity.ERROR,
            source="checkout-errors",
            timestamp=t0,
            service_name="shop",
        ),
        FlextAlert(
            name="disk-full",
            message="disk at 95%",
            severity=AlertSeverity.WARNING,
            status=AlertStatus.RESOLVED,
            resolved_at=t0,
            timestamp=t0,
            service_name="shop",
        ),
    ]
    health: list[Entity] = [
        FlextHealthCheck(
            name="database", status=HealthStatus.HEALTHY, timestamp=old, service_name="shop"
        ),
        FlextHealthCheck(
            name="database",
            status=HealthStatus.UNHEALTHY,
            message="connection refused",
            timestamp=t0,
            service_name="shop",
        ),
        FlextHealthCheck(name="cache", status=HealthStatus.DEGRADED, message="slow", timestamp=t0),
    ]
    entities = {"traces": traces, "logs": logs, "metrics": metrics, "alerts": alerts}
    entities["health"] = health
    path = tmp_path / "telemetry.db"
    store = SQLiteStore(path)
    try:
        store.write([entity for kind in entities.values() for entity in kind])
    finally:
        store.close()
    return Filled(path, entities)


def run(filled: Filled, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process against the filled store; return (status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    status = cli.main(["--store", str(filled.path), *args], out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def parsed(kind: str, text: str) -> list[Entity]:
    """Validate every output line back into the model of `kind`."""
    return [MODELS[kind].model_validate_json(line) for line in text.splitlines()]


def by_id(entities: Sequence[Entity]) -> list[Entity]:
    """Entities sorted by id, for order-free comparison."""
    return sorted(entities, key=lambda e: e.id)


@pytest.mark.parametrize("kind", ["traces", "logs", "metrics", "alerts"])
def test_json_lines_validate_back_into_exactly_the_stored_models(filled: Filled, kind: str) -> None:
    """`<kind> --json` prints each stored entity once, equal to what was written."""
    status, out, err = run(filled, kind, "--json")
    assert (status, err) == (0, "")
    assert by_id(parsed(kind, out)) == by_id(filled.entities[kind])


def test_health_json_is_the_latest_result_of_each_check(filled: Filled) -> None:
    """`health --json` prints the newest result per check name."""
    status, out, _err = run(filled, "health", "--json")
    assert status == 0
    assert by_id(parsed("health", out)) == by_id(filled.entities["health"][1:])


def test_summary_json_holds_every_entity_of_every_kind(filled: Filled) -> None:
    """`summary --json` lines each validate into one of the five models; all are there."""
    status, out, _err = run(filled, "summary", "--json")
    assert status == 0
    seen: list[Entity] = []
    for line in out.splitlines():
        kind = next(k for k, model in MODELS.items() if _validates(model, line))
        seen.append(MODELS[kind].model_validate_json(line))
    everything = [e for kind in filled.entities.values() for e in kind]
    assert by_id(seen) == by_id(everything)


def _validates(model: type[Entity], line: str) -> bool:
    try:
        model.model_validate_json(line)
    except ValueError:
        return False
    return True


def test_traces_render_as_indented_trees_with_durations(filled: Filled) -> None:
    """Human `traces`: one block per trace, children indented, durations and errors shown."""
    status, out, _err = run(filled, "traces")
    assert status == 0
    assert out == (
        f"trace {TRACE_A}  service=shop\n"
        "  └─ GET /orders [server] 120.0ms\n"
        "    └─ db.query [client] 30.0ms\n"
        "    └─ charge [internal] 50.0ms  ERROR (card declined)\n"
        "\n"
        f"trace {TRACE_B}  service=billing\n"
        "  └─ nightly [internal] 2.00s\n"
        "\n"
    )


def _names(out: str) -> list[str]:
    return [span.operation_name for span in parsed("traces", out) if isinstance(span, FlextTrace)]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--since", "1h"], ["charge", "db.query", "GET /orders"]),
        (["--since", "4h"], ["charge", "db.query", "GET /orders", "nightly"]),
        (["--service", "billing"], ["nightly"]),
        (["--trace-id", TRACE_B], ["nightly"]),
        (["--name", "charge"], ["charge"]),
        (["--name", "GET *"], ["GET /orders"]),
        (["--errors"], ["charge"]),
        (["--slowest"], ["nightly", "GET /orders", "charge", "db.query"]),
        (["--slowest", "--limit", "2"], ["nightly", "GET /orders"]),
        (["--service", "nobody"], []),
    ],
)
def test_trace_filters(filled: Filled, args: list[str], names: list[str]) -> None:
    """Each trace filter selects exactly the expected spans (--slowest: by duration, desc)."""
    status, out, _err = run(filled, "traces", "--json", *args)
    assert status == 0
    got = _names(out)
    assert (got if "--slowest" in args else sorted(got)) == (
        names if "--slowest" in args else sorted(names)
    )


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (["--level", "error"], ["payment failed"]),
        (["--level", "info"], ["order placed", "payment failed"]),
        (["--trace-id", TRACE_A], ["order placed", "payment failed"]),
        (["--since", "1h"], ["order placed", "payment failed"]),
        (["--service", "billing"], ["cache warm"]),
    ],
)
def test_log_filters(filled: Filled, args: list[str], messages: list[str]) -> None:
    """Each log filter selects exactly the expected entries, oldest first."""
    status, out, _err = run(filled, "logs", "--json", *args)
    assert status == 0
    assert [e.message for e in parsed("logs", out) if isinstance(e, FlextLogEntry)] == messages


def test_human_logs_metrics_alerts_and_health(filled: Filled) -> None:
    """The human tables show level, message, trace id, metric values, alert and check status."""
    logs = run(filled, "logs", "--level", "error")[1]
    assert logs.endswith(f"ERROR    app.shop: payment failed  trace={TRACE_A}\n")
    assert len(logs.splitlines()) == 1
    assert run(filled, "metrics")[1] == (
        "latency (histogram) count=2 sum=12.5 ms  {}\n"
        "orders_total (counter) 3 {order}  {region=eu}\n"
    )
    alerts = run(filled, "alerts", "--status", "resolved")[1]
    assert alerts.endswith("resolved  warning  disk-full: disk at 95%\n")
    assert len(alerts.splitlines()) == 1
    assert run(filled, "health")[1] == (
        "cache                degraded  slow\ndatabase             unhealthy connection refused\n"
    )


def test_summary_shows_every_section(filled: Filled) -> None:
    """Human `summary`: counts, trees, error spans, metrics, logs, alerts and health."""
    status, out, _err = run(filled, "summary")
    assert status == 0
    assert out.startswith(
        "== flext-observability summary ==\n"
        "stored: traces=4, metrics=2, logs=3, alerts=2, health=3\n"
    )
    sections = [line for line in out.splitlines() if line.startswith("-- ")]
    assert sections == [
        "-- recent traces --",
        "-- error spans --",
        "-- metrics --",
        "-- logs --",
        "-- alerts --",
        "-- health --",
    ]
    assert "    └─ charge [internal] 50.0ms  ERROR (card declined)" in out
    assert f"charge: card declined  trace={TRACE_A}" in out


def test_a_missing_store_is_exit_1_with_a_hint(tmp_path: Path) -> None:
    """No store file: status 1 and a message saying where it looked and what to do."""
    out, err = StringIO(), StringIO()
    missing = tmp_path / "nothing.db"
    assert cli.main(["--store", str(missing), "summary"], out=out, err=err) == 1
    assert out.getvalue() == ""
    assert err.getvalue().startswith(f"flext-observability: no store at {missing}: run your app")
    assert "--store PATH" in err.getvalue()


def test_a_corrupt_store_is_exit_1_with_a_clear_message(tmp_path: Path) -> None:
    """Junk bytes instead of a database: status 1 and 'cannot read the store', no traceback."""
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite database\x00\xff" * 200)
    for command in ("summary", "traces", "logs"):
        out, err = StringIO(), StringIO()
        assert cli.main(["--store", str(junk), command], out=out, err=err) == 1
        assert err.getvalue().startswith(f"flext-observability: cannot read the store {junk}: ")
        assert "Traceback" not in err.getvalue()


def test_a_bad_since_is_a_usage_error(filled: Filled) -> None:
    """`--since yesterday-ish` is exit 2 with the accepted forms named."""
    status, out, err = run(filled, "traces", "--since", "soon")
    assert (status, out) == (2, "")
    assert "--since 'soon' is invalid: expected a duration like 15m, 2h, 1d or an ISO time" in err


def test_config_shows_sources_and_masks_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`config` lists each setting's source; an OTLP header canary never appears."""
    canary = "CANARY-d6f1c0a4"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"authorization=Bearer {canary}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"https://user:{canary}@otel.example:4318")
    out = StringIO()
    assert cli.main(["config"], out=out) == 0
    text = out.getvalue()
    assert canary not in text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert rows["service_name"][1:] == ["checkout", "env:OTEL_SERVICE_NAME"]
    assert rows["otlp_headers"][-1] == "env:OTEL_EXPORTER_OTLP_HEADERS"
    assert rows["sampling_ratio"][1:] == ["1.0", "default"]
    as_json = StringIO()
    assert cli.main(["config", "--json"], out=as_json) == 0
    assert canary not in as_json.getvalue()
    document = json.loads(as_json.getvalue())
    settings = {row["setting"]: row for row in document["settings"]}
    assert settings["service_name"] == {
        "setting": "service_name",
        "value": "checkout",
        "source": "env:OTEL_SERVICE_NAME",
    }
    assert settings["otlp_headers"]["source"] == "env:OTEL_EXPORTER_OTLP_HEADERS"
    assert document["problems"] == []


def test_config_lists_problems(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An invalid variable shows up as a `problem:` line naming it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLEXT_OBSERVABILITY_SAMPLING_RATIO", "7")
    out = StringIO()
    assert cli.main(["config"], out=out) == 0
    problems = [line for line in out.getvalue().splitlines() if line.startswith("problem: ")]
    assert len(problems) == 1
    assert problems[0].startswith("problem: FLEXT_OBSERVABILITY_SAMPLING_RATIO='7' is invalid")


def test_run_without_a_command_is_a_usage_error() -> None:
    """`run` with nothing after `--` is exit 2 with an example."""
    err = StringIO()
    assert cli.main(["run", "--"], out=StringIO(), err=err) == 2
    assert "give a command, e.g. run -- python app.py" in err.getvalue()


@pytest.mark.slow
def test_run_executes_a_command_under_auto_instrumentation(tmp_path: Path) -> None:
    """`run -- python -c ...` pins our distro; the command's span lands in the store."""
    store = tmp_path / "run.db"
    code = (
        "import os\n"
        "from opentelemetry import trace\n"
        "with trace.get_tracer('cli-test').start_as_current_span('from-run'):\n"
        "    pass\n"
        "print(type(trace.get_tracer_provider()).__module__, os.environ['OTEL_PYTHON_DISTRO'])\n"
    )
    completed = subprocess.run(
        [str(BIN / "flext-observability"), "run", "--", sys.executable, "-c", code],
        env=clean_env(
            OTEL_SERVICE_NAME="run-test",
            FLEXT_OBSERVABILITY_STORE_PATH=str(store),
            FLEXT_OBSERVABILITY_HEALTH_ENABLED="false",
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "opentelemetry.sdk.trace flext_observability\n"
    assert f"flext-observability: service 'run-test': entities in {store}" in completed.stderr
    reader = SQLiteStore.open_readonly(store)
    try:
        spans = reader.query("traces")
    finally:
        reader.close()
    assert [(s.operation_name, s.service_name) for s in spans if isinstance(s, FlextTrace)] == [
        ("from-run", "run-test")
    ]


def test_health_url_asks_a_running_probe_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """`health --url` prints the live /healthz of a probe server (with the bearer token)."""
    registry = HealthRegistry()
    registry.register("db", lambda: True)
    registry.register("cache", lambda: "degraded", critical=False)
    registry.run_all()
    server = ProbeServer(registry, token="s3cret-token")
    server.start()
    try:
        monkeypatch.setenv("FLEXT_OBSERVABILITY_HEALTH_TOKEN", "s3cret-token")
        out = StringIO()
        assert cli.main(["health", "--url", server.url], out=out, err=StringIO()) == 0
        assert out.getvalue() == (
            "overall              degraded\n"
            "cache                degraded\n"
            "db                   healthy\n"
        )
        monkeypatch.delenv("FLEXT_OBSERVABILITY_HEALTH_TOKEN")
        out = StringIO()
        assert cli.main(["health", "--url", server.url], out=out, err=StringIO()) == 1
        assert out.getvalue() == "probe server answered 401\n"
    finally:
        server.stop()
