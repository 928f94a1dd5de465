"""The simple API: signatures, type inference, trace parents, failures, never raising."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import flext_observability
from flext_observability import (
    AlertSeverity,
    AlertStatus,
    FlextResult,
    FlextTrace,
    HealthStatus,
    LogLevel,
    MetricType,
    flext_create_alert,
    flext_create_health_check,
    flext_create_log_entry,
    flext_create_metric,
    flext_create_trace,
)
from flext_observability.testing import FAKE_START, DeterministicIds

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
_EMPTY = inspect.Parameter.empty

_SIGNATURES: list[tuple[Callable[..., Any], list[tuple[str, object]]]] = [
    (
        flext_create_metric,
        [("name", _EMPTY), ("value", _EMPTY), ("unit", ""), ("tags", None), ("metric_type", None)],
    ),
    (
        flext_create_trace,
        [
            ("operation_name", _EMPTY),
            ("service_name", _EMPTY),
            ("context", None),
            ("parent_trace_id", None),
        ],
    ),
    (
        flext_create_alert,
        [("name", _EMPTY), ("severity", _EMPTY), ("message", _EMPTY), ("details", None)],
    ),
    (
        flext_create_health_check,
        [("name", _EMPTY), ("status", _EMPTY), ("message", ""), ("details", None)],
    ),
    (
        flext_create_log_entry,
        [("level", _EMPTY), ("message", _EMPTY), ("context", None), ("correlation_id", None)],
    ),
]


@pytest.mark.parametrize(("fn", "expected"), _SIGNATURES, ids=lambda v: getattr(v, "__name__", ""))
def test_signatures_match_the_spec(
    fn: Callable[..., Any], expected: list[tuple[str, object]]
) -> None:
    """Parameter names, order and defaults are exactly the documented ones."""
    params = inspect.signature(fn).parameters.values()
    assert [(p.name, p.default) for p in params] == expected
    assert {p.kind for p in params} == {inspect.Parameter.POSITIONAL_OR_KEYWORD}


@pytest.mark.usefixtures("flext_clock", "flext_ids")
def test_create_metric_with_keywords() -> None:
    """flext_create_metric works with every argument by keyword."""
    metric = flext_create_metric(
        name="orders",
        value=Decimal("2.50"),
        unit="EUR",
        tags={"shop": "eu", "ids": [1, 2]},
        metric_type="COUNTER",
    ).value
    assert metric.model_dump() == {
        "id": "entity-0001",
        "timestamp": FAKE_START,
        "service_name": None,
        "name": "orders",
        "value": Decimal("2.50"),
        "unit": "EUR",
        "tags": {"shop": "eu", "ids": [1, 2]},
        "metric_type": MetricType.COUNTER,
        "start_time": None,
        "histogram": None,
    }
    assert isinstance(metric.value, Decimal)


@pytest.mark.usefixtures("flext_clock", "flext_ids")
def test_create_trace_with_keywords() -> None:
    """flext_create_trace works by keyword and starts a root span of a new trace."""
    span = flext_create_trace(
        operation_name="checkout", service_name="shop", context={"user": "u1", "n": 3}
    ).value
    assert span.model_dump() == {
        "id": f"{DeterministicIds.trace_id(1)}-{DeterministicIds.span_id(1)}",
        "timestamp": FAKE_START,
        "service_name": "shop",
        "trace_id": DeterministicIds.trace_id(1),
        "span_id": DeterministicIds.span_id(1),
        "parent_span_id": None,
        "operation_name": "checkout",
        "kind": "internal",
        "start_time": FAKE_START,
        "end_time": None,
        "duration_ms": None,
        "status": "unset",
        "status_message": "",
        "attributes": {},
        "context": {"user": "u1", "n": "3"},
        "events": [],
        "scope": None,
    }


@pytest.mark.usefixtures("flext_clock", "flext_ids")
def test_create_alert_with_keywords() -> None:
    """flext_create_alert works by keyword; details are stored as strings."""
    alert = flext_create_alert(
        name="cpu", severity="Critical", message="cpu at 99%", details={"host": "a", "cpu": 99}
    ).value
    assert alert.model_dump() == {
        "id": "entity-0001",
        "timestamp": FAKE_START,
        "service_name": None,
        "name": "cpu",
        "message": "cpu at 99%",
        "severity": AlertSeverity.CRITICAL,
        "status": AlertStatus.ACTIVE,
        "details": {"host": "a", "cpu": "99"},
        "labels": {},
        "source": "manual",
        "fingerprint": "9f5f8bfc05fea02aab85e75a5611deba",
        "resolved_at": None,
        "acknowledged_at": None,
        "trace_id": None,
        "span_id": None,
        "value": None,
        "threshold": None,
    }


@pytest.mark.usefixtures("flext_clock", "flext_ids")
def test_create_health_check_with_keywords() -> None:
    """flext_create_health_check works by keyword."""
    check = flext_create_health_check(
        name="db", status="HEALTHY", message="ping ok", details={"latency_ms": 1.5}
    ).value
    assert check.model_dump() == {
        "id": "entity-0001",
        "timestamp": FAKE_START,
        "service_name": None,
        "name": "db",
        "status": HealthStatus.HEALTHY,
        "message": "ping ok",
        "details": {"latency_ms": 1.5},
        "duration_ms": None,
    }
    assert check.is_healthy


@pytest.mark.usefixtures("flext_clock", "flext_ids")
def test_create_log_entry_with_keywords() -> None:
    """flext_create_log_entry works by keyword; warn is an alias of warning."""
    entry = flext_create_log_entry(
        level="warn", message="slow query", context={"ms": 900}, correlation_id="req-7"
    ).value
    assert entry.model_dump() == {
        "id": "entity-0001",
        "timestamp": FAKE_START,
        "service_name": None,
        "level": LogLevel.WARNING,
        "message": "slow query",
        "logger_name": "",
        "context": {"ms": 900},
        "correlation_id": "req-7",
        "trace_id": None,
        "span_id": None,
        "exception": None,
    }


def test_positional_calls_and_defaults() -> None:
    """Positional use works and optional arguments default as documented."""
    assert flext_create_metric("m", 1).value.model_dump(include={"unit", "tags"}) == {
        "unit": "",
        "tags": {},
    }
    assert flext_create_health_check("db", "unknown").value.message == ""
    assert flext_create_log_entry("info", "m").value.context == {}
    assert flext_create_alert("a", "info", "m").value.details == {}


@pytest.mark.parametrize(
    ("name", "unit", "expected"),
    [
        # rule 1: unit count/counts -> counter (wins over every name rule)
        ("x", "count", MetricType.COUNTER),
        ("x", "counts", MetricType.COUNTER),
        ("x_duration", "count", MetricType.COUNTER),
        ("x_histogram", "counts", MetricType.COUNTER),
        # rule 2: "histogram" in unit -> histogram (wins over name rules)
        ("x", "histogram", MetricType.HISTOGRAM),
        ("requests_total", "ms_histogram", MetricType.HISTOGRAM),
        # rule 3: name ends _total/_count -> counter (wins over rule 4)
        ("requests_total", "", MetricType.COUNTER),
        ("requests_count", "ms", MetricType.COUNTER),
        ("histogram_count", "", MetricType.COUNTER),
        ("time_total", "s", MetricType.COUNTER),
        # rule 4: name ends _duration/_time/_seconds or contains histogram -> histogram
        ("request_duration", "", MetricType.HISTOGRAM),
        ("response_time", "ms", MetricType.HISTOGRAM),
        ("gc_seconds", "s", MetricType.HISTOGRAM),
        ("my_histogram_x", "", MetricType.HISTOGRAM),
        # otherwise gauge (the suffixes must be at the end; "count" alone is no suffix)
        ("cpu_usage", "%", MetricType.GAUGE),
        ("durations", "", MetricType.GAUGE),
        ("total", "", MetricType.GAUGE),
        ("x_counter", "", MetricType.GAUGE),
        ("x", "countable", MetricType.GAUGE),
        ("x_duration.p99", "", MetricType.GAUGE),
    ],
)
def test_metric_type_inference_first_match_wins(name: str, unit: str, expected: MetricType) -> None:
    """With metric_type=None the type follows the documented ordered rules."""
    assert flext_create_metric(name, 1, unit=unit).value.metric_type is expected


def test_explicit_metric_type_overrides_inference() -> None:
    """An explicit metric_type (enum or any-case string) wins over inference."""
    assert flext_create_metric("x_total", 1, metric_type="gauge").value.metric_type is (
        MetricType.GAUGE
    )
    assert flext_create_metric("x", 1, metric_type=MetricType.SUMMARY).value.metric_type is (
        MetricType.SUMMARY
    )


def test_new_traces_get_distinct_random_w3c_ids() -> None:
    """Each flext_create_trace without a parent starts a new trace with fresh ids."""
    spans = [flext_create_trace("op", "svc").value for _ in range(50)]
    assert len({s.trace_id for s in spans}) == 50
    assert len({s.span_id for s in spans}) == 50
    assert all(s.is_root for s in spans)


def _parent() -> FlextTrace:
    return FlextTrace(trace_id=TRACE, span_id=SPAN, operation_name="parent", service_name="svc")


@pytest.mark.parametrize(
    "parent",
    [
        f"{TRACE}-{SPAN}",
        _parent(),
        f"00-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-00",
        f"  00-{TRACE}-{SPAN}-01 ",
    ],
    ids=["parent-id", "FlextTrace", "traceparent-sampled", "traceparent-unsampled", "padded"],
)
def test_parent_links_child_to_the_parent_span(parent: str | FlextTrace) -> None:
    """A parent id, a FlextTrace or a W3C traceparent makes a child in the same trace."""
    child = flext_create_trace("child", "svc", parent_trace_id=parent).value
    assert (child.trace_id, child.parent_span_id, child.is_root) == (TRACE, SPAN, False)
    assert child.span_id not in {SPAN, "0" * 16}
    assert child.id == f"{TRACE}-{child.span_id}"


_PARENT_MESSAGE = (
    "Invalid trace: parent_trace_id must be a parent's id ('<trace_id>-<span_id>'), "
    "a FlextTrace or a W3C traceparent, got {}"
)


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError

    __repr__ = __str__


@pytest.mark.parametrize(
    ("parent", "shown"),
    [
        ("nope", "'nope'"),
        ("", "''"),
        (TRACE, repr(TRACE)),
        (f"{TRACE}-{SPAN}-x", repr(f"{TRACE}-{SPAN}-x")),
        (f"ff-{TRACE}-{SPAN}-01", repr(f"ff-{TRACE}-{SPAN}-01")),
        (f"00-{'0' * 32}-{SPAN}-01", repr(f"00-{'0' * 32}-{SPAN}-01")),
        (f"{TRACE}-{'0' * 16}", repr(f"{TRACE}-{'0' * 16}")),
        (f"00-{TRACE}-{SPAN}", repr(f"00-{TRACE}-{SPAN}")),
        (42, "42"),
        (_Unprintable(), "<_Unprintable object: repr() raised RuntimeError>"),
    ],
)
def test_invalid_parent_is_a_failure(parent: object, shown: str) -> None:
    """Anything that is not a valid parent reference fails with "Invalid trace" and the value."""
    result = flext_create_trace("child", "svc", parent_trace_id=parent)  # type: ignore[arg-type]
    assert result == FlextResult[FlextTrace].fail(_PARENT_MESSAGE.format(shown))


_SYNTAX = (
    "does not match the OpenTelemetry instrument-name syntax "
    "(a letter, then up to 254 of A-Z a-z 0-9 _ . / -)"
)
_ATTRS = "attribute values must be str, bool, int, float or a homogeneous list of them, got "


# The failure table passes ill-typed arguments on purpose; `_loose` hides them from mypy.
_loose: Any = flext_observability


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: _loose.flext_create_metric("", 1), "Invalid metric name: name cannot be empty"),
        (
            lambda: _loose.flext_create_metric("9lives", 1),
            f"Invalid metric name: '9lives' {_SYNTAX}",
        ),
        (
            lambda: _loose.flext_create_metric(None, 1),
            "Invalid metric name: name must be a string, got NoneType",
        ),
        (
            lambda: _loose.flext_create_metric("m", float("nan")),
            "Invalid metric value: value must be finite, got nan",
        ),
        (
            lambda: _loose.flext_create_metric("m", Decimal("Infinity")),
            "Invalid metric value: value must be finite, got Infinity",
        ),
        (
            lambda: _loose.flext_create_metric("m", True),
            "Invalid metric value: expected a finite number, got bool",
        ),
        (
            lambda: _loose.flext_create_metric("m", "12"),
            "Invalid metric value: expected a finite number, got str",
        ),
        (
            lambda: _loose.flext_create_metric("m", 1, unit=5),
            "Invalid metric: unit must be a string, got int",
        ),
        (
            lambda: _loose.flext_create_metric("m", 1, tags=["a"]),
            "Invalid metric: tags must be a mapping, got list",
        ),
        (
            lambda: _loose.flext_create_metric("m", 1, tags={"a": None}),
            f"Invalid metric: tags.a: {_ATTRS}NoneType",
        ),
        (
            lambda: _loose.flext_create_metric("m", 1, metric_type="timer"),
            "Invalid metric type: expected one of counter, gauge, histogram, summary, got 'timer'",
        ),
        (
            lambda: _loose.flext_create_trace(" ", "svc"),
            "Invalid trace: operation_name cannot be empty",
        ),
        (
            lambda: _loose.flext_create_trace(None, "svc"),
            "Invalid trace: operation_name: Input should be a valid string",
        ),
        (
            lambda: _loose.flext_create_trace("op", 5),
            "Invalid trace: service_name: Input should be a valid string",
        ),
        (
            lambda: _loose.flext_create_trace("op", "svc", context=3),
            "Invalid trace: context must be a mapping, got int",
        ),
        (
            lambda: _loose.flext_create_alert("a", "urgent", "m"),
            "Invalid severity level: expected one of info, warning, error, critical, got 'urgent'",
        ),
        (
            lambda: _loose.flext_create_alert("a", None, "m"),
            "Invalid severity level: expected one of info, warning, error, critical, got None",
        ),
        (lambda: _loose.flext_create_alert("", "info", "m"), "Invalid alert: name cannot be empty"),
        (
            lambda: _loose.flext_create_alert("a", "info", ""),
            "Invalid alert: message cannot be empty",
        ),
        (
            lambda: _loose.flext_create_alert("a", "info", "m", details=[1]),
            "Invalid alert: details must be a mapping, got list",
        ),
        (
            lambda: _loose.flext_create_health_check("db", "fine"),
            (
                "Invalid health status: expected one of healthy, degraded, unhealthy, unknown, "
                "got 'fine'"
            ),
        ),
        (
            lambda: _loose.flext_create_health_check("", "healthy"),
            "Invalid health check: name cannot be empty",
        ),
        (
            lambda: _loose.flext_create_health_check("db", "healthy", message=None),
            "Invalid health check: message: Input should be a valid string",
        ),
        (
            lambda: _loose.flext_create_health_check("db", "healthy", details={"x": {"y": 1}}),
            f"Invalid health check: details.x: {_ATTRS}dict",
        ),
        (
            lambda: _loose.flext_create_log_entry("loud", "m"),
            "Invalid log level: expected one of debug, info, warning, error, critical, got 'loud'",
        ),
        (
            lambda: _loose.flext_create_log_entry("info", ""),
            "Invalid log entry: message cannot be empty",
        ),
        (
            lambda: _loose.flext_create_log_entry("info", "  "),
            "Invalid log entry: message cannot be empty",
        ),
        (
            lambda: _loose.flext_create_log_entry("info", 5),
            "Invalid log entry: message must be a string, got int",
        ),
        (
            lambda: _loose.flext_create_log_entry("info", "m", context={"a": [1, "b"]}),
            (
                "Invalid log entry: context.a: attribute sequences must be homogeneous, "
                "got a mix of int, str"
            ),
        ),
        (
            lambda: _loose.flext_create_log_entry("info", "m", correlation_id=5),
            "Invalid log entry: correlation_id: Input should be a valid string",
        ),
    ],
)
def test_failure_messages_name_the_phrase_and_the_cause(
    call: Callable[[], FlextResult[Any]], message: str
) -> None:
    """Each invalid input gives a failure whose message is the documented phrase and cause."""
    result = call()
    assert (result.is_failure, result.error, result.error_code) == (True, message, None)
