"""Sends Celery tasks (each from inside a `produce` span) and waits for the quick ones' results.

Usage: `python celery_producer.py QUICK SLOW`: QUICK `work` tasks whose results it waits for,
then SLOW `slow` tasks it only sends.
"""

from __future__ import annotations

import sys

from celery_tasks import slow, work
from opentelemetry import trace

if __name__ == "__main__":
    quick_count, slow_count = int(sys.argv[1]), int(sys.argv[2])
    tracer = trace.get_tracer("celery_producer")
    results = []
    for number in range(quick_count):
        with tracer.start_as_current_span("produce") as span:
            span.set_attribute("app.task", f"work-{number}")
            results.append(work.delay(number))
    pids = {result.get(timeout=60) for result in results}
    for number in range(slow_count):
        with tracer.start_as_current_span("produce") as span:
            span.set_attribute("app.task", f"slow-{number}")
            slow.delay(number)
    sys.stdout.write(f"quick tasks ran in {len(pids)} processes\n")
