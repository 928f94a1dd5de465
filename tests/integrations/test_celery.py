"""A Celery prefork worker with a real Redis broker (`redis-server`, started by the test).

A producer sends 24 quick tasks (each from a `produce` span) and 2 slow ones; the worker (2
prefork children, recycled every 5 tasks by `--max-tasks-per-child`) runs them; it gets SIGTERM
(warm shutdown) while the slow ones run. Every task must be in the worker's store once: a
consumer span continuing the producer's span (another process, another store), our `task-work`
span below it with the task's log record inside; the recycled children's and the warm-shutdown
tasks' telemetry included; the worker exits cleanly within the bound.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _served import APPS, EXIT_BOUND_S, RedisServer, Served, pid_of, read_telemetry

pytestmark = pytest.mark.slow

QUICK, SLOW = 24, 2


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server for this test only."""
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.mark.parametrize("mode", ["instrument", "setup"])
def test_celery_tasks_continue_the_producer_trace_and_are_all_delivered(
    tmp_path: Path, redis: RedisServer, mode: str
) -> None:
    """Producer span -> task spans in one trace; recycled and warm-shutdown tasks delivered."""
    env = {"BROKER_URL": redis.url}
    if mode == "setup":
        env["APP_CALLS_SETUP"] = "1"
    instrument = mode == "instrument"
    worker = Served(
        tmp_path,
        [
            "celery",
            "-A",
            "celery_tasks",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--max-tasks-per-child",
            "5",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        name="worker",
        env=env,
        instrument=instrument,
    )
    try:
        worker.wait_output("ready.")
        producer = Served(
            tmp_path,
            [sys.executable, str(APPS / "celery_producer.py"), str(QUICK), str(SLOW)],
            name="producer",
            env=env,
            instrument=instrument,
        )
        assert producer.wait_exit(120) == 0, producer.output[-3000:]
        worker.wait_output("slow 0 started")
        worker.wait_output("slow 1 started")
    finally:
        code = worker.stop()
    assert code == 0, worker.output[-4000:]
    assert worker.exit_seconds is not None
    assert worker.exit_seconds < EXIT_BOUND_S

    sent = read_telemetry(producer.store)
    ran = read_telemetry(worker.store)
    ran.assert_each_once()
    sent.assert_each_once()
    publishes = {s.trace_id: s for s in sent.spans if s.kind.value == "producer"}
    produced = sent.named("produce")
    assert len(produced) == QUICK + SLOW
    work = ran.named("task-work")
    assert sorted(str(s.attributes["app.task"]) for s in work) == sorted(
        str(s.attributes["app.task"]) for s in produced
    )
    for span in work:
        consumer = ran.parent_of(span)
        assert consumer.kind.value == "consumer"
        publish = publishes[span.trace_id]
        assert consumer.parent_span_id == publish.span_id
        (origin,) = [s for s in produced if s.trace_id == span.trace_id]
        assert publish.parent_span_id == origin.span_id
        assert origin.attributes["app.task"] == span.attributes["app.task"]
        (log,) = [e for e in ran.logs_saying("task ") if e.trace_id == span.trace_id]
        ran.assert_logged_in(log, span)
    # 26 tasks, 5 per child: at least 6 children ran them (recycled ones delivered too)
    assert len({pid_of(s) for s in work}) >= 6
