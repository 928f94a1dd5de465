"""Print the Prometheus metric names and labels an instrumented service exposes, as JSON.

Run as a script by `test_collector_stack_metrics.py`, in a fresh interpreter, because the
instrumentations, the semantic-convention opt-in and the OpenTelemetry globals are process-wide.
It drives real components: a Flask app served on 127.0.0.1 (OpenTelemetry Flask
instrumentation), a `requests` call to it (requests instrumentation), a `flext_monitor_function`
call, and flext-observability's own metrics (health gauge, drop counter, queue gauge), all read
through the OpenTelemetry Python Prometheus exporter, which applies the same OTel -> Prometheus
naming rules as the collector's `prometheus` exporter (dots to underscores, unit suffix,
`_total` on counters, `_bucket`/`_sum`/`_count` on histograms).

Output: one JSON object, sample name -> sorted label names.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time

import requests
from flask import Flask
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import CollectorRegistry
from werkzeug.serving import make_server

from flext_observability.monitor import flext_monitor_function
from flext_observability.testing import capture, release

_MAX_ROUNDS = 200
# Wait for these: drops (the one-item queue overflowed), the metrics derived on the pipeline
# worker, and CPU utilisation (reported from the second collection on).
_WANTED = {
    "flext_observability_dropped_total",
    "flext_span_duration_seconds_bucket",
    "flext_log_records_total",
    "process_cpu_utilization",
}


def _exposed(registry: CollectorRegistry) -> dict[str, list[str]]:
    names: dict[str, set[str]] = {}
    for family in registry.collect():
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return {name: sorted(labels) for name, labels in sorted(names.items())}


@flext_monitor_function
def _work(value: int) -> int:
    return value


def _serve_one_request(provider: MeterProvider) -> None:
    app = Flask("probe")

    @app.route("/items/<int:item>")
    def item(item: int) -> str:
        return str(item)

    FlaskInstrumentor().instrument_app(app, meter_provider=provider)  # type: ignore[no-untyped-call]  # untyped upstream
    RequestsInstrumentor().instrument(meter_provider=provider)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with requests.get(f"http://127.0.0.1:{server.server_port}/items/7", timeout=10) as reply:
            reply.raise_for_status()
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        RequestsInstrumentor().uninstrument()
        FlaskInstrumentor().uninstrument_app(app)  # type: ignore[no-untyped-call]  # untyped upstream


def main() -> int:
    """Record one of everything, then print what the Prometheus exporter exposes."""
    registry = CollectorRegistry()
    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    metrics.set_meter_provider(provider)
    # setup() attaches to the MeterProvider already set. A one-item queue that the worker
    # drains only every few seconds makes the decorated calls' spans overflow it, so the
    # drop counter has points.
    cap = capture(health_enabled=True, queue_size=1, batch_size=100_000)
    try:
        cap.obs.health.register("database", lambda: True)
        cap.obs.health.run_all()
        _serve_one_request(provider)
        for round_ in range(_MAX_ROUNDS):
            if round_ % 2:  # every other round a log record competes for the one queue slot
                logging.getLogger("app.probe").warning("round %d", round_)
            for value in range(50):
                _work(round_ + value)
            exposed = _exposed(registry)
            if set(exposed) >= _WANTED:
                break
            time.sleep(0.1)  # the worker takes one queued item every half second
    finally:
        release(cap)
        provider.shutdown()
    json.dump(exposed, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
