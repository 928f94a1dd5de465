"""`MemorySink`: keeps entities in memory, in arrival order (tests, the CLI demo, debugging)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from typing import TypeVar

from flext_observability.exceptions import ConfigurationError
from flext_observability.models import Entity

__all__ = ["MemorySink"]

E = TypeVar("E", bound=Entity)


class MemorySink:
    """Thread-safe in-memory sink.

    With `max_items` set the sink is bounded: when full, the oldest entities are dropped to make
    room and counted in `dropped`. After `close()` further writes are ignored (and counted).
    """

    def __init__(self, max_items: int | None = None) -> None:
        """Create an empty sink holding at most `max_items` entities (None: unbounded)."""
        if max_items is not None and (isinstance(max_items, bool) or max_items < 1):
            raise ConfigurationError(
                f"MemorySink max_items: expected a positive integer or None, got {max_items!r}"
            )
        self._lock = threading.Lock()
        self._items: deque[Entity] = deque(maxlen=max_items)
        self._max_items = max_items
        self._dropped = 0
        self._closed = False

    @property
    def max_items(self) -> int | None:
        """The bound, or None when unbounded."""
        return self._max_items

    @property
    def dropped(self) -> int:
        """How many entities were evicted (bound reached) or refused (sink closed)."""
        with self._lock:
            return self._dropped

    @property
    def entities(self) -> list[Entity]:
        """A snapshot of the kept entities, oldest first."""
        with self._lock:
            return list(self._items)

    def of_type(self, kind: type[E]) -> list[E]:
        """Return the kept entities that are instances of `kind`, oldest first."""
        with self._lock:
            return [item for item in self._items if isinstance(item, kind)]

    def clear(self) -> None:
        """Forget every kept entity and reset the drop count."""
        with self._lock:
            self._items.clear()
            self._dropped = 0

    def __len__(self) -> int:
        """Return how many entities are kept."""
        with self._lock:
            return len(self._items)

    def write(self, entities: Sequence[Entity]) -> None:
        """Append a batch; evict (and count) the oldest entities when the bound is reached."""
        with self._lock:
            if self._closed:
                self._dropped += len(entities)
                return
            if self._max_items is not None:
                overflow = len(self._items) + len(entities) - self._max_items
                self._dropped += max(0, overflow)
            self._items.extend(entities)

    def flush(self, timeout: float | None = None) -> bool:  # noqa: ARG002 - protocol signature
        """Return True: writes are synchronous."""
        return True

    def close(self, timeout: float | None = None) -> None:  # noqa: ARG002 - protocol signature
        """Stop accepting entities; the kept ones stay readable."""
        with self._lock:
            self._closed = True
