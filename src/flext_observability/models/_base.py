"""The entity base class and the helpers that build entities without raising."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from flext_observability.models._sources import new_entity_id, utc_now
from flext_observability.models._types import UtcDatetime
from flext_observability.result import FlextResult

__all__ = [
    "FlextEntity",
    "Frozen",
    "build",
    "describe_validation_error",
    "rebuild",
    "trusted",
]

E = TypeVar("E", bound="FlextEntity")
M = TypeVar("M", bound="Frozen")


class Frozen(BaseModel):
    """Immutable model that rejects unknown fields and non-finite floats."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)


class FlextEntity(Frozen):
    """Fields every entity has: a unique `id`, a UTC `timestamp` and the `service_name`."""

    id: str = Field(default_factory=new_entity_id, min_length=1)
    timestamp: UtcDatetime = Field(default_factory=utc_now)
    service_name: str | None = None


def describe_validation_error(exc: BaseException, phrase: str) -> str:
    """Turn a validation error into one sentence that starts with the documented error phrase.

    Our own validators already start their message with the phrase ("Invalid metric name: ...");
    other errors (wrong types, unknown fields) are prefixed with `phrase` and the field path.
    """
    if isinstance(exc, PydanticValidationError):
        errors = exc.errors(include_url=False, include_input=False)
        if errors:
            first = errors[0]
            message = str(first.get("msg", "")).removeprefix("Value error, ")
            if message.startswith("Invalid "):
                return message
            location = ".".join(str(part) for part in first.get("loc", ()))
            return f"{phrase}: {location}: {message}" if location else f"{phrase}: {message}"
    try:
        text = str(exc).strip()
    except Exception:  # noqa: BLE001 - a raising __str__ must not escape
        text = type(exc).__name__
    return f"{phrase}: {text or type(exc).__name__}"


def build(cls: type[E], data: dict[str, Any], phrase: str) -> FlextResult[E]:
    """Validate `data` into `cls`, returning a failure (with `phrase`) instead of raising."""
    try:
        return FlextResult[E].ok(cls.model_validate(data))
    except Exception as exc:  # noqa: BLE001 - building an entity never raises
        return FlextResult[E].fail(describe_validation_error(exc, phrase))


def trusted(cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """Build `cls` from `values` WITHOUT validation: for our converters' output only.

    `values` must hold every field of `cls`, already in the form validation would produce
    (sanitised, defaults and derived fields filled in); `fields_set` is what
    `model_validate` would record as set. Nothing is checked here: the converters guarantee
    it, and property tests hold `trusted(...)` equal to `model_validate(...)` field by field.
    About ten times cheaper than validation (and than `model_construct`, which re-derives
    defaults in Python).
    """
    instance = object.__new__(cls)
    _set = object.__setattr__
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", fields_set)
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def rebuild(entity: E, update: dict[str, Any], phrase: str) -> FlextResult[E]:
    """Return a validated copy of `entity` with `update` applied."""
    data = {name: getattr(entity, name) for name in type(entity).model_fields}
    data.update(update)
    return build(type(entity), data, phrase)
