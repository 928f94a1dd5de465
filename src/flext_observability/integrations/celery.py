"""Celery: prefork pool children deliver their telemetry before they exit.

A prefork child leaves through `os._exit()` (billiard), which skips `atexit` and the
`multiprocessing` finalizers, so a child recycled by `--max-tasks-per-child` (or stopped at warm
shutdown) would lose everything recorded since its last export. Celery sends the
`worker_process_shutdown` signal in the child just before that exit: this instrumentor connects
it to our `shutdown()` (bounded by the configured deadline).

Celery's worker also empties the root logger's handlers when it sets up logging
(`worker_hijack_root_logger`, on by default), which took our logging bridge off: the
`after_setup_logger` hook puts it back, so task logs keep reaching the store and exporters.

Producer/consumer spans and context propagation come from the official
`opentelemetry-instrumentation-celery`; this module only adds the exit hook.
`opentelemetry-instrument` loads it through the `flext_celery` instrumentor entry point when
Celery is installed; an app that calls `setup()` itself calls
`FlextCeleryInstrumentor().instrument()` once, next to `CeleryInstrumentor().instrument()`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from flext_observability._internal import logging_config
from flext_observability._internal.guard import guard
from flext_observability._internal.setup import shutdown

__all__ = ["FlextCeleryInstrumentor"]


@guard("celery.worker_process_shutdown", reraise=False)  # the child's exit must go on
def _on_process_shutdown(**_kwargs: Any) -> None:
    """The child is about to `os._exit()`: flush and stop telemetry within the deadline."""
    shutdown()


@guard("celery.after_setup_logger", reraise=False)  # the worker's start must go on
def _on_logging_set_up(**_kwargs: Any) -> None:
    """Celery reset the root handlers: put our logging bridge back."""
    logging_config.reattach()


class FlextCeleryInstrumentor(BaseInstrumentor):  # type: ignore[misc] # BaseInstrumentor is untyped
    """Connects `worker_process_shutdown` to `shutdown()`, `after_setup_logger` to the bridge."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """Celery (versions tested: see the README's compatibility table)."""
        return ("celery >= 5.3",)

    def _instrument(self, **kwargs: Any) -> None:  # noqa: ARG002 - BaseInstrumentor signature
        from celery import signals  # noqa: PLC0415 - only when Celery is in use

        signals.worker_process_shutdown.connect(_on_process_shutdown, weak=False)
        signals.after_setup_logger.connect(_on_logging_set_up, weak=False)

    def _uninstrument(self, **kwargs: Any) -> None:  # noqa: ARG002 - BaseInstrumentor signature
        from celery import signals  # noqa: PLC0415 - only when Celery is in use

        signals.worker_process_shutdown.disconnect(_on_process_shutdown)
        signals.after_setup_logger.disconnect(_on_logging_set_up)
