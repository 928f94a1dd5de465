"""The simple API never raises, whatever the input."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flext_observability
from flext_observability import (
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextResult,
    FlextTrace,
    flext_create_alert,
    flext_create_health_check,
    flext_create_log_entry,
    flext_create_metric,
    flext_create_trace,
)

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
_loose: Any = flext_observability  # ill-typed arguments on purpose


def _parent() -> FlextTrace:
    return FlextTrace(trace_id=TRACE, span_id=SPAN, operation_name="parent", service_name="svc")


class _Hostile:
    """Every dunder that the API might touch raises."""

    def __str__(self) -> str:
        raise RuntimeError("__str__")

    def __repr__(self) -> str:
        raise RuntimeError("__repr__")

    def __hash__(self) -> int:
        raise RuntimeError("__hash__")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("__eq__")

    def __bool__(self) -> bool:
        raise RuntimeError("__bool__")

    def __float__(self) -> float:
        raise RuntimeError("__float__")


class _RaisingGetattr:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(name)


class _NanNumber:
    def __float__(self) -> float:
        return float("nan")


class _HostileMapping(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("getitem")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("iter")

    def __len__(self) -> int:
        raise RuntimeError("len")


class _HostileStr(str):
    __slots__ = ()

    def strip(self, chars: str | None = None) -> str:
        raise RuntimeError("strip")

    def lower(self) -> str:
        raise RuntimeError("lower")


def _recursive_list() -> list[Any]:
    items: list[Any] = []
    items.append(items)
    return items


def _recursive_dict() -> dict[str, Any]:
    items: dict[str, Any] = {}
    items["self"] = items
    return items


def _deep_list() -> list[Any]:
    items: list[Any] = []
    for _ in range(5000):
        items = [items]
    return items


_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    st.decimals(),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.datetimes(),
    st.sampled_from(
        [
            "info",
            "WARN",
            "healthy",
            "m",
            "x_total",
            "count",
            f"{TRACE}-{SPAN}",
            f"00-{TRACE}-{SPAN}-01",
            "counter",
        ]
    ),
    st.builds(_Hostile),
    st.builds(_RaisingGetattr),
    st.builds(_NanNumber),
    st.builds(_HostileMapping),
    st.builds(_HostileStr, st.text(max_size=5)),
    st.builds(_recursive_list),
    st.builds(_recursive_dict),
    st.builds(_deep_list),
    st.builds(object),
    st.builds(_parent),
)
_anything = st.recursive(
    _leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
_CREATORS: list[Callable[..., FlextResult[Any]]] = [
    flext_create_metric,
    flext_create_trace,
    flext_create_alert,
    flext_create_health_check,
    flext_create_log_entry,
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_CREATORS),
    st.lists(_anything, min_size=3, max_size=5),
    st.booleans(),
)
def test_no_creator_ever_raises(
    creator: Callable[..., FlextResult[Any]], args: list[Any], by_keyword: bool
) -> None:
    """Any input gives a FlextResult (a failure names an "Invalid ..." phrase), never raises."""
    params = list(inspect.signature(creator).parameters)[: len(args)]
    if by_keyword:
        result = creator(**dict(zip(params, args, strict=False)))
    else:
        result = creator(*args[: len(params)])
    assert isinstance(result, FlextResult)
    if result.is_failure:
        assert isinstance(result.error, str)
        assert result.error.startswith("Invalid ")
    else:
        entity = result.value
        assert isinstance(
            entity, FlextMetric | FlextTrace | FlextAlert | FlextHealthCheck | FlextLogEntry
        )
        assert type(entity).model_validate_json(entity.model_dump_json()) == entity


_NEAR_VALID: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["m", "db", "requests_total", "a" * 255, "a" * 256, " "]),
    "value": st.integers() | st.floats() | st.decimals(),
    "unit": st.sampled_from(["", "count", "ms_histogram", "s"]),
    "tags": st.dictionaries(st.text(max_size=3), _anything, max_size=2),
    "metric_type": st.sampled_from([None, "counter", "GAUGE", "timer"]),
    "operation_name": st.text(max_size=5),
    "service_name": st.text(max_size=5),
    "context": st.dictionaries(st.text(max_size=3), _anything, max_size=2),
    "parent_trace_id": st.sampled_from([None, f"{TRACE}-{SPAN}", f"00-{TRACE}-{SPAN}-01", "x"]),
    "severity": st.sampled_from(["info", "Warning", "ERROR", "critical", "warn"]),
    "message": st.text(max_size=5),
    "details": st.dictionaries(st.text(max_size=3), _anything, max_size=2),
    "status": st.sampled_from(["healthy", "degraded", "unhealthy", "unknown", "ok"]),
    "level": st.sampled_from(["debug", "warn", "FATAL", "error", "trace"]),
    "correlation_id": st.none() | st.text(max_size=5),
}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_CREATORS), st.data())
def test_near_valid_input_gives_a_round_tripping_entity_or_a_failure(
    creator: Callable[..., FlextResult[Any]], data: st.DataObject
) -> None:
    """Mostly-valid keyword input yields an entity that round-trips, or a failure; no raise."""
    kwargs = {
        name: data.draw(
            _NEAR_VALID[name] | _anything if name in {"tags", "details"} else _NEAR_VALID[name]
        )
        for name in inspect.signature(creator).parameters
    }
    result = creator(**kwargs)
    if result.is_success:
        entity = result.value
        assert type(entity).model_validate_json(entity.model_dump_json()) == entity
    else:
        assert isinstance(result.error, str)
        assert result.error.startswith("Invalid ")


class _UglyError(Exception):
    """An exception whose message cannot be rendered."""

    def __str__(self) -> str:
        raise RuntimeError


class _RaisesUgly:
    def __getattr__(self, name: str) -> Any:
        raise _UglyError


class _UglyStr(str):
    __slots__ = ()

    def strip(self, chars: str | None = None) -> str:
        raise _UglyError


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: _loose.flext_create_metric("m", _RaisesUgly()),
            "Invalid metric value: _UglyError",
        ),
        (lambda: _loose.flext_create_metric(_HostileStr("m"), 1), "Invalid metric name: strip"),
        (lambda: _loose.flext_create_alert("a", _HostileStr("info"), "m"), "Invalid alert: strip"),
        (
            lambda: _loose.flext_create_alert("a", _UglyStr("info"), "m"),
            "Invalid alert: _UglyError",
        ),
        (
            lambda: _loose.flext_create_trace("op", "svc", context=_HostileMapping()),
            "Invalid trace: iter",
        ),
    ],
)
def test_unexpected_exceptions_become_failures_with_the_phrase(
    call: Callable[[], FlextResult[Any]], message: str
) -> None:
    """Errors other than validation errors (even unprintable ones) still name the phrase."""
    assert call() == FlextResult[Any].fail(message)
