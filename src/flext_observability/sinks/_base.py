"""The `Sink` protocol: where entities go after conversion and redaction.

Sinks are called on the pipeline's worker thread (never the application thread), with a batch of
entities at a time. A sink must not raise out of `write`; the pipeline guards it anyway and
counts a failing batch as dropped with reason `sink_error`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from flext_observability.models import Entity

__all__ = ["Sink"]


@runtime_checkable
class Sink(Protocol):
    """Receives batches of entities on the worker thread."""

    def write(self, entities: Sequence[Entity]) -> None:
        """Deliver a batch (may contain any mix of entity kinds)."""
        ...

    def flush(self, timeout: float | None = None) -> bool:
        """Finish pending work within `timeout` seconds; return False if it expired."""
        ...

    def close(self, timeout: float | None = None) -> None:
        """Release resources; later writes are ignored."""
        ...
