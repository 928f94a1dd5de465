"""Entity sinks: where converted, redacted entities are delivered."""

from __future__ import annotations

from flext_observability.sinks._base import Entity, Sink

__all__ = ["Entity", "Sink"]
