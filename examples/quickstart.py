"""Quick start: configure in code, record telemetry three ways, then read the store back.

```sh
python examples/quickstart.py
```

1. `setup()` builds the OpenTelemetry providers and the entity pipeline (the embedded SQLite
   store included); nothing else is needed.
2. Telemetry is recorded with the simple API (`flext_create_*` values, then `obs.emit(...)`),
   with the `flext_monitor_function` decorator, and with the plain OpenTelemetry API and stdlib
   `logging` - all of it lands in the same store.
3. `shutdown()` flushes everything; `SQLiteStore.open_readonly` reads the entities back.

The store goes to `FLEXT_OBSERVABILITY_STORE_PATH` when set, else to a temporary directory that
is removed at the end, so running the example leaves nothing behind.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from opentelemetry import trace

from flext_observability import (
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    flext_create_alert,
    flext_create_health_check,
    flext_create_log_entry,
    flext_create_metric,
    flext_create_trace,
    flext_monitor_function,
    setup,
    shutdown,
)
from flext_observability.sinks import SQLiteStore

log = logging.getLogger("quickstart")


@flext_monitor_function("price-basket")
def price_basket(prices: list[float]) -> float:
    """A business function: one span and two metric points per call."""
    return round(sum(prices) * 1.2, 2)


def record(store_path: Path) -> None:
    """Configure flext-observability and record a little of everything."""
    obs = setup(service_name="quickstart", store_path=store_path, health_enabled=False)

    # 1. The simple API: entities are values (FlextResult-wrapped); emit() records them.
    obs.emit(flext_create_metric("orders_total", 3, tags={"region": "eu"}))
    obs.emit(flext_create_trace("nightly-report", "quickstart").flat_map(lambda s: s.finish()))
    obs.emit(flext_create_log_entry("warning", "disk almost full", context={"mount": "/data"}))
    obs.emit(flext_create_alert("disk-full", "warning", "disk at 95%", details={"mount": "/"}))
    obs.emit(flext_create_health_check("database", "healthy", message="ping 3 ms"))

    # 2. The OpenTelemetry API and stdlib logging: a span with a log and a monitored call.
    tracer = trace.get_tracer("quickstart")
    with tracer.start_as_current_span("handle-order") as span:
        span.set_attribute("order.id", 42)
        total = price_basket([4.5, 12.0])
        log.info("order 42 priced at %.2f", total)

    # 3. One shutdown flushes every signal to the store (an atexit hook would do it too).
    shutdown()


def print_tree(spans: list[FlextTrace], span: FlextTrace, depth: int) -> None:
    """Print `span` and its children, indented, with durations."""
    print(f"{'  ' * depth}└─ {span.operation_name} [{span.kind.value}] {span.duration_ms:.1f}ms")
    for child in spans:
        if child.parent_span_id == span.span_id:
            print_tree(spans, child, depth + 1)


def show(store_path: Path) -> None:
    """Print what the store holds."""
    store = SQLiteStore.open_readonly(store_path)
    try:
        print("stored:", ", ".join(f"{k}={v}" for k, v in store.counts().items()))
        roots = [s for s in store.query("traces") if isinstance(s, FlextTrace) and s.is_root]
        for root in roots:
            print(f"trace {root.trace_id}  service={root.service_name}")
            print_tree(store.trace(root.trace_id), root, depth=1)
        for point in store.query("metrics", name="orders_total"):
            assert isinstance(point, FlextMetric)
            print(f"metric {point.name} ({point.metric_type.value}) = {point.value} {point.tags}")
        for entry in store.query("logs"):
            assert isinstance(entry, FlextLogEntry)
            print(f"log {entry.level.value}: {entry.message}  trace={entry.trace_id or '-'}")
        for alert in store.query("alerts"):
            assert isinstance(alert, FlextAlert)
            print(f"alert {alert.name} [{alert.severity.value}, {alert.status.value}]")
        for check in store.query("health", name="database"):
            assert isinstance(check, FlextHealthCheck)
            print(f"health {check.name}: {check.status.value} ({check.message})")
    finally:
        store.close()


def main() -> None:
    """Record into the configured (or a temporary) store and show it."""
    configured = os.environ.get("FLEXT_OBSERVABILITY_STORE_PATH")
    if configured:
        record(Path(configured))
        show(Path(configured))
        return
    with tempfile.TemporaryDirectory(prefix="flext-quickstart-") as tmp:
        store_path = Path(tmp) / "telemetry.db"
        record(store_path)
        show(store_path)


if __name__ == "__main__":
    main()
