"""The health registry: registration, time-boxed runs, async checks, scheduling and fork."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from flext_observability._internal import guard as _guard
from flext_observability.exceptions import ConfigurationError
from flext_observability.health import HealthRegistry
from flext_observability.models import FlextHealthCheck, HealthStatus
from flext_observability.testing import FakeClock

WAIT = 5.0  # generous upper bound for anything that should happen "soon"


class Collector:
    """Thread-safe list of results, with a wait for a count."""

    def __init__(self) -> None:
        """Start empty."""
        self.results: list[FlextHealthCheck] = []
        self._cond = threading.Condition()

    def __call__(self, result: FlextHealthCheck) -> None:
        """Record one result."""
        with self._cond:
            self.results.append(result)
            self._cond.notify_all()

    def wait_for(self, count: int) -> list[FlextHealthCheck]:
        """Wait until `count` results arrived; return them all."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.results) >= count, timeout=WAIT)
            return list(self.results)


@pytest.fixture
def gate() -> threading.Event:
    """An event hung checks wait on; released at teardown."""
    return threading.Event()


@pytest.fixture
def collector() -> Collector:
    """Collects every result the registry reports."""
    return Collector()


@pytest.fixture
def registry(gate: threading.Event, collector: Collector) -> Iterator[HealthRegistry]:
    """A registry whose threads are all stopped at teardown (hung checks released first)."""
    reg = HealthRegistry(on_result=collector, service_name="svc", default_timeout=2.0)
    yield reg
    gate.set()
    assert reg.stop(WAIT)


def test_register_validates_its_arguments(registry: HealthRegistry) -> None:
    """Bad names, callables, timeouts and intervals raise ConfigurationError naming the field."""
    with pytest.raises(ConfigurationError, match="name must be a non-empty string"):
        registry.register("  ", lambda: True)
    with pytest.raises(ConfigurationError, match="'db': expected a callable, got int"):
        registry.register("db", 3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"'db': timeout must be a positive number.*-1"):
        registry.register("db", lambda: True, timeout=-1)
    with pytest.raises(ConfigurationError, match=r"'db': interval must be a positive .*nan"):
        registry.register("db", lambda: True, interval=float("nan"))
    with pytest.raises(ConfigurationError, match=r"timeout must be a positive number .* bool"):
        registry.register("db", lambda: True, timeout=True)
    with pytest.raises(ConfigurationError, match="default_timeout"):
        HealthRegistry(default_timeout=0)
    assert registry.names == []


def test_decorator_forms_register_checks(registry: HealthRegistry) -> None:
    """`@check`, `@check()` and `@check("name", critical=False)` register and return it."""

    @registry.check
    def bare() -> bool:
        return True

    @registry.check()
    def called() -> str:
        return "degraded"

    @registry.check("named", timeout=1.0, critical=False)
    def anything() -> None:
        return None

    @registry.check(name="keyword", interval=5.0)
    async def by_keyword() -> bool:
        return False

    assert bare() is True
    assert called() == "degraded"
    assert registry.names == ["bare", "called", "named", "keyword"]
    assert [registry.is_critical(n) for n in registry.names] == [True, True, False, True]
    assert {r.name: r.status for r in registry.run_all()} == {
        "bare": HealthStatus.HEALTHY,
        "called": HealthStatus.DEGRADED,
        "named": HealthStatus.HEALTHY,
        "keyword": HealthStatus.UNHEALTHY,
    }


def test_run_returns_and_reports_a_result(registry: HealthRegistry, collector: Collector) -> None:
    """`run` returns the normalised result, caches it and passes it to `on_result`."""
    registry.register("db", lambda: ("degraded", "replica lag"))
    result = registry.run("db")
    assert (result.name, result.status, result.message, result.service_name) == (
        "db",
        HealthStatus.DEGRADED,
        "replica lag",
        "svc",
    )
    assert result.duration_ms is not None
    assert result.duration_ms >= 0
    assert registry.latest() == {"db": result}
    assert collector.wait_for(1) == [result]
    with pytest.raises(KeyError):
        registry.run("missing")


def test_a_raising_check_affects_only_itself(registry: HealthRegistry) -> None:
    """One check raising is unhealthy with its exception; the others report normally."""

    def broken() -> bool:
        raise ConnectionError("refused")

    registry.register("broken", broken, critical=False)
    registry.register("fine", lambda: True)
    results = {r.name: (r.status, r.message) for r in registry.run_all()}
    assert results == {
        "broken": (HealthStatus.UNHEALTHY, "ConnectionError: refused"),
        "fine": (HealthStatus.HEALTHY, ""),
    }
    assert registry.overall() is HealthStatus.DEGRADED
    assert registry.is_ready()


def test_a_hung_check_times_out_without_blocking_others(
    registry: HealthRegistry, gate: threading.Event
) -> None:
    """A hung check is unhealthy "timed out" while the others still report."""
    registry.register("hung", gate.wait, timeout=0.2)
    registry.register("fine", lambda: True)
    results = {r.name: (r.status, r.message) for r in registry.run_all()}
    assert results == {
        "hung": (HealthStatus.UNHEALTHY, "timed out after 0.2s"),
        "fine": (HealthStatus.HEALTHY, ""),
    }
    assert registry.overall() is HealthStatus.UNHEALTHY
    assert not registry.is_ready()
    assert registry.latest()["hung"].details == {"timeout_s": 0.2}


def test_a_hung_check_is_not_started_again_while_it_runs(
    registry: HealthRegistry, gate: threading.Event
) -> None:
    """Re-running a still-hung check reports it at once and starts no new thread."""
    calls: list[int] = []

    def hung() -> None:
        calls.append(1)
        gate.wait()

    registry.register("hung", hung, timeout=0.1)
    assert registry.run("hung").message == "timed out after 0.1s"
    threads = registry._pool.thread_count
    for _ in range(5):
        again = registry.run("hung")
        assert (again.status, again.message) == (
            HealthStatus.UNHEALTHY,
            "timed out after 0.1s (previous run still running)",
        )
    assert registry._pool.thread_count == threads
    assert calls == [1]
    gate.set()
    assert registry._wait_idle(WAIT)
    assert registry.run("hung").status is HealthStatus.HEALTHY  # gate.wait() returned True
    assert calls == [1, 1]


def test_a_late_result_after_a_timeout_is_discarded(
    registry: HealthRegistry, collector: Collector
) -> None:
    """A check that returns after its timeout keeps the timed-out result until its next run."""
    release = threading.Event()
    returned = threading.Event()

    def slow() -> bool:
        release.wait(WAIT)
        returned.set()
        return True

    registry.register("slow", slow, timeout=0.1)
    assert registry.run("slow").status is HealthStatus.UNHEALTHY
    release.set()
    assert returned.wait(WAIT)
    assert registry._wait_idle(WAIT)
    assert registry.latest()["slow"].message == "timed out after 0.1s"
    assert registry.run("slow").status is HealthStatus.HEALTHY
    assert [r.status for r in collector.wait_for(2)] == [
        HealthStatus.UNHEALTHY,
        HealthStatus.HEALTHY,
    ]


def test_async_checks_are_awaited(registry: HealthRegistry) -> None:
    """Async checks run on a fresh event loop; their value or exception is normalised."""

    async def degraded() -> str:
        await asyncio.sleep(0)
        return "degraded"

    async def failing() -> bool:
        await asyncio.sleep(0)
        raise ValueError("no replica")

    registry.register("degraded", degraded)
    registry.register("failing", failing, critical=False)
    assert {r.name: (r.status, r.message) for r in registry.run_all()} == {
        "degraded": (HealthStatus.DEGRADED, ""),
        "failing": (HealthStatus.UNHEALTHY, "ValueError: no replica"),
    }


def test_a_hung_async_check_is_cancelled_at_its_timeout(registry: HealthRegistry) -> None:
    """An async check past its timeout is cancelled, so the next run starts afresh."""
    cancelled = threading.Event()

    async def hung() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    registry.register("hung", hung, timeout=0.25)
    first = registry.run("hung")
    assert (first.status, first.message) == (HealthStatus.UNHEALTHY, "timed out after 0.25s")
    assert cancelled.wait(WAIT)
    assert registry._wait_idle(WAIT)
    assert registry.run("hung").message == "timed out after 0.25s"  # not "still running"


def test_on_result_errors_are_contained(gate: threading.Event) -> None:
    """A raising on_result callback is reported as an internal error; results still cache."""
    _guard.reset_internal_errors()

    def explode(result: FlextHealthCheck) -> None:
        raise RuntimeError("sink down")

    reg = HealthRegistry(on_result=explode)
    try:
        reg.register("db", lambda: True)
        assert reg.run("db").status is HealthStatus.HEALTHY
        assert reg.overall() is HealthStatus.HEALTHY
        assert _guard.internal_error_counts() == {"health.on_result": 1}
    finally:
        _guard.reset_internal_errors()
        assert reg.stop(WAIT)


def test_unregister_and_replace(registry: HealthRegistry) -> None:
    """Unregistering drops the check and its result; registering a name again replaces it."""
    registry.register("db", lambda: False)
    registry.run("db")
    assert registry.overall() is HealthStatus.UNHEALTHY
    registry.register("db", lambda: True)
    assert registry.latest() == {}
    assert registry.overall() is HealthStatus.UNKNOWN
    assert registry.run("db").status is HealthStatus.HEALTHY
    assert registry.unregister("db") is True
    assert registry.unregister("db") is False
    assert (registry.names, registry.latest(), registry.overall()) == (
        [],
        {},
        HealthStatus.UNKNOWN,
    )


def test_gauge_points_follow_latest_results(registry: HealthRegistry) -> None:
    """gauge_points gives one (value, {"check": name}) per check that has a result."""
    registry.register("a", lambda: True)
    registry.register("b", lambda: "degraded")
    registry.register("c", lambda: True)
    registry.run("a")
    registry.run("b")
    assert sorted(registry.gauge_points(), key=lambda p: p[1]["check"]) == [
        (1.0, {"check": "a"}),
        (0.5, {"check": "b"}),
    ]


def test_schedule_runs_each_check_on_its_interval(collector: Collector) -> None:
    """With a fake clock, each check runs at start and then every `interval` seconds."""
    clock = FakeClock(seconds=1000.0)
    reg = HealthRegistry(clock=clock, on_result=collector)
    try:
        reg.register("fast", lambda: True, interval=10)
        reg.register("slow", lambda: True, interval=25)
        expected_after = {0: 2, 5: 2, 10: 3, 20: 4, 25: 5, 30: 6}
        start = clock.now
        for offset, total in expected_after.items():
            clock.now = start + offset
            reg._tick()
            collector.wait_for(total)
            assert reg._wait_idle(WAIT)
        assert Counter(r.name for r in collector.results) == {"fast": 4, "slow": 2}
    finally:
        assert reg.stop(WAIT)


def test_scheduler_thread_runs_checks_until_stopped(
    registry: HealthRegistry, gate: threading.Event
) -> None:
    """The scheduler thread repeats checks on short intervals even while another one hangs."""
    ran = threading.Event()
    count = [0]

    def fine() -> bool:
        count[0] += 1
        if count[0] >= 5:
            ran.set()
        return True

    registry.register("hung", gate.wait, timeout=0.1, interval=0.05)
    registry.register("fine", fine, interval=0.05)
    registry.start()
    registry.start()  # idempotent
    assert registry.running
    assert ran.wait(WAIT)
    assert registry.latest()["fine"].status is HealthStatus.HEALTHY
    gate.set()
    assert registry.stop(WAIT)
    assert not registry.running


def test_stop_without_start_is_a_no_op() -> None:
    """Stopping a registry that never started returns True at once."""
    reg = HealthRegistry()
    assert reg.stop(0.1)
    assert not reg.running


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_fork_child_starts_empty_with_fresh_locks(registry: HealthRegistry) -> None:
    """A forked child keeps registrations, drops results, gets a free lock and restarts lazily."""
    registry.register("db", lambda: True, interval=60)
    registry.run("db")
    registry.start()
    with registry._lock:  # held by the parent at fork time
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which reports by exit code
            code = 1
            try:
                fresh = registry._lock.acquire(blocking=False)
                registry._lock.release()
                empty = registry._latest == {} and not registry._scheduler.running
                names = registry.names == ["db"]
                rerun = registry.run("db").status is HealthStatus.HEALTHY
                restarted = registry.running
                stopped = registry.stop(WAIT)
                code = 0 if all([fresh, empty, names, rerun, restarted, stopped]) else 3
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert registry.latest()["db"].status is HealthStatus.HEALTHY


def test_a_worker_that_cannot_start_makes_the_check_unhealthy(
    registry: HealthRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If no worker thread can be started, the run is unhealthy instead of raising."""

    def no_threads(job: object) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(registry._pool, "submit", no_threads)
    registry.register("db", lambda: True)
    result = registry.run("db")
    assert (result.status, result.message) == (
        HealthStatus.UNHEALTHY,
        "RuntimeError: can't start new thread",
    )
    assert registry._inflight == {}
