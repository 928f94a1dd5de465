"""What every entity shares: ids, UTC timestamps, frozen, extra, attributes, JSON."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from pydantic import BaseModel, ValidationError

from _helpers import attribute_values, entities, validation_errors
from flext_observability.models import (
    FlextAlert,
    FlextEntity,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
)
from flext_observability.models._base import describe_validation_error

_MINIMAL: list[tuple[type[FlextEntity], dict[str, Any]]] = [
    (FlextMetric, {"name": "m", "value": 1}),
    (FlextTrace, {"operation_name": "op"}),
    (FlextAlert, {"name": "a", "message": "m"}),
    (FlextHealthCheck, {"name": "db"}),
    (FlextLogEntry, {"message": "hello"}),
]
_IDS = [cls.__name__ for cls, _ in _MINIMAL]


@pytest.mark.parametrize(("cls", "data"), _MINIMAL, ids=_IDS)
def test_defaults_give_unique_id_and_aware_utc_timestamp(
    cls: type[FlextEntity], data: dict[str, Any]
) -> None:
    """Two entities built from the same input get different ids and a UTC timestamp."""
    first, second = cls.model_validate(data), cls.model_validate(data)
    assert first.id != second.id
    assert first.timestamp.tzinfo is UTC
    assert abs(datetime.now(UTC) - first.timestamp) < timedelta(minutes=1)
    assert first.service_name is None


@pytest.mark.parametrize(("cls", "data"), _MINIMAL, ids=_IDS)
def test_naive_timestamp_is_taken_as_utc(cls: type[FlextEntity], data: dict[str, Any]) -> None:
    """A naive timestamp is read as UTC, keeping its wall-clock fields."""
    entity = cls.model_validate({**data, "timestamp": datetime(2024, 5, 1, 12, 30)})  # noqa: DTZ001
    assert entity.timestamp == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert entity.timestamp.tzinfo is UTC


@pytest.mark.parametrize(("cls", "data"), _MINIMAL, ids=_IDS)
def test_other_timezones_are_converted_to_utc(cls: type[FlextEntity], data: dict[str, Any]) -> None:
    """An aware timestamp in another zone is converted to the same instant in UTC."""
    plus_two = timezone(timedelta(hours=2))
    entity = cls.model_validate({**data, "timestamp": datetime(2024, 5, 1, 12, tzinfo=plus_two)})
    assert (entity.timestamp, entity.timestamp.tzinfo) == (
        datetime(2024, 5, 1, 10, tzinfo=UTC),
        UTC,
    )


@pytest.mark.parametrize(("cls", "data"), _MINIMAL, ids=_IDS)
def test_iso_string_timestamps_are_parsed_and_converted(
    cls: type[FlextEntity], data: dict[str, Any]
) -> None:
    """ISO strings (as in JSON) are parsed; an offset is converted to UTC, none means UTC."""
    shifted = cls.model_validate({**data, "timestamp": "2024-05-01T12:00:00-03:00"})
    naive = cls.model_validate({**data, "timestamp": "2024-05-01T12:00:00"})
    assert (shifted.timestamp, naive.timestamp) == (
        datetime(2024, 5, 1, 15, tzinfo=UTC),
        datetime(2024, 5, 1, 12, tzinfo=UTC),
    )


def test_timestamp_out_of_range_after_conversion_is_a_validation_error() -> None:
    """A datetime that cannot be expressed in UTC is rejected, not an OverflowError."""
    too_early = datetime.min.replace(tzinfo=timezone(timedelta(hours=1)))
    assert validation_errors(FlextLogEntry, {"message": "x", "timestamp": too_early}) == [
        ("timestamp", "datetime 0001-01-01T00:00:00+01:00 is out of range once converted to UTC")
    ]


@pytest.mark.parametrize(("cls", "data"), _MINIMAL, ids=_IDS)
def test_unknown_fields_are_forbidden(cls: type[FlextEntity], data: dict[str, Any]) -> None:
    """extra="forbid": an unknown field is a validation error naming it."""
    errors = validation_errors(cls, {**data, "colour": "blue"})
    assert errors == [("colour", "Extra inputs are not permitted")]


@pytest.mark.parametrize(("cls", "data"), _MINIMAL, ids=_IDS)
def test_entities_are_frozen(cls: type[FlextEntity], data: dict[str, Any]) -> None:
    """Assigning a field raises a validation error and leaves the entity unchanged."""
    entity = cls.model_validate(data)
    with pytest.raises(ValidationError, match="frozen"):
        entity.service_name = "other"  # type: ignore[misc]  # frozen: the point of the test
    assert entity.service_name is None


@pytest.mark.parametrize(
    ("cls", "data"),
    [case for case in _MINIMAL if case[0] is not FlextTrace],  # a trace's id is derived
    ids=[name for name in _IDS if name != "FlextTrace"],
)
def test_empty_id_is_rejected(cls: type[FlextEntity], data: dict[str, Any]) -> None:
    """An explicit id must not be empty."""
    errors = validation_errors(cls, {**data, "id": ""})
    assert errors == [("id", "String should have at least 1 character")]


@pytest.mark.parametrize(
    "value",
    [
        "text",
        "",
        True,
        False,
        0,
        -(2**63),
        2**63 - 1,
        1.5,
        -0.0,
        ["a", "b"],
        [True, False],
        [1, 2, 3],
        [1.5, 2.0],
        [],
    ],
    ids=repr,
)
def test_attribute_values_accept_primitives_and_homogeneous_lists(value: object) -> None:
    """Primitives and homogeneous lists are kept as given (no coercion between kinds)."""
    for entity in (
        FlextMetric.model_validate({"name": "m", "value": 1, "tags": {"k": value}}),
        FlextTrace.model_validate({"operation_name": "op", "attributes": {"k": value}}),
        FlextHealthCheck.model_validate({"name": "h", "details": {"k": value}}),
        FlextLogEntry.model_validate({"message": "m", "context": {"k": value}}),
    ):
        stored = next(
            iter(entity.model_dump(include={"tags", "attributes", "details", "context"}).values())
        )["k"]
        assert (stored, type(stored)) == (value, type(value))
        if isinstance(value, list):
            assert [type(v) for v in stored] == [type(v) for v in value]


def test_attribute_tuples_become_lists() -> None:
    """A homogeneous tuple is accepted and stored as a list."""
    metric = FlextMetric.model_validate({"name": "m", "value": 1, "tags": {"k": ("a", "b")}})
    assert metric.tags == {"k": ["a", "b"]}


_BAD_KIND = "attribute values must be str, bool, int, float or a homogeneous list of them, got "


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, _BAD_KIND + "NoneType"),
        ({"nested": 1}, _BAD_KIND + "dict"),
        (b"bytes", _BAD_KIND + "bytes"),
        ({1, 2}, _BAD_KIND + "set"),
        (object(), _BAD_KIND + "object"),
        (float("nan"), "attribute values must be finite numbers"),
        (float("inf"), "attribute values must be finite numbers"),
        ([1.0, float("-inf")], "attribute values must be finite numbers"),
        ([1, "a"], "attribute sequences must be homogeneous, got a mix of int, str"),
        ([True, 1], "attribute sequences must be homogeneous, got a mix of bool, int"),
        ([1, 2.5], "attribute sequences must be homogeneous, got a mix of float, int"),
        ([[1]], "attribute sequences may hold only str, bool, int or float values"),
        ([None], "attribute sequences may hold only str, bool, int or float values"),
        ([{"a": 1}], "attribute sequences may hold only str, bool, int or float values"),
    ],
    ids=repr,
)
def test_attribute_values_reject_everything_else(value: object, message: str) -> None:
    """None, nested maps, bytes, sets, non-finite floats and mixed/nested lists are rejected."""
    cases: list[tuple[type[BaseModel], dict[str, Any], str]] = [
        (FlextMetric, {"name": "m", "value": 1, "tags": {"k": value}}, "tags.k"),
        (FlextTrace, {"operation_name": "op", "attributes": {"k": value}}, "attributes.k"),
        (FlextHealthCheck, {"name": "h", "details": {"k": value}}, "details.k"),
        (FlextLogEntry, {"message": "m", "context": {"k": value}}, "context.k"),
    ]
    for cls, data, location in cases:
        assert validation_errors(cls, data) == [(location, message)]


@given(attribute_values())
def test_any_valid_attribute_value_round_trips_unchanged(value: object) -> None:
    """Every valid attribute value survives validation and JSON unchanged, kinds included."""
    entity = FlextLogEntry.model_validate({"message": "m", "context": {"k": value}})
    again = FlextLogEntry.model_validate_json(entity.model_dump_json())
    assert again.context == {"k": value}
    assert repr(again.context["k"]) == repr(value)


@settings(max_examples=150, deadline=None)
@given(entities())
def test_every_entity_round_trips_through_json(entity: FlextEntity) -> None:
    """type(e).model_validate_json(e.model_dump_json()) == e for every valid entity."""
    assert type(entity).model_validate_json(entity.model_dump_json()) == entity


@settings(max_examples=50, deadline=None)
@given(entities())
def test_every_entity_round_trips_through_python_dump(entity: FlextEntity) -> None:
    """Validating an entity's python dump gives back an equal entity."""
    assert type(entity).model_validate(entity.model_dump()) == entity


class _UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError


def test_describe_validation_error_covers_every_shape() -> None:
    """Errors without a location, without entries, or not from pydantic still read as sentences."""
    with pytest.raises(ValidationError) as not_a_dict:
        FlextLogEntry.model_validate("not a mapping")
    empty = ValidationError.from_exception_data("FlextLogEntry", [])
    assert [
        describe_validation_error(not_a_dict.value, "Invalid log entry"),
        describe_validation_error(empty, "Invalid log entry"),
        describe_validation_error(KeyError("k"), "Invalid log entry"),
        describe_validation_error(RuntimeError(), "Invalid log entry"),
        describe_validation_error(_UnprintableError(), "Invalid log entry"),
    ] == [
        "Invalid log entry: Input should be a valid dictionary or instance of FlextLogEntry",
        "Invalid log entry: 0 validation errors for FlextLogEntry",
        "Invalid log entry: 'k'",
        "Invalid log entry: RuntimeError",
        "Invalid log entry: _UnprintableError",
    ]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_never_repeats_the_parents_entity_ids() -> None:
    """Default entity ids drawn in a forked child differ from the parent's next ones."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        ids = " ".join(FlextLogEntry(message="child").id for _ in range(50))
        os.write(write, ids.encode())
        os._exit(0)
    os.close(write)
    parent = {FlextLogEntry(message="parent").id for _ in range(50)}
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(child) == 50
    assert len(parent) == 50
    assert not child & parent
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in child | parent)
