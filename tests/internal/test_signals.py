"""SIGTERM handling: flush first, then the default action; never over someone else's handler."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import pytest

from flext_observability._internal import signals


@pytest.fixture
def restore_sigterm() -> Iterator[None]:
    """Put back the SIGTERM handler the test process had."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_not_over_an_installed_handler(restore_sigterm: None) -> None:
    """An app's or server's own SIGTERM handler is left alone."""

    def mine(_signum: int, _frame: object) -> None:
        """The app's handler."""

    signal.signal(signal.SIGTERM, mine)
    assert signals.install(lambda: None, 1.0) is False
    assert signal.getsignal(signal.SIGTERM) is mine


def test_installed_over_the_default_once(restore_sigterm: None) -> None:
    """Over the default action it installs, and a second call keeps the one handler."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert signals.install(lambda: None, 1.0) is True
    handler = signal.getsignal(signal.SIGTERM)
    assert handler is not signal.SIG_DFL
    assert signals.install(lambda: None, 1.0) is True
    assert signal.getsignal(signal.SIGTERM) is handler


def test_not_from_another_thread() -> None:
    """Signals can only be handled on the main thread: elsewhere it does nothing."""
    outcome: list[bool] = []
    thread = threading.Thread(target=lambda: outcome.append(signals.install(lambda: None, 1.0)))
    thread.start()
    thread.join()
    assert outcome == [False]


@pytest.mark.slow
@pytest.mark.parametrize("raising", [False, True])
def test_sigterm_runs_the_flush_then_dies_by_sigterm(raising: bool) -> None:
    """A SIGTERMed process runs the flush (even a failing one) and still dies by SIGTERM."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys, time
        from flext_observability._internal import signals

        def flush():
            sys.stdout.write("flushed\\n")
            sys.stdout.flush()
            if {raising}:
                raise RuntimeError("flush failed")

        signals.install(flush, 2.0)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        sys.stdout.write("not reached\\n")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert done.stdout == "flushed\n"
