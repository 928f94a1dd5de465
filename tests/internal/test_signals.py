"""Signal handling: flush first, then the handler's own behaviour; never swallow a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flext_observability._internal import signals


@pytest.fixture
def restore_handlers() -> Iterator[None]:
    """Put back the SIGTERM and SIGINT handlers the test process had."""
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _install(calls: list[str]) -> list[int]:
    return signals.install(
        shutdown=lambda: calls.append("shutdown"),
        flush=lambda: calls.append("flush"),
        deadline_s=lambda: 1.0,
    )


def test_an_installed_handler_is_chained_after_a_flush(restore_handlers: None) -> None:
    """The app's own SIGTERM handler still runs, after our flush, with the same arguments."""
    calls: list[str] = []

    def mine(signum: int, _frame: object) -> None:
        """The app's handler."""
        calls.append(f"app {signum}")

    signal.signal(signal.SIGTERM, mine)
    assert signal.SIGTERM in _install(calls)
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler)
    handler(signal.SIGTERM, None)
    assert calls == ["flush", f"app {signal.SIGTERM}"]


def test_installed_once(restore_handlers: None) -> None:
    """A second install keeps the one wrapper (no flush chained to itself)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert signal.SIGTERM in _install([])
    handler = signal.getsignal(signal.SIGTERM)
    assert signal.SIGTERM not in _install([])
    assert signal.getsignal(signal.SIGTERM) is handler


def test_ignored_signals_and_the_keyboard_interrupt_are_left_alone(
    restore_handlers: None,
) -> None:
    """SIG_IGN stays ignored; SIGINT's KeyboardInterrupt exits normally (atexit flushes)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    assert _install([]) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_not_from_another_thread() -> None:
    """Signals can only be handled on the main thread: elsewhere it does nothing."""
    outcome: list[list[int]] = []
    thread = threading.Thread(target=lambda: outcome.append(_install([])))
    thread.start()
    thread.join()
    assert outcome == [[]]


@pytest.mark.slow
@pytest.mark.parametrize("raising", [False, True])
def test_sigterm_runs_the_shutdown_then_dies_by_sigterm(raising: bool) -> None:
    """A SIGTERMed process runs the shutdown (even a failing one) and still dies by SIGTERM."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys, time
        from flext_observability._internal import signals

        def shutdown():
            sys.stdout.write("shut down\\n")
            sys.stdout.flush()
            if {raising}:
                raise RuntimeError("shutdown failed")

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signals.install(shutdown=shutdown, flush=lambda: None, deadline_s=lambda: 2.0)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        sys.stdout.write("not reached\\n")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert done.stdout == "shut down\n"


def test_a_signal_inside_the_flush_start_does_not_wait_for_itself() -> None:
    """A nested handler (second SIGTERM during the first one's `_run_bounded`) still runs.

    The second signal's handler runs on the thread that is already inside `_run_bounded`
    (holding its lock, e.g. inside `Thread.start()`): it must not block on that lock.
    """
    ran = threading.Event()

    def first_handler_interrupted() -> None:
        with signals._running_lock:  # the outer handler, interrupted while holding it
            signals._run_bounded(ran.set, 5.0)  # the nested handler's call

    thread = threading.Thread(target=first_handler_interrupted, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert ran.is_set()


def test_our_threads_leave_sigterm_and_sigint_to_the_main_thread() -> None:
    """A thread started by `start_quiet` blocks both signals; the starter's mask is unchanged."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    seen: list[set[int]] = []
    thread = threading.Thread(
        target=lambda: seen.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))
    )
    signals.start_quiet(thread)
    thread.join(10)
    assert {signal.SIGTERM, signal.SIGINT} <= seen[0]
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    quieted: list[set[int]] = []

    def quiet() -> None:
        signals.quiet_this_thread()
        quieted.append(set(signal.pthread_sigmask(signal.SIG_BLOCK, [])))

    other = threading.Thread(target=quiet)
    other.start()
    other.join(10)
    assert {signal.SIGTERM, signal.SIGINT} <= quieted[0]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_every_background_thread_of_a_setup_blocks_the_stop_signals() -> None:
    """Each thread a default setup runs (pipeline, metric reader, health) blocks both signals."""
    script = textwrap.dedent(
        """
        import os, pathlib, signal, tempfile, threading
        import flext_observability as fo
        obs = fo.setup(service_name="s", store_path=pathlib.Path(tempfile.mkdtemp()) / "t.db")
        names = {t.native_id: t.name for t in threading.enumerate()}
        wanted = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGINT - 1))
        open_to_signals = []
        for task in os.listdir("/proc/self/task"):
            status = pathlib.Path(f"/proc/self/task/{task}/status").read_text()
            line = next(l for l in status.splitlines() if l.startswith("SigBlk"))
            name = names.get(int(task), "?")
            if name != "MainThread" and int(line.split()[1], 16) & wanted != wanted:
                open_to_signals.append(name)
        print("OPEN", sorted(open_to_signals), len(names))
        obs.shutdown()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("OPEN"))
    assert line.startswith("OPEN []"), line
    assert int(line.split()[-1]) >= 3  # the main thread and at least two of ours
