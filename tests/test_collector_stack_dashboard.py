"""The Grafana dashboard queries only data the package and its instrumentations really emit.

Metric names and labels are checked against what real components expose (a Flask app, a
`requests` call, a monitored function and our own metrics, read through the OpenTelemetry
Prometheus exporter in a fresh interpreter: `_prometheus_names.py`); the Loki queries against a
real `flext.alert` log record.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from _stack_files import DASHBOARD, DATASOURCES, load_json, load_yaml
from flext_observability._internal.wiring import ALERT_LOGGER
from flext_observability.api import flext_create_metric
from flext_observability.rules import ThresholdRule
from flext_observability.testing import capture, release

PROBE = Path(__file__).resolve().parent / "_prometheus_names.py"
DEFAULT = "default"  # OTEL_SEMCONV_STABILITY_OPT_IN unset: flext-observability's default applies

# Every Prometheus sample name the dashboard may query, all emitted under our default semantic
# conventions (`OTEL_SEMCONV_STABILITY_OPT_IN=http`, set by the distro and by setup()). Names are
# what the collector's `prometheus` exporter makes of the OTel instruments: dots -> underscores,
# unit suffix (s -> seconds, By -> bytes, `{...}` annotations dropped), `_total` on counters,
# `_bucket`/`_count`/`_sum` on histograms.
KNOWN_METRICS: set[str] = {
    # opentelemetry-instrumentation-flask / -requests under the stable HTTP conventions:
    # histograms `http.server.request.duration` and `http.client.request.duration`, in s.
    "http_server_request_duration_seconds_bucket",
    "http_server_request_duration_seconds_count",
    "http_client_request_duration_seconds_bucket",
    "http_client_request_duration_seconds_count",
    # flext_observability._internal.monitor (flext_monitor_function): counter `flext.function.calls`
    # ({call}) and histogram `flext.function.duration` (s).
    "flext_function_calls_total",
    "flext_function_duration_seconds_bucket",
    # flext_observability._internal.wiring._register_own_metrics: gauge `flext.health.status`,
    # counter `flext.observability.dropped` ({item}), gauge `flext.observability.queue.size`.
    "flext_health_status",
    "flext_observability_dropped_total",
    "flext_observability_queue_size",
    # flext_observability._internal.derived: histogram `flext.span.duration` (s), counter
    # `flext.log.records` ({record}), both recorded before sampling.
    "flext_span_duration_seconds_bucket",
    "flext_span_duration_seconds_count",
    "flext_log_records_total",
    # flext_observability._internal.runtime_metrics (semantic-convention names).
    "process_cpu_utilization",
    "process_memory_usage_bytes",
    "cpython_gc_collections_total",
}
# The legacy HTTP names the instrumentations emit without the opt-in: never under our default.
LEGACY_HTTP = {
    "http_server_duration_milliseconds_bucket",
    "http_client_duration_milliseconds_bucket",
}
# Resource attributes become labels through the collector exporter's
# resource_to_telemetry_conversion (service.name -> service_name).
RESOURCE_LABELS = {"service_name"}
SERVICE_FILTER = 'service_name=~"$service"'

_SELECTOR = re.compile(r"([A-Za-z_:][\w:]*)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")
_BY = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_IDENT = re.compile(r"[A-Za-z_:][\w:]*")
_KEYWORDS = {"by", "without", "or", "and", "unless", "on", "ignoring", "bool"}


@functools.cache
def exposed(mode: str) -> dict[str, frozenset[str]]:
    """Sample name -> label names that the real components expose in one semconv mode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLEXT_"))}
    if mode != DEFAULT:
        env["OTEL_SEMCONV_STABILITY_OPT_IN"] = mode
    result = subprocess.run(
        [sys.executable, "-W", "error", str(PROBE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {name: frozenset(labels) for name, labels in json.loads(result.stdout).items()}


def panels() -> list[dict[str, Any]]:
    """The dashboard's panels, rows excluded."""
    return [p for p in load_json(DASHBOARD)["panels"] if p["type"] != "row"]


def queries(kind: str) -> list[str]:
    """Every query expression of the panels whose data source type is `kind`."""
    return [t["expr"] for p in panels() if p["datasource"]["type"] == kind for t in p["targets"]]


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (identifiers not inside braces, strings or ranges)."""
    bare = re.sub(r'"[^"]*"|\{[^}]*\}|\[[^]]*\]', " ", expr)
    bare = _BY.sub(" ", bare)
    return {
        m.group()
        for m in _IDENT.finditer(bare)
        if m.group() not in _KEYWORDS and not bare[m.end() :].lstrip().startswith("(")
    }


def test_panels_use_provisioned_datasources() -> None:
    """Every panel, query and variable names a provisioned data source by uid and type."""
    provisioned = {s["uid"]: s["type"] for s in load_yaml(DATASOURCES)["datasources"]}
    dashboard = load_json(DASHBOARD)
    refs = [p["datasource"] for p in panels()]
    refs += [t["datasource"] for p in panels() for t in p["targets"]]
    refs += [v["datasource"] for v in dashboard["templating"]["list"]]
    assert {(r["uid"], r["type"]) for r in refs} <= set(provisioned.items())
    assert all(p["targets"] for p in panels())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_covers_red_health_drops_and_alerts() -> None:
    """The dashboard has request rate, errors, duration, health, drops and alert panels."""
    names = set().union(*(metric_names(expr) for expr in queries("prometheus")))
    assert names == KNOWN_METRICS
    assert [p["type"] for p in panels() if p["datasource"]["type"] == "loki"] == [
        "timeseries",
        "logs",
    ]


def test_prometheus_queries_filter_by_service() -> None:
    """Every metric selector filters on the dashboard's `$service` variable."""
    for expr in queries("prometheus"):
        selectors = _SELECTOR.findall(expr)
        assert selectors, expr
        for name, matchers in selectors:
            assert SERVICE_FILTER in matchers, (name, expr)


def test_known_metrics_are_really_emitted() -> None:
    """Every known metric is exposed under our default conventions; the legacy HTTP ones not."""
    names = set(exposed(DEFAULT))
    assert (KNOWN_METRICS - names, LEGACY_HTTP & names) == (set(), set())
    assert exposed(DEFAULT)["target_info"] >= RESOURCE_LABELS


def test_query_labels_exist_on_their_metrics() -> None:
    """Labels in matchers and `by (...)` clauses exist on the metrics they are applied to."""
    labels = exposed(DEFAULT)
    for expr in queries("prometheus"):
        in_expr: set[str] = set(RESOURCE_LABELS)
        for name, matchers in _SELECTOR.findall(expr):
            own = labels[name] | RESOURCE_LABELS
            assert set(_MATCHER.findall(matchers)) <= own, (name, expr)
            in_expr |= own
        for group in _BY.findall(expr):
            assert {label.strip() for label in group.split(",")} <= in_expr, expr


def test_alert_events_carry_what_the_loki_queries_select() -> None:
    """A real alert log record has the scope, event name and attributes the Loki panels use."""
    cap = capture(rules=[ThresholdRule(name="cpu-hot", metric="cpu.load", threshold=0.9)])
    try:
        cap.obs.emit(flext_create_metric("cpu.load", 0.95))
        assert cap.flush()
        records = [
            r
            for r in cap.logs.get_finished_logs()
            if r.instrumentation_scope is not None and r.instrumentation_scope.name == ALERT_LOGGER
        ]
    finally:
        release(cap)
    assert [(r.log_record.event_name, r.log_record.body) for r in records] == [
        ("flext.alert", "cpu.load 0.95 > 0.9")
    ]
    # Loki stores OTLP scope names as `scope_name` and log attributes as structured metadata
    # with dots replaced by underscores.
    attributes = {key.replace(".", "_") for key in records[0].log_record.attributes or {}}
    for expr in queries("loki"):
        assert f'scope_name="{ALERT_LOGGER}"' in expr, expr
        assert SERVICE_FILTER in expr, expr
        for group in _BY.findall(expr):
            assert {label.strip() for label in group.split(",")} <= attributes, expr
