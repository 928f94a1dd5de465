"""A process that fires one alert rule, then resolves it on request (for the Alertmanager test).

Usage: `python _alerting_process.py ALERTMANAGER_URL`. It prints `fired` once the activation was
posted, waits for a line on stdin, emits the value that resolves the rule, prints `resolved`
once that was posted, and exits.
"""

from __future__ import annotations

import sys

from flext_observability._internal.setup import setup, shutdown
from flext_observability.api import flext_create_metric
from flext_observability.rules import ThresholdRule


def main() -> int:
    """Fire, wait, resolve."""
    obs = setup(
        service_name="checkout-svc",
        store_enabled=False,
        traces_exporter=(),
        metrics_exporter=(),
        logs_exporter=(),
        health_enabled=False,
        runtime_metrics=False,
        alertmanager_url=sys.argv[1],
        rules=[
            ThresholdRule(
                name="queue-backlog",
                metric="queue.depth",
                threshold=10,
                severity="critical",
                labels={"team": "ops"},
            )
        ],
    )
    obs.emit(flext_create_metric("queue.depth", 50))
    if not obs.force_flush(10):
        return 1
    print("fired", flush=True)
    sys.stdin.readline()
    obs.emit(flext_create_metric("queue.depth", 1))
    if not obs.force_flush(10):
        return 1
    print("resolved", flush=True)
    return 0 if shutdown(10) else 1


if __name__ == "__main__":
    raise SystemExit(main())
