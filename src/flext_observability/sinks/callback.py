"""`CallbackSink`: hands each entity to a user function, optionally filtered by entity type."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from flext_observability._internal.guard import guard
from flext_observability.exceptions import ConfigurationError
from flext_observability.models import Entity

__all__ = ["CallbackSink"]

_GUARD = guard("sinks.callback")


class CallbackSink:
    """Call `fn(entity)` for every entity of the wanted kinds, on the pipeline worker thread.

    `kinds` is an entity class or an iterable of them (None: every entity). An exception raised
    by `fn` is reported through the internal-error guard (logged once, then counted in `errors`)
    and never propagates; the rest of the batch is still delivered. In strict mode it is
    re-raised, like every internal error. After `close()` entities are ignored.
    """

    def __init__(
        self,
        fn: Callable[[Entity], object],
        *,
        kinds: type[Entity] | Iterable[type[Entity]] | None = None,
    ) -> None:
        """Wrap `fn`; see the class docstring for `kinds`."""
        if not callable(fn):
            raise ConfigurationError(
                f"CallbackSink fn: expected a callable, got {type(fn).__name__}"
            )
        self._fn = fn
        self._kinds = _normalize_kinds(kinds)
        self._lock = threading.Lock()
        self._errors = 0
        self._closed = False

    @property
    def kinds(self) -> tuple[type[Entity], ...] | None:
        """The entity classes delivered, or None for all."""
        return self._kinds

    @property
    def errors(self) -> int:
        """How many calls of `fn` raised."""
        with self._lock:
            return self._errors

    def write(self, entities: Sequence[Entity]) -> None:
        """Call `fn` for each wanted entity of the batch, in order."""
        if self._closed:
            return
        for entity in entities:
            if self._kinds is not None and not isinstance(entity, self._kinds):
                continue
            with _GUARD:
                try:
                    self._fn(entity)
                except Exception:
                    with self._lock:
                        self._errors += 1
                    raise

    def flush(self, timeout: float | None = None) -> bool:  # noqa: ARG002 - protocol signature
        """Return True: calls are synchronous."""
        return True

    def close(self, timeout: float | None = None) -> None:  # noqa: ARG002 - protocol signature
        """Stop calling `fn`."""
        self._closed = True


def _normalize_kinds(
    kinds: type[Entity] | Iterable[type[Entity]] | None,
) -> tuple[type[Entity], ...] | None:
    if kinds is None:
        return None
    try:
        wanted = (kinds,) if isinstance(kinds, type) else tuple(kinds)
    except TypeError:
        wanted = ()
    if not wanted or not all(isinstance(kind, type) for kind in wanted):
        raise ConfigurationError(
            f"CallbackSink kinds: expected an entity class or a non-empty iterable of them, "
            f"got {kinds!r}"
        )
    return wanted
