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
            try:
                status = pathlib.Path(f"/proc/self/task/{task}/status").read_text()
            except OSError:  # a short-lived thread that has ended since the listing
                continue
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


# A stop signal whose C-level handler ran on another thread while the main thread sat in a lock:
# CPython's flag is set, but nothing wakes the main thread to run the Python handler. Without the
# wake-up watch this script hangs until the test's timeout (the default action would have killed
# it at once). `DO` is what the main thread does once everything is in place.
LOST_WAKEUP = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    from flext_observability._internal import signals

    SIGNUM = getattr(signal, sys.argv[1])
    MODE = sys.argv[2]
    signal.signal(SIGNUM, signal.SIG_DFL)

    def shutdown():
        time.sleep(0.3)  # a late repeat would show in `resent`
        print("shut down, resent", signals._Watch.active.resent, flush=True)

    signals.install(shutdown=shutdown, flush=lambda: None, deadline_s=lambda: 2.0)
    if MODE == "fork":
        pid = os.fork()
        if pid:
            _, status = os.waitpid(pid, 0)
            print("child", os.waitstatus_to_exitcode(status), flush=True)
            sys.exit(0)  # the parent was not hit by its child's signal
    if MODE == "main":  # the ordinary case: the main thread runs bytecode and gets it
        os.kill(os.getpid(), SIGNUM)
        time.sleep(10)
    else:
        def land_elsewhere():
            time.sleep(0.2)
            signal.pthread_kill(threading.get_ident(), SIGNUM)  # the C handler runs here

        threading.Thread(target=land_elsewhere, daemon=True).start()
        lock = threading.Lock()
        lock.acquire()
        lock.acquire()  # only a signal delivered to the main thread wakes this
    print("not reached", flush=True)
    """
)


def _lost_wakeup(signum: signal.Signals, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LOST_WAKEUP, signum.name, mode],
        capture_output=True,
        text=True,
        timeout=30,  # a regression hangs here
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX threads")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_that_did_not_wake_the_main_thread_is_sent_to_it_again(
    signum: signal.Signals,
) -> None:
    """Landed on another thread while the main thread waits on a lock: still shut down and die."""
    done = _lost_wakeup(signum, "lock")
    assert done.returncode == -signum, done.stderr
    assert done.stdout == "shut down, resent 1\n"


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX threads")
def test_a_signal_the_main_thread_handles_is_not_sent_again() -> None:
    """The ordinary case: the handler starts at once, so the watch repeats nothing."""
    done = _lost_wakeup(signal.SIGTERM, "main")
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert done.stdout == "shut down, resent 0\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_watches_its_own_signals() -> None:
    """The child gets its own wake-up pipe: it dies by its signal, and the parent lives on."""
    done = _lost_wakeup(signal.SIGTERM, "fork")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"shut down, resent 1\nchild {-signal.SIGTERM}\n"


def test_a_wakeup_fd_set_by_the_application_is_left_alone() -> None:
    """No watch when the app already set the wake-up fd, or when no default action is wrapped."""
    script = textwrap.dedent(
        """
        import os, signal, sys, threading
        from flext_observability._internal import signals

        def install():
            signals.install(shutdown=lambda: None, flush=lambda: None, deadline_s=lambda: 1.0)

        def watching():
            return any(t.name == "flext-observability-signal-watch" for t in threading.enumerate())

        if sys.argv[1] == "app-fd":
            read_fd, write_fd = os.pipe()
            os.set_blocking(write_fd, False)
            signal.set_wakeup_fd(write_fd)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            install()
            print(signal.set_wakeup_fd(-1) == write_fd, watching())
        else:  # the app's own SIGTERM handler, Python's KeyboardInterrupt for SIGINT
            signal.signal(signal.SIGTERM, lambda *_: None)
            install()
            print(signal.set_wakeup_fd(-1) == -1, watching())
        """
    )
    for case in ("app-fd", "app-handler"):
        done = subprocess.run(
            [sys.executable, "-c", script, case],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stdout) == (0, "True False\n"), (case, done.stderr)


@pytest.mark.skipif(not hasattr(os, "closerange"), reason="POSIX descriptors")
def test_a_daemon_closing_every_descriptor_gets_no_signal_bytes_in_its_files(
    tmp_path: Path,
) -> None:
    """No signal byte lands in a file a daemon opened after closing every descriptor.

    CPython writes each signal's byte to the wake-up fd *number*: none of the numbers a daemon
    reuses (the lowest free ones) may be ours.
    """
    script = textwrap.dedent(
        """
        import os, signal, sys
        from flext_observability._internal import signals

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signals.install(shutdown=lambda: None, flush=lambda: None, deadline_s=lambda: 1.0)
        os.closerange(3, 1000)  # a daemon's "close every file" (below our high numbers)
        files = [open(os.path.join(sys.argv[1], f"{n}.log"), "w") for n in range(200)]
        for log in files:
            log.write("ok")
            log.flush()
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    contents = {path.read_text() for path in tmp_path.glob("*.log")}
    assert contents == {"ok"}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_child_without_a_pipe_of_its_own_never_signals_its_parent() -> None:
    """A fork child that cannot make its own pipe drops the inherited wake-up fd.

    The parent's pipe is shared across the fork: a byte the child's signal wrote there would
    make the parent's watch send that signal to the parent's own main thread.
    """
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        from flext_observability._internal import signals

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signals.install(shutdown=lambda: None, flush=lambda: None, deadline_s=lambda: 1.0)

        def no_descriptor_left():
            raise OSError(24, "Too many open files")

        signals._high_pipe = no_descriptor_left  # in the child's after-fork hook
        pid = os.fork()
        if pid == 0:
            previous = signal.set_wakeup_fd(-1)
            signal.set_wakeup_fd(previous)
            print("child wake-up fd", previous, flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(10)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        time.sleep(1.0)  # the parent's watch would act within 0.2 s
        print("child", os.waitstatus_to_exitcode(status), "parent resent",
              signals._Watch.active.resent, flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"child wake-up fd -1\nchild {-signal.SIGTERM} parent resent 0\n"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")
def test_setup_grows_the_descriptor_table_before_any_thread_of_its_own_starts() -> None:
    """The signal pipe's high numbers never make Linux grow a table that threads share.

    Growing a shared descriptor table waits for an RCU grace period (10-15 ms of wall time
    measured per `setup()`); grown while the main thread is alone, it costs nothing. So
    `prepare()` runs before our first thread starts, and leaves the table (`FDSize`) above the
    pipe's numbers. (The SDK's resource detectors run a short-lived thread pool earlier: it
    has ended by then.)
    """
    script = textwrap.dedent(
        """
        import re, threading
        from flext_observability._internal import signals

        events = []
        start, prepare = threading.Thread.start, signals.prepare

        def fd_size():
            status = open("/proc/self/status").read()
            return int(re.search(r"FDSize:\\s+(\\d+)", status).group(1))

        def recording_start(self):
            if self.name.startswith("flext-observability"):
                events.append("thread")
            start(self)

        def recording_prepare():
            prepare()
            events.append(("prepare", fd_size() > signals._high_base()))

        threading.Thread.start = recording_start
        signals.prepare = recording_prepare
        import flext_observability as fo

        handle = fo.setup(store_enabled=False, handle_signals=True)
        handle.shutdown()
        print(events[0], "thread" in events)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLEXT_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "('prepare', True) True\n"), done.stderr
