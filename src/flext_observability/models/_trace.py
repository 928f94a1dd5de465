"""`FlextTrace`: one span, with W3C ids, times, status, attributes and events."""

from __future__ import annotations

import math
import traceback
from datetime import datetime, timedelta
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from flext_observability._internal.text import safe_str
from flext_observability.models._base import FlextEntity, Frozen, build, rebuild
from flext_observability.models._sources import new_span_id, new_trace_id, utc_now
from flext_observability.models._types import (
    Attributes,
    TraceKind,
    TraceStatus,
    UtcDatetime,
    check_hex_id,
    normalize_enum,
)
from flext_observability.result import FlextResult

__all__ = ["FlextTrace", "SpanEvent", "new_span_id", "new_trace_id"]


class SpanEvent(Frozen):
    """A timestamped event inside a span."""

    name: str
    timestamp: UtcDatetime
    attributes: Attributes = Field(default_factory=dict[str, Any])


class FlextTrace(FlextEntity):
    """One span. `id` is always `"<trace_id>-<span_id>"`; `timestamp` defaults to the start.

    `duration_ms` is derived from `start_time` and `end_time`; given alone it sets `end_time`.
    """

    # The defaults below are filled by `_fill_defaults` (which also derives `id`); declaring them
    # lets type checkers accept `FlextTrace(operation_name=...)`.
    trace_id: str = Field(default_factory=new_trace_id)
    span_id: str = Field(default_factory=new_span_id)
    parent_span_id: str | None = None
    operation_name: str
    kind: TraceKind = TraceKind.INTERNAL
    start_time: UtcDatetime = Field(default_factory=utc_now)
    end_time: UtcDatetime | None = None
    duration_ms: float | None = Field(default=None, ge=0)
    status: TraceStatus = TraceStatus.UNSET
    status_message: str = ""
    attributes: Attributes = Field(default_factory=dict[str, Any])
    context: dict[str, str] = Field(default_factory=dict[str, str])
    events: list[SpanEvent] = Field(default_factory=list[SpanEvent])
    scope: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        values: dict[str, Any] = dict(data)  # pyright: ignore[reportUnknownArgumentType]
        if "trace_id" not in values:  # not setdefault: ids are random, draw them only if needed
            values["trace_id"] = new_trace_id()
        if "span_id" not in values:
            values["span_id"] = new_span_id()
        if values.get("start_time") is None:
            values["start_time"] = values.get("timestamp") or utc_now()
        if values.get("timestamp") is None:
            values["timestamp"] = values["start_time"]
        values.setdefault("id", f"{values['trace_id']}-{values['span_id']}")
        return values

    @field_validator("trace_id")
    @classmethod
    def _check_trace_id(cls, value: str) -> str:
        check_hex_id(value, 32, "trace_id", "Invalid trace")
        return value

    @field_validator("span_id")
    @classmethod
    def _check_span_id(cls, value: str) -> str:
        check_hex_id(value, 16, "span_id", "Invalid trace")
        return value

    @field_validator("parent_span_id")
    @classmethod
    def _check_parent(cls, value: str | None) -> str | None:
        return check_hex_id(value, 16, "parent_span_id", "Invalid trace")

    @field_validator("operation_name")
    @classmethod
    def _check_operation(cls, value: str) -> str:
        if not value.strip():
            msg = "Invalid trace: operation_name cannot be empty"
            raise ValueError(msg)
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _check_kind(cls, value: object) -> object:
        return normalize_enum(value, TraceKind, "Invalid trace: kind")

    @field_validator("status", mode="before")
    @classmethod
    def _check_status(cls, value: object) -> object:
        return normalize_enum(value, TraceStatus, "Invalid trace: status")

    @model_validator(mode="after")
    def _check_derived(self) -> Self:
        expected_id = f"{self.trace_id}-{self.span_id}"
        if self.id != expected_id:
            msg = f"Invalid trace: id must be '<trace_id>-<span_id>' ({expected_id})"
            raise ValueError(msg)
        if self.end_time is None and self.duration_ms is not None:
            try:
                end = self.start_time + timedelta(milliseconds=self.duration_ms)
            except OverflowError:
                msg = f"Invalid trace: duration_ms {self.duration_ms} is out of range"
                raise ValueError(msg) from None
            object.__setattr__(self, "end_time", end)
        if self.end_time is not None:
            if self.end_time < self.start_time:
                msg = "Invalid trace: end_time is before start_time"
                raise ValueError(msg)
            derived = (self.end_time - self.start_time) / timedelta(milliseconds=1)
            if self.duration_ms is not None and not math.isclose(
                derived, self.duration_ms, abs_tol=1e-3
            ):
                msg = "Invalid trace: duration_ms does not match end_time - start_time"
                raise ValueError(msg)
            object.__setattr__(self, "duration_ms", derived)
        return self

    @property
    def is_root(self) -> bool:
        """Whether the span has no parent."""
        return self.parent_span_id is None

    @property
    def is_error(self) -> bool:
        """Whether the span's status is `error`."""
        return self.status is TraceStatus.ERROR

    @property
    def is_finished(self) -> bool:
        """Whether the span has an end time."""
        return self.end_time is not None

    def finish(
        self,
        status: TraceStatus | str = "ok",
        error: BaseException | str | None = None,
        end_time: datetime | None = None,
    ) -> FlextResult[FlextTrace]:
        """Return the finished span; an `error` sets status `error` and adds an exception event."""
        if self.end_time is not None:
            return FlextResult[FlextTrace].fail("Invalid trace: span is already finished")
        # The clock may step back between start and finish: clamp the default end time to the
        # start. An explicit `end_time` before the start is an error (reported by validation).
        end = end_time if end_time is not None else max(utc_now(), self.start_time)
        update: dict[str, Any] = {"end_time": end, "duration_ms": None}
        if error is not None:
            update["status"] = TraceStatus.ERROR
            update["status_message"] = error_text(error)
            update["events"] = [*self.events, _exception_event(error, end)]
        else:
            update["status"] = status
        return rebuild(self, update, "Invalid trace")

    def child(
        self,
        operation_name: str,
        *,
        kind: TraceKind | str = TraceKind.INTERNAL,
        attributes: dict[str, Any] | None = None,
        start_time: datetime | None = None,
    ) -> FlextResult[FlextTrace]:
        """Return a new span in the same trace whose parent is this span."""
        data: dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": new_span_id(),
            "parent_span_id": self.span_id,
            "operation_name": operation_name,
            "service_name": self.service_name,
            "kind": kind,
            "context": dict(self.context),
            "attributes": attributes or {},
            "scope": self.scope,
            "start_time": start_time,
        }
        return build(FlextTrace, data, "Invalid trace")


def error_text(error: BaseException | str) -> str:
    """Describe an error as `Type: message` without ever raising."""
    if isinstance(error, str):
        return error
    text = safe_str(error, fallback="")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _qualified_name(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _exception_event(error: BaseException | str, at: datetime) -> SpanEvent:
    attrs: dict[str, Any]
    if isinstance(error, str):
        attrs = {"exception.message": error}
    else:
        # OTel semantic conventions (and the SDK's record_exception): the message is str(exc).
        attrs = {
            "exception.type": _qualified_name(type(error)),
            "exception.message": safe_str(error, fallback=""),
            "exception.stacktrace": "".join(traceback.format_exception(error)),
        }
    return SpanEvent(name="exception", timestamp=at, attributes=attrs)
