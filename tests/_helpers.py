"""Shared by tests: entity strategies, a fresh-interpreter runner, a recording metric exporter."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import strategies as st
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from pydantic import BaseModel, ValidationError

from flext_observability.models import (
    AlertSeverity,
    AlertStatus,
    ExceptionInfo,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    HistogramData,
    LogLevel,
    MetricType,
    SpanEvent,
    TraceKind,
    TraceStatus,
)

__all__ = [
    "RecordingMetricExporter",
    "alerts",
    "attribute_maps",
    "attribute_values",
    "aware_datetimes",
    "entities",
    "health_checks",
    "hex_ids",
    "log_entries",
    "metrics",
    "run_python",
    "traces",
    "validation_errors",
]

_HEX_DIGITS = "0123456789abcdef"


def run_python(code: str, env: dict[str, str] | None = None) -> str:
    """Run `code` in a fresh interpreter (the venv's python) and return its stripped stdout."""
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    return completed.stdout.strip()


def validation_errors(cls: type[BaseModel], data: dict[str, Any]) -> list[tuple[str, str]]:
    """Validate `data` into `cls` and return every error as (dotted location, message)."""
    with pytest.raises(ValidationError) as info:
        cls.model_validate(data)
    return [
        (".".join(str(p) for p in e["loc"]), e["msg"].removeprefix("Value error, "))
        for e in info.value.errors(include_url=False, include_input=False)
    ]


def hex_ids(length: int) -> st.SearchStrategy[str]:
    """Valid W3C ids: `length` lowercase hex digits, not all zero."""
    return st.text(_HEX_DIGITS, min_size=length, max_size=length).filter(lambda s: s.strip("0"))


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Datetimes in a safe range, naive or with any fixed UTC offset."""
    offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )
    zones: st.SearchStrategy[Any] = st.none() | st.just(UTC) | offsets
    return st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001 - same
        timezones=zones,
    )


_finite_floats = st.floats(allow_nan=False, allow_infinity=False)
_keys = st.text(max_size=12)
_non_blank = st.text(min_size=1, max_size=30).filter(lambda s: s.strip())


def attribute_values() -> st.SearchStrategy[Any]:
    """OTel attribute values: a primitive or a homogeneous list of one primitive kind."""
    primitives: list[st.SearchStrategy[Any]] = [
        st.text(max_size=20),
        st.booleans(),
        st.integers(),
        _finite_floats,
    ]
    return st.one_of(*primitives, *(st.lists(p, max_size=4) for p in primitives))


def attribute_maps() -> st.SearchStrategy[dict[str, Any]]:
    """Attribute maps of valid values."""
    return st.dictionaries(_keys, attribute_values(), max_size=4)


_str_maps = st.dictionaries(_keys, st.text(max_size=20), max_size=3)
_optional_service = st.none() | st.text(max_size=20)


@st.composite
def _histograms(draw: st.DrawFn) -> HistogramData:
    bounds = sorted(set(draw(st.lists(_finite_floats, max_size=4))))
    explicit = draw(st.booleans())
    counts = (
        draw(st.lists(st.integers(0, 1000), min_size=len(bounds) + 1, max_size=len(bounds) + 1))
        if explicit
        else []
    )
    low, high = sorted(draw(st.lists(_finite_floats, min_size=2, max_size=2)))
    return HistogramData(
        count=sum(counts) if explicit else draw(st.integers(0, 1000)),
        sum=draw(_finite_floats),
        min=low,
        max=high,
        bounds=bounds if explicit else [],
        bucket_counts=counts,
    )


_names = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_./-]{0,40}\Z")
_values = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    _finite_floats,
    st.decimals(allow_nan=False, allow_infinity=False),
)


@st.composite
def metrics(draw: st.DrawFn) -> FlextMetric:
    """Valid metrics of every type; histogram points carry consistent buckets."""
    histogram = draw(st.none() | _histograms())
    common: dict[str, Any] = {
        "name": draw(_names),
        "unit": draw(st.text(max_size=8)),
        "tags": draw(attribute_maps()),
        "timestamp": draw(aware_datetimes()),
        "start_time": draw(st.none() | aware_datetimes()),
        "service_name": draw(_optional_service),
    }
    if histogram is not None:
        return FlextMetric(
            **common, value=histogram.sum, metric_type=MetricType.HISTOGRAM, histogram=histogram
        )
    return FlextMetric(**common, value=draw(_values), metric_type=draw(st.sampled_from(MetricType)))


_events = st.builds(
    SpanEvent, name=st.text(max_size=10), timestamp=aware_datetimes(), attributes=attribute_maps()
)


@st.composite
def traces(draw: st.DrawFn) -> FlextTrace:
    """Valid spans: root or child, finished or not, with attributes, context and events."""
    start = draw(aware_datetimes())
    elapsed = draw(st.none() | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)))
    return FlextTrace(
        trace_id=draw(hex_ids(32)),
        span_id=draw(hex_ids(16)),
        parent_span_id=draw(st.none() | hex_ids(16)),
        operation_name=draw(_non_blank),
        service_name=draw(_optional_service),
        kind=draw(st.sampled_from(TraceKind)),
        start_time=start,
        end_time=None if elapsed is None else start + elapsed,
        status=draw(st.sampled_from(TraceStatus)),
        status_message=draw(st.text(max_size=20)),
        attributes=draw(attribute_maps()),
        context=draw(_str_maps),
        events=draw(st.lists(_events, max_size=2)),
        scope=draw(st.none() | st.text(max_size=10)),
    )


@st.composite
def alerts(draw: st.DrawFn) -> FlextAlert:
    """Valid alerts in every status, with optional trace link and value/threshold."""
    return FlextAlert(
        name=draw(_non_blank),
        message=draw(_non_blank),
        severity=draw(st.sampled_from(AlertSeverity)),
        status=draw(st.sampled_from(AlertStatus)),
        details=draw(_str_maps),
        labels=draw(_str_maps),
        source=draw(st.text(max_size=10)),
        timestamp=draw(aware_datetimes()),
        resolved_at=draw(st.none() | aware_datetimes()),
        acknowledged_at=draw(st.none() | aware_datetimes()),
        trace_id=draw(st.none() | hex_ids(32)),
        span_id=draw(st.none() | hex_ids(16)),
        value=draw(st.none() | _finite_floats),
        threshold=draw(st.none() | _finite_floats),
        service_name=draw(_optional_service),
    )


health_checks = st.builds(
    FlextHealthCheck,
    name=_non_blank,
    status=st.sampled_from(HealthStatus),
    message=st.text(max_size=20),
    details=attribute_maps(),
    duration_ms=st.none() | st.floats(min_value=0, allow_infinity=False),
    timestamp=aware_datetimes(),
    service_name=_optional_service,
)
"""Valid health check results."""

log_entries = st.builds(
    FlextLogEntry,
    level=st.sampled_from(LogLevel),
    message=st.text(max_size=30),
    logger_name=st.text(max_size=10),
    context=attribute_maps(),
    correlation_id=st.none() | st.text(max_size=10),
    trace_id=st.none() | hex_ids(32),
    span_id=st.none() | hex_ids(16),
    exception=st.none()
    | st.builds(
        ExceptionInfo, type=st.text(max_size=10), message=st.text(max_size=10), stacktrace=st.text()
    ),
    timestamp=aware_datetimes(),
    service_name=_optional_service,
)
"""Valid log entries."""


def entities() -> st.SearchStrategy[Any]:
    """Any valid entity of the five kinds."""
    return st.one_of(metrics(), traces(), alerts(), health_checks, log_entries)


class RecordingMetricExporter(MetricExporter):
    """A real SDK `MetricExporter` that keeps every batch it is given and notes flush/close."""

    def __init__(
        self, preferred_temporality: dict[type, AggregationTemporality] | None = None
    ) -> None:
        """Record into `batches`; `preferred_temporality` as the SDK's exporters take it."""
        super().__init__(preferred_temporality=preferred_temporality)
        self.batches: list[MetricsData] = []
        self.flushed = self.closed = False

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Keep the batch."""
        self.batches.append(metrics_data)
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Note the flush."""
        self.flushed = True
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Note the shutdown."""
        self.closed = True


def find_outboxes(*roots: object) -> list[Any]:
    """The OTLP outbox exporters reachable from `roots` (providers), found by walking attributes."""
    from flext_observability._internal.outbox import OutboxExporter  # noqa: PLC0415

    found: list[Any] = []
    seen: set[int] = set()
    todo: list[tuple[object, int]] = [(root, 0) for root in roots]
    while todo:
        obj, depth = todo.pop()
        if id(obj) in seen or depth > 12:
            continue
        seen.add(id(obj))
        if isinstance(obj, OutboxExporter):
            found.append(obj)
            continue
        if isinstance(obj, list | tuple | set | frozenset):
            children = list(obj)
        elif isinstance(obj, dict):
            children = list(obj.values())
        else:
            children = list(getattr(obj, "__dict__", {}).values())
            slots = [name for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ())]
            children += [getattr(obj, name, None) for name in slots if isinstance(name, str)]
        todo.extend(
            (child, depth + 1)
            for child in children
            if not isinstance(child, str | int | float | bytes)
        )
    return found
