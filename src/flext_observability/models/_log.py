"""`FlextLogEntry`: one log record."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from flext_observability.models._base import FlextEntity, Frozen
from flext_observability.models._types import Attributes, LogLevel, check_hex_id, level_before

__all__ = ["ExceptionInfo", "FlextLogEntry"]


class ExceptionInfo(Frozen):
    """The exception attached to a log record."""

    type: str
    message: str = ""
    stacktrace: str = ""


class FlextLogEntry(FlextEntity):
    """One log record, correlated with the active span when there was one.

    `message` may be empty only when the entry was mapped from a record with an empty body; the
    simple API refuses an empty message.
    """

    level: LogLevel = LogLevel.INFO
    message: str
    logger_name: str = ""
    context: Attributes = Field(default_factory=dict[str, Any])
    correlation_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    exception: ExceptionInfo | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _check_level(cls, value: object) -> object:
        return level_before(value)

    @field_validator("trace_id")
    @classmethod
    def _check_trace_id(cls, value: str | None) -> str | None:
        return check_hex_id(value, 32, "trace_id", "Invalid log entry")

    @field_validator("span_id")
    @classmethod
    def _check_span_id(cls, value: str | None) -> str | None:
        return check_hex_id(value, 16, "span_id", "Invalid log entry")
