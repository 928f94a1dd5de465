"""Observable-instrument callbacks are time-boxed: a slow one cannot stall a collection.

The SDK runs every observable callback inside each reader's collection, under a lock all
readers share: one callback that hangs (a slow health probe, a network call) would hold up the
store's metrics and every exporter. `time_box(provider)` wraps the callbacks of each observable
instrument the provider registers: a callback runs on the runner thread and the collection waits
for it at most `BUDGET_S` seconds (or half of what is left of the collection's own timeout, if
less: the SDK drops a whole collection that overruns its deadline). Past that the
instrument reports nothing this round, the slow call keeps the runner it was on (a later
collection waits for that call again rather than starting another), and one warning names the
instrument.

One runner thread serves every callback in turn (a hand-off costs two thread switches, where a
thread per call cost a thread start each, every collection). A runner stuck in a slow call is
left to it: the next callback gets a new runner, and the stuck one ends once its call returns.
Our own callbacks (runtime metrics, queue and drop counts, health status: reads of memory and
`/proc`, never a wait) run inline on the collecting thread; only the application's are boxed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation

from flext_observability._internal import fork
from flext_observability._internal.guard import logger
from flext_observability._internal.signals import start_quiet

__all__ = ["BUDGET_S", "runner_threads", "time_box"]

BUDGET_S = 1.0
_THREAD_NAME = "flext-observability-callback"


class _Call:
    """One run of a callback: its outcome, and an event set when it is there."""

    __slots__ = ("done", "fn", "options", "result")

    def __init__(
        self, fn: Callable[[CallbackOptions], Iterable[Observation]], options: CallbackOptions
    ) -> None:
        self.fn = fn
        self.options = options
        self.done = threading.Event()
        self.result: list[Observation] | Exception = []

    def run(self) -> None:
        try:
            self.result = list(self.fn(self.options))
        except Exception as exc:  # noqa: BLE001 - handed to the collecting thread
            self.result = exc
        finally:
            self.done.set()


class _Runner:
    """A daemon thread running calls in turn; `stop()` ends it after what it has queued."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=_THREAD_NAME, daemon=True)
        start_quiet(self._thread)

    def _loop(self) -> None:
        while True:
            call = self._queue.get()
            if call is None:
                return
            call.run()

    def submit(self, call: _Call) -> None:
        self._queue.put(call)

    def stop(self) -> None:
        self._queue.put(None)


_lock = threading.Lock()
_runner: _Runner | None = None


def _current_runner() -> _Runner:
    global _runner  # noqa: PLW0603 - one runner per process, replaced when stuck
    with _lock:
        if _runner is None:
            _runner = _Runner()
        return _runner


def _retire(runner: _Runner) -> None:
    """`runner` is stuck in a slow call: later calls go to a new one; it ends after that call."""
    global _runner  # noqa: PLW0603 - see _current_runner
    with _lock:
        if _runner is runner:
            _runner = None
    runner.stop()


def _after_fork_in_child() -> None:
    global _runner, _lock  # noqa: PLW0603 - the runner thread does not exist in the child
    _lock = threading.Lock()
    _runner = None


fork.register(None, after_in_child=_after_fork_in_child)


def runner_threads() -> int:
    """How many callback runner threads are alive (one, plus one per call still overrunning)."""
    return sum(thread.name == _THREAD_NAME for thread in threading.enumerate())


class _TimeBoxed:
    def __init__(self, fn: Callable[[CallbackOptions], Iterable[Observation]], name: str) -> None:
        self._fn = fn
        self._name = name
        self._lock = threading.Lock()
        self._slow: _Call | None = None  # a call that overran its budget and has not returned
        self._warned = False
        fork.register(self, after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        # The runner thread does not exist in the child: start afresh.
        self._lock = threading.Lock()
        self._slow = None

    def __call__(self, options: CallbackOptions) -> Iterable[Observation]:
        # At most half of what is left of the collection's own timeout: the SDK drops the whole
        # collection once its deadline passes, so a box must leave time for everything after it.
        budget = min(BUDGET_S, max(0.0, options.timeout_millis / 1000) / 2)
        with self._lock:
            call = self._slow
            runner = None
            if call is None or call.done.is_set():
                call = _Call(self._fn, options)
                runner = _current_runner()
                runner.submit(call)
        if not call.done.wait(budget):
            with self._lock:
                self._slow = call
            if runner is not None:
                _retire(runner)
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
            if self._slow is call:
                self._slow = None
        result = call.result
        if isinstance(result, Exception):
            raise result
        return result


def _ours(callback: object) -> bool:
    """Whether `callback` is one of this package's own (they never wait: run inline)."""
    module = getattr(callback, "__module__", None)
    return isinstance(module, str) and (
        module == "flext_observability" or module.startswith("flext_observability.")
    )


def _wrap_instrument(instrument: Any) -> None:
    callbacks = getattr(instrument, "_callbacks", None)
    if isinstance(callbacks, list):
        name = str(getattr(instrument, "name", "?"))
        callbacks[:] = [
            cb if isinstance(cb, _TimeBoxed) or _ours(cb) else _TimeBoxed(cb, name)
            for cb in callbacks
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
