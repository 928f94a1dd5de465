"""`summary` shows the application's metrics in full and folds the process/runtime ones."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from flext_observability import cli, flext_create_metric
from flext_observability._internal.runtime_metrics import register_runtime_metrics
from flext_observability.cli._query import RUNTIME_METRIC_PREFIXES
from flext_observability.sinks.store import SQLiteStore


def test_every_runtime_metric_name_is_folded_by_summary() -> None:
    """Each metric the runtime instruments report starts with one of the folded prefixes."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    cleanup = register_runtime_metrics(provider)
    try:
        data = reader.get_metrics_data()
    finally:
        cleanup()
        provider.shutdown()
    assert data is not None
    names = {
        metric.name
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert names
    assert sorted(n for n in names if not n.startswith(RUNTIME_METRIC_PREFIXES)) == []


def test_summary_folds_runtime_series_into_one_line(tmp_path: Path) -> None:
    """App series are listed one per line; runtime series are counted on one line instead."""
    path = tmp_path / "t.db"
    store = SQLiteStore(path)
    metrics = [
        flext_create_metric("orders_total", 3, tags={"region": "eu"}).unwrap(),
        flext_create_metric("process.thread.count", 5, unit="{thread}").unwrap(),
        flext_create_metric(
            "cpython.gc.collections", 1, tags={"g": 0}, metric_type="counter"
        ).unwrap(),
        flext_create_metric(
            "cpython.gc.collections", 2, tags={"g": 1}, metric_type="counter"
        ).unwrap(),
    ]
    store.write(metrics)
    store.close()
    out, err = StringIO(), StringIO()
    assert cli.main(["--store", str(path), "summary"], out=out, err=err) == 0
    section = out.getvalue().split("-- metrics --\n")[1].split("\n\n")[0].splitlines()
    assert len(section) == 2
    assert section[0].startswith("orders_total ")
    assert section[1].startswith("(+ 3 process/runtime series of 2 metrics: ")
    full = StringIO()
    assert cli.main(["--store", str(path), "metrics"], out=full, err=err) == 0
    assert len(full.getvalue().splitlines()) == 4
