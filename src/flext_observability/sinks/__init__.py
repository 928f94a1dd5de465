"""Entity sinks: where converted, redacted entities are delivered."""

from __future__ import annotations

from flext_observability._internal.exports import publish
from flext_observability.models import Entity
from flext_observability.sinks._base import Sink
from flext_observability.sinks.alertmanager import AlertmanagerSink
from flext_observability.sinks.callback import CallbackSink
from flext_observability.sinks.memory import MemorySink
from flext_observability.sinks.store import STORE_KINDS, SQLiteStore
from flext_observability.sinks.webhook import WebhookSink

__all__ = [
    "STORE_KINDS",
    "AlertmanagerSink",
    "CallbackSink",
    "Entity",
    "MemorySink",
    "SQLiteStore",
    "Sink",
    "WebhookSink",
]

publish(globals(), __all__)
