"""A Celery app for the worker tests (broker and result backend: the test's Redis).

`work` does its job in a `task-work` span with the worker process id as `app.pid` and logs one
line inside it; `slow` does the same after a pause, so a test can stop the worker while it runs.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from celery import Celery
from opentelemetry import trace

if os.environ.get("APP_CALLS_SETUP"):
    # An app that sets telemetry up in code: in the worker's main process at import; the
    # prefork children inherit it (our setup survives fork) and get the Celery instrumentation.
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    from flext_observability import setup
    from flext_observability.integrations.celery import FlextCeleryInstrumentor

    setup()
    CeleryInstrumentor().instrument()  # type: ignore[no-untyped-call] # untyped package
    FlextCeleryInstrumentor().instrument()  # pool children flush before they exit

BROKER = os.environ["BROKER_URL"]
app = Celery("celery_tasks", broker=BROKER, backend=BROKER)
app.conf.update(broker_connection_retry_on_startup=True)

_log = logging.getLogger("celery_tasks")
_tracer = trace.get_tracer("celery_tasks")


def _do(kind: str, number: int) -> str:
    pid = str(os.getpid())
    with _tracer.start_as_current_span("task-work") as span:
        span.set_attribute("app.pid", pid)
        span.set_attribute("app.task", f"{kind}-{number}")
        _log.warning("task %s-%s done in %s", kind, number, pid)
    return pid


@app.task  # type: ignore[untyped-decorator] # Celery is untyped
def work(number: int) -> str:
    """A quick task."""
    return _do("work", number)


@app.task  # type: ignore[untyped-decorator] # Celery is untyped
def slow(number: int) -> str:
    """A task that is still running when the worker is told to stop."""
    sys.stdout.write(f"slow {number} started\n")
    sys.stdout.flush()
    time.sleep(2.0)
    return _do("slow", number)
