"""Observable-instrument callbacks are time-boxed: a slow one cannot stall a collection.

The SDK runs every observable callback inside each reader's collection, under a lock all
readers share: one callback that hangs (a slow health probe, a network call) would hold up the
store's metrics and every exporter. `time_box(provider)` wraps the callbacks of each observable
instrument the provider registers: a callback runs on a helper thread and the collection waits
for it at most `BUDGET_S` seconds (or the collection's own timeout, if shorter). Past that the
instrument reports nothing this round, the slow call keeps its one thread (a later collection
joins it rather than starting another), and one warning names the instrument.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation

from flext_observability._internal import fork
from flext_observability._internal.guard import logger

__all__ = ["BUDGET_S", "time_box"]

BUDGET_S = 1.0


class _TimeBoxed:
    def __init__(self, fn: Callable[[CallbackOptions], Iterable[Observation]], name: str) -> None:
        self._fn = fn
        self._name = name
        self._lock = threading.Lock()
        self._done: threading.Event | None = None
        self._result: list[Observation] | Exception = []
        self._warned = False
        fork.register(self, after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        # The helper thread does not exist in the child: start afresh.
        self._lock = threading.Lock()
        self._done = None

    def _run(self, options: CallbackOptions, done: threading.Event) -> None:
        try:
            self._result = list(self._fn(options))
        except Exception as exc:  # noqa: BLE001 - handed to the collecting thread
            self._result = exc
        finally:
            done.set()

    def __call__(self, options: CallbackOptions) -> Iterable[Observation]:
        budget = min(BUDGET_S, max(0.0, options.timeout_millis / 1000))
        with self._lock:
            done = self._done
            if done is None or done.is_set():
                done = threading.Event()
                self._done = done
                threading.Thread(
                    target=self._run,
                    args=(options, done),
                    name="flext-observability-callback",
                    daemon=True,
                ).start()
        if not done.wait(budget):
            if not self._warned:
                self._warned = True
                logger.warning(
                    "flext-observability: the callback of observable instrument %r took longer "
                    "than %.1f s; it reports nothing until it returns (collection goes on)",
                    self._name,
                    budget,
                )
            return []
        with self._lock:
            if self._done is done:
                self._done = None
        result = self._result
        if isinstance(result, Exception):
            raise result
        return result


def _wrap_instrument(instrument: Any) -> None:
    callbacks = getattr(instrument, "_callbacks", None)
    if isinstance(callbacks, list):
        name = str(getattr(instrument, "name", "?"))
        callbacks[:] = [
            cb if isinstance(cb, _TimeBoxed) else _TimeBoxed(cb, name) for cb in callbacks
        ]


def time_box(provider: Any) -> bool:
    """Time-box the callbacks of every observable instrument `provider` registers (ours only)."""
    consumer = getattr(provider, "_measurement_consumer", None)
    register = getattr(consumer, "register_asynchronous_instrument", None)
    if register is None:
        return False

    def register_time_boxed(instrument: Any) -> None:
        _wrap_instrument(instrument)
        register(instrument)

    consumer.register_asynchronous_instrument = register_time_boxed  # type: ignore[union-attr]
    return True
