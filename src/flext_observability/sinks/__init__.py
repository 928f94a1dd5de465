"""Entity sinks: where converted, redacted entities are delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flext_observability._internal.exports import lazy_exports
from flext_observability.models import Entity
from flext_observability.sinks._base import Sink
from flext_observability.sinks.callback import CallbackSink
from flext_observability.sinks.memory import MemorySink
from flext_observability.sinks.store import STORE_KINDS, SQLiteStore

if TYPE_CHECKING:
    from flext_observability.sinks.alertmanager import AlertmanagerSink
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

# The HTTP sinks (http.client, urllib.request) load on first use.
_LAZY = {
    "AlertmanagerSink": "flext_observability.sinks.alertmanager",
    "WebhookSink": "flext_observability.sinks.webhook",
}
__getattr__, __dir__ = lazy_exports(globals(), __all__, _LAZY)
