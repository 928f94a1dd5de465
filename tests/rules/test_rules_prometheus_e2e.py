"""The exported rules fire in a real Prometheus scraping a real app."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from _prometheus_server import PROMETHEUS, prometheus_api, running_prometheus
from _receivers import free_port
from _shop import EXAMPLES, Shop
from flext_observability.rules import ErrorRatioRule, LatencyRule, load_rules_file
from flext_observability.rules._prometheus import prometheus_rule_file

pytestmark = pytest.mark.slow


def _alerts(port: int) -> dict[str, str]:
    return {
        alert["labels"]["alertname"]: alert["state"]
        for alert in prometheus_api(port, "/api/v1/alerts")["alerts"]
    }


def _wait(port: int, query: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        result: list[dict[str, Any]] = prometheus_api(port, "/api/v1/query", query=query)["result"]
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.25)


@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus is not installed")
def test_the_failing_routes_alert_fires_in_prometheus(tmp_path: Path) -> None:
    """examples/rules.toml exported: checkout-errors and the route's rule reach `firing`."""
    rules = load_rules_file(EXAMPLES / "rules.toml")
    rules += [
        # Under the default stable HTTP conventions Flask names server spans `GET <route>`.
        ErrorRatioRule(
            name="checkout-route-errors", operation="GET /checkout", threshold=0.5, min_count=10
        ),
        LatencyRule(name="products-slow", operation="GET /products", threshold_ms=5000),
    ]
    rule_file = tmp_path / "rules.yml"
    rule_file.write_text(prometheus_rule_file(rules, evaluation_interval_s=1))
    exporter_port = free_port()
    env = {
        "OTEL_METRICS_EXPORTER": "prometheus",
        "OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1",
        "OTEL_EXPORTER_PROMETHEUS_PORT": str(exporter_port),
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.01",  # the derived metrics do not depend on sampling
    }
    with (
        Shop(tmp_path, env) as shop,
        running_prometheus(
            tmp_path, [f"127.0.0.1:{exporter_port}"], rule_files=[rule_file]
        ) as port,
    ):
        # One request of each first: Prometheus must see each series before it grows, since
        # `increase()` does not count a counter's first sample.
        assert [shop.get("/checkout?fail=1"), shop.get("/products")] == [500, 200]
        seen = 'flext_span_duration_seconds_count{span_name="GET /checkout",status="error"}'
        assert _wait(port, seen), "the derived histogram was never scraped"
        assert _wait(port, 'flext_span_duration_seconds_count{span_name="checkout"}')
        statuses = [shop.get("/checkout?fail=1") for _ in range(30)]
        statuses += [shop.get("/products") for _ in range(30)]
        assert set(statuses) == {500, 200}
        deadline = time.monotonic() + 60
        while True:
            states = _alerts(port)
            wanted = {states.get("checkout-errors"), states.get("checkout-route-errors")}
            if wanted == {"firing"} or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        groups = prometheus_api(port, "/api/v1/rules")["groups"]
    assert wanted == {"firing"}, states
    assert "products-slow" not in states
    assert "checkout-slow" not in states
    exported = {rule["name"]: rule for rule in groups[0]["rules"]}
    assert set(exported) == {rule.name for rule in rules}
    assert all(rule["health"] == "ok" for rule in exported.values()), exported
    assert shop.returncode == 0
