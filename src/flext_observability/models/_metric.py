"""`FlextMetric`: one metric data point."""

from __future__ import annotations

import itertools
import math
import re
from decimal import Decimal
from typing import Any, Self

from pydantic import Field, ValidationInfo, field_serializer, field_validator, model_validator

from flext_observability.models._base import FlextEntity, Frozen
from flext_observability.models._types import Attributes, MetricType, UtcDatetime, normalize_enum

__all__ = ["FlextMetric", "HistogramData", "check_metric_name", "check_metric_value"]

_METRIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,254}")


def check_metric_name(value: object) -> str:
    """Return a valid OpenTelemetry instrument name, or raise with "Invalid metric name"."""
    if not isinstance(value, str):
        msg = f"Invalid metric name: name must be a string, got {type(value).__name__}"
        raise ValueError(msg)  # noqa: TRY004 - pydantic wants ValueError, not TypeError
    if not value.strip():
        msg = "Invalid metric name: name cannot be empty"
        raise ValueError(msg)
    if not _METRIC_NAME.fullmatch(value):
        msg = (
            f"Invalid metric name: {value[:80]!r} does not match the OpenTelemetry "
            "instrument-name syntax (a letter, then up to 254 of A-Z a-z 0-9 _ . / -)"
        )
        raise ValueError(msg)
    return value


def check_metric_value(value: object, *, json_mode: bool = False) -> float | int | Decimal:
    """Return a finite metric value, or raise with "Invalid metric value".

    Ints, floats and Decimals keep their type; other real numbers become floats. A string is
    accepted only when reading JSON, where it is how a Decimal is written.
    """
    result: float | int | Decimal
    if isinstance(value, bool):
        msg = "Invalid metric value: expected a finite number, got bool"
        raise ValueError(msg)  # noqa: TRY004 - pydantic wants ValueError
    if isinstance(value, int | float | Decimal):
        result = value
    elif isinstance(value, str) and json_mode:
        try:
            result = Decimal(value)
        except ArithmeticError:
            msg = f"Invalid metric value: {value[:40]!r} is not a number"
            raise ValueError(msg) from None
    elif hasattr(value, "__float__") and not isinstance(value, str | bytes):
        try:
            result = float(value)  # guarded by the hasattr above
        except Exception:  # noqa: BLE001 - user numbers may raise anything
            msg = "Invalid metric value: the number could not be converted to float"
            raise ValueError(msg) from None
    else:
        msg = f"Invalid metric value: expected a finite number, got {type(value).__name__}"
        raise ValueError(msg)
    # An int is always finite (and may be too large for math.isfinite's float conversion).
    if isinstance(result, Decimal):
        finite = result.is_finite()
    else:
        finite = isinstance(result, int) or math.isfinite(result)
    if not finite:
        msg = f"Invalid metric value: value must be finite, got {result}"
        raise ValueError(msg)
    return result


class HistogramData(Frozen):
    """The buckets of a histogram point (explicit bounds; exponential ones summarised)."""

    count: int = Field(ge=0)
    sum: float
    min: float | None = None
    max: float | None = None
    bounds: list[float] = Field(default_factory=list[float])
    bucket_counts: list[int] = Field(default_factory=list[int])

    @model_validator(mode="after")
    def _buckets_match_bounds(self) -> Self:
        # The invariants of an OTel HistogramDataPoint; exponential histograms leave both lists
        # empty and keep only count/sum/min/max.
        problem = ""
        if self.bucket_counts and len(self.bucket_counts) != len(self.bounds) + 1:
            problem = (
                f"needs len(bounds) + 1 bucket counts, got {len(self.bucket_counts)} for "
                f"{len(self.bounds)} bounds"
            )
        elif any(count < 0 for count in self.bucket_counts):
            problem = "bucket counts cannot be negative"
        elif self.bucket_counts and sum(self.bucket_counts) != self.count:
            problem = f"bucket counts add up to {sum(self.bucket_counts)}, not count {self.count}"
        elif any(low >= high for low, high in itertools.pairwise(self.bounds)):
            problem = "bounds must be strictly increasing"
        elif self.min is not None and self.max is not None and self.min > self.max:
            problem = f"min {self.min} is greater than max {self.max}"
        if problem:
            msg = f"Invalid metric value: a histogram {problem}"
            raise ValueError(msg)
        return self


class FlextMetric(FlextEntity):
    """One metric data point; for a histogram point `value` is the sum."""

    name: str
    value: float | int | Decimal
    unit: str = ""
    tags: Attributes = Field(default_factory=dict[str, Any])
    metric_type: MetricType = MetricType.GAUGE
    start_time: UtcDatetime | None = None
    histogram: HistogramData | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _check_name(cls, value: object) -> str:
        return check_metric_name(value)

    @field_validator("value", mode="plain")
    @classmethod
    def _check_value(cls, value: object, info: ValidationInfo) -> float | int | Decimal:
        return check_metric_value(value, json_mode=info.mode == "json")

    @field_validator("metric_type", mode="before")
    @classmethod
    def _check_type(cls, value: object) -> object:
        return normalize_enum(value, MetricType, "Invalid metric type")

    @field_serializer("value", when_used="json")
    def _dump_value(self, value: float | Decimal) -> Any:
        # A Decimal is written as a string so that it reads back as the same Decimal.
        return str(value) if isinstance(value, Decimal) else value

    @model_validator(mode="after")
    def _histogram_consistent(self) -> Self:
        if self.histogram is not None:
            if self.metric_type is not MetricType.HISTOGRAM:
                msg = "Invalid metric value: histogram data needs metric_type 'histogram'"
                raise ValueError(msg)
            try:
                as_float = float(self.value)
            except OverflowError:
                as_float = math.inf
            if not math.isclose(as_float, self.histogram.sum, rel_tol=1e-9):
                msg = "Invalid metric value: a histogram point's value must be its sum"
                raise ValueError(msg)
        return self
