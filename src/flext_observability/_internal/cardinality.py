"""A cardinality limit for metric streams (2000 series per instrument, then an overflow series).

The OpenTelemetry metrics specification bounds each metric stream to a number of attribute sets
(default 2000) and folds measurements for new attribute sets beyond it into one overflow series
with the attribute `otel.metric.overflow=true`, so that the sum of all series stays exact while
memory stays bounded. The Python SDK (1.45) has no limit at all: every new attribute set keeps a
new aggregation forever. `install()` adds the limit to the SDK's per-stream aggregation step,
process-wide and once; it costs one `len()` per measurement until a stream is full.

This relies on a private SDK class (`_ViewInstrumentMatch`); when the SDK no longer has it,
`install()` leaves the SDK alone and says so once.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from flext_observability._internal.guard import logger

__all__ = ["DEFAULT_LIMIT", "OVERFLOW_ATTRIBUTES", "count_overflow", "install", "overflowed"]

DEFAULT_LIMIT = 2000
OVERFLOW_ATTRIBUTES = {"otel.metric.overflow": True}

_lock = threading.Lock()
_installed = False
_overflowed = 0


def overflowed() -> int:
    """How many measurements went to an overflow series so far."""
    return _overflowed


def install(limit: int = DEFAULT_LIMIT) -> bool:
    """Bound every metric stream to `limit` series (the last one being the overflow series)."""
    global _installed  # noqa: PLW0603 - one process-wide patch
    with _lock:
        if _installed:
            return True
        try:
            from opentelemetry.sdk.metrics._internal import (  # noqa: PLC0415 - private, guarded
                _view_instrument_match as vim,
            )

            match_class: Any = vim._ViewInstrumentMatch  # noqa: SLF001
            hash_attributes: Any = vim._hash_attributes  # noqa: SLF001
            original = match_class.consume_measurement
        except (ImportError, AttributeError):
            logger.info("flext-observability: this SDK has no hook for a cardinality limit")
            return False
        overflow_key = hash_attributes(OVERFLOW_ATTRIBUTES)

        def consume_measurement(
            self: Any,
            measurement: Any,
            should_sample_exemplar: bool = True,  # noqa: FBT001, FBT002 - the SDK's signature
        ) -> None:
            aggregations = self._attributes_aggregation
            if len(aggregations) >= limit - 1 and measurement.attributes:
                attributes = dict(measurement.attributes)
                keys = self._view._attribute_keys  # noqa: SLF001 - the view's key filter
                if keys is not None:
                    attributes = {k: v for k, v in attributes.items() if k in keys}
                key = hash_attributes(attributes)
                if key not in aggregations and (
                    len(aggregations) >= limit or overflow_key not in aggregations
                ):
                    count_overflow(limit)
                    measurement = dataclasses.replace(
                        measurement, attributes=dict(OVERFLOW_ATTRIBUTES)
                    )
            original(self, measurement, should_sample_exemplar)

        match_class.consume_measurement = consume_measurement
        _installed = True
        return True


def count_overflow(limit: int) -> None:
    """Count one measurement folded into an overflow series; say so the first time."""
    global _overflowed  # noqa: PLW0603 - a process-wide counter
    with _lock:
        _overflowed += 1
        first = _overflowed == 1
    if first:
        logger.warning(
            "flext-observability: a metric exceeded %d attribute sets; further new sets are "
            "recorded in the otel.metric.overflow=true series",
            limit,
        )
