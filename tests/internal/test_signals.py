"""Signal handling: flush first, then the handler's own behaviour; never swallow a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

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
