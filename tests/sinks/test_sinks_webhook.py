"""`WebhookSink` against a real loopback HTTP server."""

from __future__ import annotations

import base64
import contextlib
import http.server
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flext_observability.exceptions import ConfigurationError
from flext_observability.models import AlertSeverity, AlertStatus, FlextAlert, FlextMetric
from flext_observability.sinks._base import Sink
from flext_observability.sinks._webhook_http import mask_url, parse_retry_after
from flext_observability.sinks.webhook import WebhookSink

SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Hook:
    """A scripted webhook receiver: answers from `script`, then 200."""

    port: int = 0
    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        """The URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *responses: int | tuple[int, dict[str, str]]) -> None:
        """Queue the next answers (a status, or a status and headers)."""
        for item in responses:
            self.script.append(item if isinstance(item, tuple) else (item, {}))


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        hook = self.server.hook
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with hook.lock:
            hook.requests.append(Received("POST", self.path, dict(self.headers.items()), body))
            status, headers = hook.script.popleft() if hook.script else (200, {})
        hook.arrived.release()
        hook.gate.wait(10)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet."""


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    hook: Hook


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A real HTTP server on 127.0.0.1, port 0, answering immediately unless the gate is shut."""
    server = _Server(("127.0.0.1", 0), _Handler)
    state = Hook(port=server.server_address[1])
    state.gate.set()
    server.hook = state
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    state.gate.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@dataclass
class FakeSleep:
    """Records requested waits and returns at once."""

    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        """Record."""
        self.delays.append(seconds)


@contextlib.contextmanager
def closing(sink: WebhookSink) -> Iterator[WebhookSink]:
    """Close the sink (5 s budget) however the test ends."""
    try:
        yield sink
    finally:
        sink.close(5)


def alert(name: str = "cpu-high", status: AlertStatus = AlertStatus.ACTIVE) -> FlextAlert:
    """A realistic alert."""
    return FlextAlert(
        name=name,
        message="CPU above 90% for 5m",
        severity=AlertSeverity.CRITICAL,
        status=status,
        labels={"host": "web-1"},
        value=97.5,
        threshold=90.0,
    )


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_posts_exact_alert_json(hook: Hook) -> None:
    """Each alert is one POST of exactly model_dump_json with a JSON content type."""
    alerts = [alert(), alert(status=AlertStatus.RESOLVED)]
    with closing(WebhookSink(hook.url("/hook?x=1"))) as sink:
        assert isinstance(sink, Sink)
        sink.write(alerts)
        assert sink.flush(5)
        assert (sink.sent, sink.dropped, sink.retries) == (2, 0, 0)
    got = [(r.method, r.path, r.headers["Content-Type"], r.body) for r in hook.requests]
    assert got == [
        ("POST", "/hook?x=1", "application/json", a.model_dump_json().encode()) for a in alerts
    ]
    assert [FlextAlert.model_validate_json(r.body) for r in hook.requests] == alerts


def test_ignores_other_entities_and_writes_after_close(hook: Hook) -> None:
    """Only FlextAlert is sent; writes after close are ignored."""
    metric = FlextMetric(name="m", value=1.0)
    sink = WebhookSink(hook.url())
    sink.write([metric])
    assert sink.flush(1)
    sink.close(1)
    sink.write([alert()])
    assert sink.flush(1)
    assert (hook.requests, sink.sent, sink.dropped) == ([], 0, 0)


def test_retries_503_then_succeeds(hook: Hook) -> None:
    """A 503 is retried after a full-jitter backoff, then the POST succeeds."""
    hook.answer(503, 503)
    sleep = FakeSleep()
    sink = WebhookSink(hook.url(), sleep=sleep, rand=lambda: 0.5, backoff_base=0.5)
    with closing(sink):
        sink.write([alert()])
        assert sink.flush(5)
        assert (sink.sent, sink.retries, sink.dropped) == (1, 2, 0)
    assert sleep.delays == [0.25, 0.5]
    assert len({r.body for r in hook.requests}) == 1
    assert len(hook.requests) == 3


def test_429_honours_retry_after_seconds_and_date(hook: Hook) -> None:
    """Retry-After in seconds or as an HTTP date sets the wait, capped by backoff_max."""
    now = 1_700_000_000.0
    hook.answer(
        (429, {"Retry-After": "7"}),
        (429, {"Retry-After": formatdate(now + 12, usegmt=True)}),
        (503, {"Retry-After": "3600"}),
        (503, {"Retry-After": "soon"}),
    )
    sleep = FakeSleep()
    sink = WebhookSink(
        hook.url(), sleep=sleep, wall_clock=lambda: now, rand=lambda: 1.0, backoff_max=30
    )
    with closing(sink):
        sink.write([alert()])
        assert sink.flush(5)
        assert (sink.sent, sink.retries) == (1, 4)
    assert sleep.delays == [7.0, 12.0, 30.0, 4.0]


def test_no_retry_on_400_or_redirect(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    """A 400 or a 3xx is not retried: one request each, counted as rejected, one warning each."""
    hook.answer(400, (302, {"Location": hook.url("/elsewhere")}))
    sleep = FakeSleep()
    caplog.set_level(logging.WARNING, logger="flext_observability.webhook")
    with closing(WebhookSink(hook.url(), sleep=sleep, warn_interval=0)) as sink:
        sink.write([alert("a")])
        assert sink.flush(5)
        sink.write([alert("b")])
        assert sink.flush(5)
        assert (sink.sent, sink.dropped_by_reason, sleep.delays) == (0, {"rejected": 2}, [])
    assert [r.path for r in hook.requests] == ["/hook", "/hook"]
    masked = f"http://127.0.0.1:{hook.port}/***"
    assert [
        (r.name, r.levelname, r.getMessage())
        for r in caplog.records
        if r.name == "flext_observability.webhook"
    ] == [
        (
            "flext_observability.webhook",
            "WARNING",
            f"alert webhook {masked} rejected a notification (HTTP {code}); not retried",
        )
        for code in (400, 302)
    ]


def test_connection_refused_retried_then_dropped(caplog: pytest.LogCaptureFixture) -> None:
    """Connection errors are retried max_retries times, then dropped and counted."""
    sleep = FakeSleep()
    port = free_port()
    sink = WebhookSink(f"http://127.0.0.1:{port}/x", sleep=sleep, max_retries=2, rand=lambda: 0)
    with closing(sink):
        sink.write([alert()])
        assert sink.flush(10)
        assert (sink.sent, sink.retries, sink.dropped_by_reason) == (
            0,
            2,
            {"retries_exhausted": 1},
        )
    assert sleep.delays == [0.0, 0.0]
    assert [r.getMessage() for r in caplog.records if r.name == "flext_observability.webhook"] == [
        (
            f"alert webhook http://127.0.0.1:{port}/*** failed (connection error: "
            "ConnectionRefusedError) after 3 attempt(s); notification dropped"
        )
    ]


def test_queue_is_bounded_and_flush_expires(hook: Hook) -> None:
    """With the receiver stuck, the queue holds queue_size items; the rest are dropped."""
    hook.gate.clear()
    with closing(WebhookSink(hook.url(), queue_size=2)) as sink:
        sink.write([alert("first")])
        assert hook.arrived.acquire(timeout=5)  # the first one is in flight
        sink.write([alert(f"n{i}") for i in range(4)])
        assert sink.dropped_by_reason == {"queue_full": 2}
        assert sink.flush(0.05) is False
        hook.gate.set()
        assert sink.flush(5)
        assert (sink.sent, sink.dropped) == (3, 2)
    names = [FlextAlert.model_validate_json(r.body).name for r in hook.requests]
    assert names == ["first", "n0", "n1"]


def test_close_gives_up_on_a_stuck_receiver(hook: Hook) -> None:
    """close() returns with queued notifications counted as dropped `closed`."""
    hook.gate.clear()
    sink = WebhookSink(hook.url())
    sink.write([alert("stuck")])
    assert hook.arrived.acquire(timeout=5)
    sink.write([alert("a"), alert("b")])
    sink.close(0.05)
    assert sink.dropped_by_reason == {"closed": 2}
    hook.gate.set()
    thread = sink._thread
    assert thread is not None
    thread.join(5)
    assert (sink.sent, sink.dropped) == (1, 2)


def test_secrets_never_logged(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    """URL credentials, path, query token and header values never reach logs, repr or errors."""
    canaries = ["CanaryPass1", "CanaryPath2", "CanaryToken3", "CanaryHeader4"]
    url = (
        f"http://hookuser:{canaries[0]}@127.0.0.1:{hook.port}/hooks/{canaries[1]}"
        f"?token={canaries[2]}"
    )
    headers = {"X-Api-Key": canaries[3]}
    caplog.set_level(logging.DEBUG)
    hook.answer(400, 503, 503)
    texts: list[str] = []
    sink = WebhookSink(url, headers=headers, max_retries=1, sleep=FakeSleep(), warn_interval=0)
    with closing(sink):
        texts.append(repr(sink))
        sink.write([alert("x"), alert("y")])
        assert sink.flush(5)
        assert sink.dropped_by_reason == {"rejected": 1, "retries_exhausted": 1}
    refused_url = url.replace(str(hook.port), str(free_port()))
    with closing(WebhookSink(refused_url, headers=headers, max_retries=0)) as refused:
        refused.write([alert()])
        assert refused.flush(10)
    for bad in [
        {"url": url.replace("http", "ftp", 1)},
        {"url": url, "timeout": 0},
        {"url": url, "headers": {"X-Api-Key": canaries[3] + "\n"}},
    ]:
        with pytest.raises(ConfigurationError) as info:
            WebhookSink(**bad)  # type: ignore[arg-type]
        texts.append(str(info.value))
    texts.append(caplog.text)
    # Only the webhook's own records: threads left by earlier tests may log at DEBUG too.
    assert len([r for r in caplog.records if r.name == "flext_observability.webhook"]) == 3
    for text in texts:
        for canary in canaries:
            assert canary not in text
    first = hook.requests[0]
    assert first.path == f"/hooks/{canaries[1]}?token={canaries[2]}"
    assert first.headers["X-Api-Key"] == canaries[3]
    basic = base64.b64encode(f"hookuser:{canaries[0]}".encode()).decode()
    assert first.headers["Authorization"] == f"Basic {basic}"


def test_warnings_once_per_interval(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    """Within warn_interval only the first warning is logged; the next one counts the rest."""
    now = [100.0]
    hook.answer(400, 400, 400, 400)
    sink = WebhookSink(hook.url(), warn_interval=60, clock=lambda: now[0])
    with closing(sink):
        for step in (0.0, 10.0, 20.0, 60.0):
            now[0] += step
            sink.write([alert()])
            assert sink.flush(5)
    masked = f"http://127.0.0.1:{hook.port}/***"
    base = f"alert webhook {masked} rejected a notification (HTTP 400); not retried"
    assert [r.getMessage() for r in caplog.records if r.name == "flext_observability.webhook"] == [
        base,
        f"{base} (2 similar warning(s) suppressed)",
    ]


def test_suppress_hook_wraps_every_attempt(hook: Hook) -> None:
    """The suppress() context manager is entered around each HTTP attempt."""
    entered: list[str] = []

    @contextlib.contextmanager
    def suppress() -> Iterator[None]:
        entered.append(threading.current_thread().name)
        yield

    hook.answer(503)
    with closing(WebhookSink(hook.url(), suppress=suppress, sleep=FakeSleep())) as sink:
        sink.write([alert()])
        assert sink.flush(5)
    assert entered == ["flext-observability-webhook"] * 2


def test_child_after_fork_starts_fresh(hook: Hook) -> None:
    """A pid change (fork) gives the sink a fresh queue, counts and thread on the next write."""
    with closing(WebhookSink(hook.url())) as sink:
        sink.write([alert("parent")])
        assert sink.flush(5)
        old_thread, old_cond, old_stop = sink._thread, sink._cond, sink._stop
        sink._pid = -1  # as seen from a forked child
        sink.write([alert("child")])
        assert sink.flush(5)
        assert (sink.sent, sink._thread is not old_thread) == (1, True)
    old_stop.set()
    with old_cond:
        old_cond.notify_all()
    assert old_thread is not None
    old_thread.join(5)
    assert [FlextAlert.model_validate_json(r.body).name for r in hook.requests] == [
        "parent",
        "child",
    ]


@pytest.mark.slow
def test_real_fork_delivers_from_parent_and_child(hook: Hook) -> None:
    """After a real os.fork() both processes deliver their own alerts, nothing twice."""
    script = textwrap.dedent(
        f"""
        import os, sys
        from flext_observability.models import FlextAlert
        from flext_observability.sinks.webhook import WebhookSink
        sink = WebhookSink({hook.url()!r})
        sink.write([FlextAlert(name="before", message="m")])
        assert sink.flush(5)
        pid = os.fork()
        who = "child" if pid == 0 else "parent"
        sink.write([FlextAlert(name=who, message="m")])
        ok = sink.flush(5) and sink.sent == (1 if pid == 0 else 2)
        if pid == 0:
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        sink.close(5)
        sys.exit(0 if ok and os.waitstatus_to_exitcode(status) == 0 else 1)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script], env=env, timeout=60, check=False
    )
    assert done.returncode == 0
    names = sorted(FlextAlert.model_validate_json(r.body).name for r in hook.requests)
    assert names == ["before", "child", "parent"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://h/x"}, "WebhookSink url: expected an http:// or https:// URL with a host"),
        ({"url": "http:///x"}, "WebhookSink url: expected an http:// or https:// URL with a host"),
        ({"url": 5}, "WebhookSink url: expected an http(s) URL string, got int"),
        ({"timeout": 0}, "WebhookSink timeout: expected a number > 0, got 0"),
        ({"timeout": True}, "WebhookSink timeout: expected a number > 0, got True"),
        ({"max_retries": -1}, "WebhookSink max_retries: expected an integer >= 0, got -1"),
        ({"backoff_base": 0.0}, "WebhookSink backoff_base: expected a number > 0, got 0.0"),
        ({"backoff_max": -1}, "WebhookSink backoff_max: expected a number >= 0, got -1"),
        ({"queue_size": 0}, "WebhookSink queue_size: expected an integer >= 1, got 0"),
        ({"headers": {"A": 1}}, "WebhookSink headers: expected str names and values"),
    ],
)
def test_bad_settings_raise(kwargs: dict[str, object], message: str) -> None:
    """Invalid settings raise ConfigurationError naming the setting, value and what is allowed."""
    args: dict[str, object] = {"url": "http://127.0.0.1:1/x", **kwargs}
    with pytest.raises(ConfigurationError) as info:
        WebhookSink(**args)  # type: ignore[arg-type]
    assert str(info.value).startswith(message)


def test_mask_url_shapes() -> None:
    """Masking keeps only scheme, host and port."""
    assert [
        mask_url("https://u:p@example.com/a?token=t"),
        mask_url("http://[::1]:8080/x"),
        mask_url("http://h:99999999/x"),
    ] == ["https://example.com/***", "http://[::1]:8080/***", "<invalid url>/***"]


@given(
    value=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.integers(min_value=0, max_value=10**12).map(str),
        st.integers(min_value=-(10**9), max_value=10**9).map(
            lambda d: formatdate(1_700_000_000 + d, usegmt=True)
        ),
    ),
    cap=st.floats(min_value=0, max_value=1e6),
)
def test_retry_after_always_within_cap(value: str | None, cap: float) -> None:
    """A parsed Retry-After is None or within [0, cap], whatever the header says."""
    delay = parse_retry_after(value, now=1_700_000_000.0, cap=cap)
    assert delay is None or 0.0 <= delay <= cap
