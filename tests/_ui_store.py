"""A store with known content for the viewer's tests: nested traces, logs, metrics, alerts, health.

`fill(store)` writes everything and returns the ids tests look for. Times are fixed (2026-01-02
from 10:00 UTC), so the pages' text is predictable; nothing is random but the entity ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flext_observability.models import (
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.models._log import ExceptionInfo
from flext_observability.models._metric import HistogramData
from flext_observability.models._trace import SpanEvent
from flext_observability.models._types import (
    AlertSeverity,
    HealthStatus,
    LogLevel,
    MetricType,
    TraceKind,
    TraceStatus,
)
from flext_observability.sinks import SQLiteStore

__all__ = ["T0", "Known", "fill", "span"]

T0 = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
FAILING = "a" * 31 + "1"


def _hex(n: int, width: int) -> str:
    return f"{n:0{width}x}"


def span(
    trace: str,
    sid: int,
    name: str,
    start_ms: float,
    dur_ms: float,
    *,
    parent: int | None = None,
    status: str = "ok",
    service: str = "shop",
    kind: str = "internal",
    at: datetime = T0,
    **extra: object,
) -> FlextTrace:
    """One finished span of `trace` (ids from small integers), `start_ms` after `at`."""
    return FlextTrace(
        trace_id=trace,
        span_id=_hex(sid, 16),
        parent_span_id=_hex(parent, 16) if parent is not None else None,
        operation_name=name,
        service_name=service,
        kind=TraceKind(kind),
        start_time=at + timedelta(milliseconds=start_ms),
        duration_ms=dur_ms,
        status=TraceStatus(status),
        **extra,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Known:
    """What `fill` wrote that tests look for."""

    failing_trace: str
    order: list[str]
    """The failing trace's span names in waterfall order (depth first, children by start)."""
    depths: list[int]
    product_traces: list[str]
    billing_trace: str


def fill(store: SQLiteStore, products: int = 120) -> Known:
    """Write the known dataset."""
    boom = SpanEvent(
        name="exception",
        timestamp=T0 + timedelta(milliseconds=5),
        attributes={
            "exception.type": "PaymentDeclinedError",
            "exception.message": "card declined for 16.50",
            "exception.stacktrace": "Traceback (most recent call last):\n  boom\n",
        },
    )
    failing = [
        span(
            FAILING,
            1,
            "GET /checkout",
            0,
            10,
            status="error",
            kind="server",
            attributes={"http.route": "/checkout", "http.status_code": 500},
        ),
        span(FAILING, 3, "render", 7, 2, parent=1),
        span(
            FAILING,
            2,
            "checkout",
            2,
            4,
            parent=1,
            status="error",
            status_message="PaymentDeclinedError: card declined for 16.50",
            events=[boom],
        ),
        span(FAILING, 4, "db.query", 3, 1, parent=2, kind="client"),
    ]
    store.write(failing)
    product_ids = []
    batch: list[FlextTrace] = []
    for i in range(products):
        trace = _hex(0x1000 + i, 32)
        product_ids.append(trace)
        at = T0 + timedelta(seconds=i + 1)
        batch.append(span(trace, 100 + i, "GET /products", 0, 1 + i % 7, at=at, kind="server"))
    store.write(batch)
    billing = _hex(0xB111, 32)
    store.write(
        [span(billing, 900, "charge", 0, 500, service="billing", at=T0 + timedelta(seconds=30))]
    )
    store.write(
        [
            FlextLogEntry(
                message="checkout failed",
                level=LogLevel.ERROR,
                logger_name="app.shop",
                trace_id=FAILING,
                span_id=_hex(2, 16),
                service_name="shop",
                timestamp=T0 + timedelta(milliseconds=6),
                exception=ExceptionInfo(
                    type="PaymentDeclinedError",
                    message="card declined for 16.50",
                    stacktrace="Traceback ...\n",
                ),
            ),
            FlextLogEntry(
                message="listing 3 products",
                level=LogLevel.INFO,
                logger_name="app.catalog",
                trace_id=product_ids[0],
                service_name="shop",
                timestamp=T0 + timedelta(seconds=1),
            ),
            FlextLogEntry(
                message="cache warm",
                level=LogLevel.DEBUG,
                logger_name="app.cache",
                service_name="shop",
                timestamp=T0 + timedelta(seconds=2),
            ),
        ]
    )
    start = T0
    points: list[FlextMetric] = []
    for i in range(3):
        at = T0 + timedelta(seconds=10 * (i + 1))
        points.append(
            FlextMetric(
                name="shop.orders",
                value=5 * (i + 1),
                metric_type=MetricType.COUNTER,
                tags={"route": "/checkout"},
                start_time=start,
                timestamp=at,
                service_name="shop",
            )
        )
        points.append(
            FlextMetric(
                name="shop.queue",
                value=float(i),
                metric_type=MetricType.GAUGE,
                timestamp=at,
                service_name="shop",
                unit="{item}",
            )
        )
        counts = [i + 1, 2 * (i + 1), 0]
        points.append(
            FlextMetric(
                name="shop.latency",
                metric_type=MetricType.HISTOGRAM,
                value=float(sum(counts)),
                histogram=HistogramData(
                    count=sum(counts),
                    sum=float(sum(counts)),
                    bounds=[1.0, 5.0],
                    bucket_counts=counts,
                    min=0.1,
                    max=4.0,
                ),
                start_time=start,
                timestamp=at,
                service_name="shop",
                unit="ms",
            )
        )
    store.write(points)
    fired = FlextAlert(
        name="checkout-errors",
        message="error ratio 0.25 > 0.1",
        severity=AlertSeverity.WARNING,
        details={"kind": "error_ratio", "window": "4s"},
        labels={"team": "pay"},
        source="checkout-errors",
        timestamp=T0 + timedelta(seconds=3),
        trace_id=FAILING,
        value=0.25,
        threshold=0.1,
    )
    escalated = fired.escalate().value
    resolved = escalated.resolve(at=T0 + timedelta(seconds=20)).value
    for alert in (fired, escalated, resolved):
        store.write([alert])
    store.write(
        [
            FlextHealthCheck(
                name="db",
                status=status,
                message=f"db is {status.value}",
                timestamp=T0 + timedelta(seconds=5 * i),
                duration_ms=1.5,
            )
            for i, status in enumerate(
                [HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.HEALTHY]
            )
        ]
    )
    return Known(
        failing_trace=FAILING,
        order=["GET /checkout", "checkout", "db.query", "render"],
        depths=[0, 1, 2, 1],
        product_traces=product_ids,
        billing_trace=billing,
    )
