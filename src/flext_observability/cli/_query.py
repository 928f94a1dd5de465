"""The store query commands: `summary`, `traces`, `logs`, `metrics`, `alerts`, `health`.

`--json` prints one entity per line, exactly the entity model's JSON (`model_dump_json`).
"""

from __future__ import annotations

import argparse
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Literal, TextIO

from flext_observability.cli._format import (
    line,
    parse_since,
    render_log,
    render_metric,
    render_trace_tree,
    short_time,
)
from flext_observability.models import (
    Entity,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.sinks.store import SQLiteStore

__all__ = ["QUERY_COMMANDS", "add_query_arguments"]


def add_query_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    """Add the filters a query command accepts."""
    parser.add_argument("--json", action="store_true", help="one entity per line (model JSON)")
    parser.add_argument("--since", help="time window: 15m, 2h, 1d, or an ISO time")
    parser.add_argument("--service", help="only this service")
    parser.add_argument("--limit", type=int, default=None, help="at most this many")
    if kind in {"traces", "logs", "alerts"}:
        parser.add_argument("--trace-id", help="only this trace")
    if kind in {"traces", "metrics", "alerts", "health"}:
        parser.add_argument("--name", help="operation/metric/alert/check name")
    if kind == "traces":
        parser.add_argument("--errors", action="store_true", help="only traces with errors")
        parser.add_argument("--slowest", action="store_true", help="slowest spans first")
    if kind == "logs":
        parser.add_argument("--level", help="at or above this level")
    if kind == "alerts":
        parser.add_argument("--status", help="active, acknowledged, resolved or suppressed")
    if kind == "health":
        parser.add_argument(
            "--url",
            help="ask a running app's probe server (e.g. http://127.0.0.1:8081) instead of the "
            "store; FLEXT_OBSERVABILITY_HEALTH_TOKEN is sent as the bearer token when set",
        )


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if args.since:
        filters["since"] = parse_since(args.since)
    if args.service:
        filters["service"] = args.service
    for name in ("trace_id", "name", "level", "status"):
        value = getattr(args, name, None)
        if value:
            filters[name] = value
    return filters


def _print_json(entities: Sequence[Entity], out: TextIO) -> None:
    out.writelines(entity.model_dump_json() + "\n" for entity in entities)


def cmd_traces(store: SQLiteStore, args: argparse.Namespace, out: TextIO) -> int:
    """Show traces as span trees (or spans as JSON)."""
    filters = _filters(args)
    if args.errors:
        filters["errors_only"] = True
    order_by: Literal["duration", "timestamp"] = "duration" if args.slowest else "timestamp"
    spans = store.query(
        "traces",
        order="desc",
        order_by=order_by,
        limit=args.limit,
        **filters,
    )
    if args.json:
        _print_json(spans, out)
        return 0
    trace_ids = list(OrderedDict.fromkeys(s.trace_id for s in spans if isinstance(s, FlextTrace)))
    if not trace_ids:
        out.write("no traces\n")
    out.writelines(
        "\n".join(render_trace_tree(store.trace(trace_id))) + "\n\n"
        for trace_id in trace_ids[: args.limit or 20]
    )
    return 0


def cmd_logs(store: SQLiteStore, args: argparse.Namespace, out: TextIO) -> int:
    """Show log entries, newest last."""
    entries = store.query("logs", order="desc", limit=args.limit or 50, **_filters(args))
    entries.reverse()
    if args.json:
        _print_json(entries, out)
        return 0
    for entry in entries:
        assert isinstance(entry, FlextLogEntry)
        out.write(render_log(entry) + "\n")
    if not entries:
        out.write("no logs\n")
    return 0


RUNTIME_METRIC_PREFIXES = ("process.", "cpython.", "flext.cpython.", "flext.asyncio.")
"""Names of the process and runtime metrics: `summary` folds them into one line."""


def _latest_points(store: SQLiteStore, args: argparse.Namespace) -> list[FlextMetric]:
    """The latest point of each series, ordered by name and tags."""
    latest: dict[tuple[str, str], FlextMetric] = {}
    for point in store.query("metrics", order="desc", limit=args.limit, **_filters(args)):
        assert isinstance(point, FlextMetric)
        latest.setdefault((point.name, repr(sorted(point.tags.items()))), point)
    return [latest[key] for key in sorted(latest)]


def cmd_metrics(store: SQLiteStore, args: argparse.Namespace, out: TextIO) -> int:
    """Show the latest point of each metric series."""
    if args.json:
        _print_json(store.query("metrics", order="desc", limit=args.limit, **_filters(args)), out)
        return 0
    points = _latest_points(store, args)
    out.writelines(render_metric(point) + "\n" for point in points)
    if not points:
        out.write("no metrics\n")
    return 0


def _summary_metrics(store: SQLiteStore, args: argparse.Namespace, out: TextIO) -> int:
    """The application's series in full; the process and runtime series folded into one line."""
    points = _latest_points(store, args)
    runtime = [p for p in points if p.name.startswith(RUNTIME_METRIC_PREFIXES)]
    for point in points:
        if not point.name.startswith(RUNTIME_METRIC_PREFIXES):
            out.write(render_metric(point) + "\n")
    if runtime:
        names = len({p.name for p in runtime})
        out.write(
            f"(+ {len(runtime)} process/runtime series of {names} metrics: "
            "flext-observability metrics --name 'process.*', --name 'cpython.*')\n"
        )
    if not points:
        out.write("no metrics\n")
    return 0


def cmd_alerts(store: SQLiteStore, args: argparse.Namespace, out: TextIO) -> int:
    """Show alert notifications (activations, escalations, resolutions)."""
    alerts = store.query("alerts", order="asc", limit=args.limit, **_filters(args))
    if args.json:
        _print_json(alerts, out)
        return 0
    for alert in alerts:
        assert isinstance(alert, FlextAlert)
        out.write(
            line(
                f"{short_time(alert.resolved_at or alert.timestamp)} "
                f"{alert.status.value:9} {alert.severity.value:8} "
                f"{alert.name}: {alert.message}"
            )
        )
    if not alerts:
        out.write("no alerts\n")
    return 0


def cmd_health(store: SQLiteStore, args: argparse.Namespace, out: TextIO) -> int:
    """Show the latest result of each health check."""
    results = store.query("health", order="desc", limit=args.limit, **_filters(args))
    latest: dict[str, FlextHealthCheck] = {}
    for result in results:
        assert isinstance(result, FlextHealthCheck)
        latest.setdefault(result.name, result)
    if args.json:
        _print_json(list(latest.values()), out)
        return 0
    for name in sorted(latest):
        check = latest[name]
        out.write(line(f"{name:20} {check.status.value:9} {check.message}"))
    if not latest:
        out.write("no health results\n")
    return 0


def cmd_summary(store: SQLiteStore, args: argparse.Namespace, out: TextIO) -> int:
    """Counts, recent traces as trees, error spans, metrics, logs, alerts and health."""
    if args.json:
        for kind in ("traces", "metrics", "logs", "alerts", "health"):
            _print_json(store.query(kind, limit=args.limit, **_filters(args)), out)
        return 0
    counts = store.counts()
    out.write("== flext-observability summary ==\n")
    out.write(line("stored: " + ", ".join(f"{k}={v}" for k, v in counts.items())) + "\n")
    sections: list[tuple[str, Callable[[], int]]] = [
        ("recent traces", lambda: _recent_traces(store, out, args)),
        ("error spans", lambda: _error_spans(store, out, args)),
        ("metrics", lambda: _summary_metrics(store, _with(args, limit=None), out)),
        ("logs", lambda: cmd_logs(store, _with(args, limit=15, trace_id=None), out)),
        ("alerts", lambda: cmd_alerts(store, _with(args, status=None), out)),
        ("health", lambda: cmd_health(store, args, out)),
    ]
    for title, section in sections:
        out.write(f"-- {title} --\n")
        section()
        out.write("\n")
    return 0


def _with(args: argparse.Namespace, **changes: object) -> argparse.Namespace:
    values = {"trace_id": None, "name": None, "level": None, "status": None, **vars(args)}
    values.update(changes)
    return argparse.Namespace(**values)


def _recent_traces(store: SQLiteStore, out: TextIO, args: argparse.Namespace) -> int:
    roots = [
        s
        for s in store.query("traces", order="desc", limit=200, **_filters(_with(args, name=None)))
        if isinstance(s, FlextTrace) and s.is_root
    ]
    out.writelines(
        "\n".join(render_trace_tree(store.trace(root.trace_id))) + "\n" for root in roots[:5]
    )
    if not roots:
        out.write("no traces\n")
    return 0


def _error_spans(store: SQLiteStore, out: TextIO, args: argparse.Namespace) -> int:
    errors = store.query("traces", errors_only=True, order="desc", limit=10, **_filters(args))
    for span in errors:
        assert isinstance(span, FlextTrace)
        out.write(
            line(
                f"{short_time(span.start_time)} {span.operation_name}: "
                f"{span.status_message or 'error'}  trace={span.trace_id}"
            )
        )
    if not errors:
        out.write("no error spans\n")
    return 0


QUERY_COMMANDS: dict[str, Callable[[SQLiteStore, argparse.Namespace, TextIO], int]] = {
    "summary": cmd_summary,
    "traces": cmd_traces,
    "logs": cmd_logs,
    "metrics": cmd_metrics,
    "alerts": cmd_alerts,
    "health": cmd_health,
}
