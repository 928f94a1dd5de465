"""The probe server: endpoints, status codes, JSON shape, token, and what it never shows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message

import pytest

from flext_observability._internal import guard as _guard
from flext_observability.exceptions import ConfigurationError
from flext_observability.health import HealthRegistry, ProbeServer

CANARY_TOKEN = "canary-token-5f1e9a"
WAIT = 5.0


class Reply:
    """One HTTP response: status, headers and body."""

    def __init__(self, status: int, headers: Message, body: bytes) -> None:
        """Keep the parts of a response."""
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> object:
        """Decode the body as JSON."""
        return json.loads(self.body)


def fetch(
    url: str, *, headers: dict[str, str] | None = None, method: str = "GET", timeout: float = WAIT
) -> Reply:
    """Request `url` and return the reply, whatever its status."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())


@pytest.fixture
def gate() -> threading.Event:
    """An event hung checks wait on; released at teardown."""
    return threading.Event()


@pytest.fixture
def registry(gate: threading.Event) -> Iterator[HealthRegistry]:
    """A registry stopped at teardown, after hung checks are released."""
    reg = HealthRegistry()
    yield reg
    gate.set()
    assert reg.stop(WAIT)


@pytest.fixture
def probe(registry: HealthRegistry) -> Iterator[ProbeServer]:
    """A started probe server on 127.0.0.1 and a free port, stopped at teardown."""
    server = ProbeServer(registry)
    server.start()
    yield server
    assert server.stop(WAIT)


def test_binds_to_loopback_by_default(probe: ProbeServer) -> None:
    """Without a host the server listens on 127.0.0.1 only, on the port start() returned."""
    assert probe.url == f"http://127.0.0.1:{probe.port}"
    assert probe._server is not None
    assert probe._server.server_address == ("127.0.0.1", probe.port)
    assert probe.start() == probe.port  # idempotent
    assert CANARY_TOKEN not in repr(ProbeServer(HealthRegistry(), token=CANARY_TOKEN))


def test_endpoints_with_healthy_checks(registry: HealthRegistry, probe: ProbeServer) -> None:
    """All healthy: /livez ok, /readyz ready, /healthz healthy with every check."""
    registry.register("db", lambda: True)
    registry.register("cache", lambda: ("healthy", "hit rate 97%"))
    registry.run_all()
    live, ready, health = (fetch(probe.url + p) for p in ("/livez", "/readyz", "/healthz"))
    assert (live.status, live.body) == (200, b"ok")
    assert (ready.status, ready.body) == (200, b"ready")
    assert health.status == 200
    assert health.headers["Content-Type"] == "application/json"
    assert health.json() == {
        "status": "healthy",
        "checks": {
            "db": {"status": "healthy", "message": ""},
            "cache": {"status": "healthy", "message": "hit rate 97%"},
        },
    }


def test_critical_unhealthy_makes_probes_fail(registry: HealthRegistry, probe: ProbeServer) -> None:
    """A critical unhealthy check: /readyz and /healthz answer 503, /livez still 200."""
    registry.register("db", lambda: False)
    registry.register("cache", lambda: "degraded", critical=False)
    registry.run_all()
    assert fetch(probe.url + "/livez").status == 200
    ready = fetch(probe.url + "/readyz")
    assert (ready.status, ready.body) == (503, b"unready")
    health = fetch(probe.url + "/healthz")
    assert health.status == 503
    assert health.json() == {
        "status": "unhealthy",
        "checks": {
            "db": {"status": "unhealthy", "message": ""},
            "cache": {"status": "degraded", "message": ""},
        },
    }


def test_non_critical_unhealthy_is_degraded_and_ready(
    registry: HealthRegistry, probe: ProbeServer
) -> None:
    """A non-critical unhealthy check only degrades: both probes answer 200."""
    registry.register("export", lambda: False, critical=False)
    registry.register("never-run", lambda: True)
    registry.run("export")
    assert fetch(probe.url + "/readyz").status == 200
    health = fetch(probe.url + "/healthz")
    assert (health.status, health.json()) == (
        200,
        {
            "status": "degraded",
            "checks": {
                "export": {"status": "unhealthy", "message": ""},
                "never-run": {"status": "unknown", "message": "not run yet"},
            },
        },
    )


def test_ready_callable_gates_readiness(registry: HealthRegistry) -> None:
    """`ready()` returning False, or raising, makes /readyz answer 503."""
    flag = threading.Event()

    def broken() -> bool:
        raise RuntimeError("boom")

    servers = [ProbeServer(registry, ready=flag.is_set), ProbeServer(registry, ready=broken)]
    try:
        for server in servers:
            server.start()
        assert fetch(servers[0].url + "/readyz").status == 503
        flag.set()
        assert fetch(servers[0].url + "/readyz").status == 200
        assert fetch(servers[1].url + "/readyz").status == 503
    finally:
        _guard.reset_internal_errors()
        assert all(server.stop(WAIT) for server in servers)


def test_probes_answer_while_a_check_hangs(
    registry: HealthRegistry, probe: ProbeServer, gate: threading.Event
) -> None:
    """A hung check never delays /readyz or /healthz: they read cached results only."""
    registry.register("hung", gate.wait, timeout=30, interval=0.05)
    registry.register("fine", lambda: True, interval=0.05)
    registry.start()
    started = time.monotonic()
    ready = fetch(probe.url + "/readyz", timeout=2.0)
    health = fetch(probe.url + "/healthz", timeout=2.0)
    elapsed = time.monotonic() - started
    assert ready.status == 200
    assert health.status == 200
    checks = health.json()["checks"]  # type: ignore[index]
    assert checks["hung"] == {"status": "unknown", "message": "not run yet"}
    assert elapsed < 4.0  # generous: two requests, each bounded by a 2 s client timeout


def test_other_paths_and_methods(probe: ProbeServer) -> None:
    """Unknown paths are 404, non-GET methods 405, each with a one-word body; HEAD has none."""
    missing = fetch(probe.url + "/metrics")
    assert (missing.status, missing.body) == (404, b"notfound")
    assert fetch(probe.url + "/livez/").status == 404
    posted = fetch(probe.url + "/livez", method="POST")
    assert (posted.status, posted.body, posted.headers["Allow"]) == (
        405,
        b"disallowed",
        "GET, HEAD",
    )
    head = fetch(probe.url + "/livez", method="HEAD")
    assert (head.status, head.body, head.headers["Content-Length"]) == (200, b"", "2")
    assert fetch(probe.url + "/healthz?verbose=1").status == 200


def test_no_version_in_headers_and_no_access_log(
    probe: ProbeServer, capfd: pytest.CaptureFixture[str]
) -> None:
    """The Server header names no version; requests write nothing to stdout or stderr."""
    reply = fetch(probe.url + "/livez")
    assert reply.headers["Server"] == "flext-observability"
    assert reply.headers["Cache-Control"] == "no-store"
    assert "Python" not in str(reply.headers)
    fetch(probe.url + "/nope")
    assert capfd.readouterr() == ("", "")


def test_token_is_required_on_every_endpoint_and_never_echoed(registry: HealthRegistry) -> None:
    """With a token every endpoint needs the bearer header (401 otherwise); it never leaks."""
    registry.register("db", lambda: True)
    registry.run("db")
    server = ProbeServer(registry, token=CANARY_TOKEN)
    server.start()
    replies: list[Reply] = []
    try:
        for path in ("/livez", "/readyz", "/healthz", "/missing"):
            for headers, expected in (
                ({}, 401),
                ({"Authorization": "Bearer wrong"}, 401),
                ({"Authorization": f"Basic {CANARY_TOKEN}"}, 401),
                ({"Authorization": f"Bearer {CANARY_TOKEN}x"}, 401),
                ({"Authorization": f"Bearer {CANARY_TOKEN}"}, 404 if path == "/missing" else 200),
                ({"Authorization": f"bearer  {CANARY_TOKEN}"}, 404 if path == "/missing" else 200),
            ):
                reply = fetch(server.url + path, headers=headers)
                assert reply.status == expected, (path, headers)
                replies.append(reply)
    finally:
        assert server.stop(WAIT)
    unauthorized = [r for r in replies if r.status == 401]
    assert {(r.body, r.headers["WWW-Authenticate"]) for r in unauthorized} == {
        (b"unauthorized", "Bearer")
    }
    for reply in replies:
        assert CANARY_TOKEN not in reply.body.decode()
        assert CANARY_TOKEN not in str(reply.headers)


def test_check_errors_show_no_stack_trace_or_path(
    registry: HealthRegistry, probe: ProbeServer
) -> None:
    """A raising check shows "<Type>: <message>" only: no traceback, no file path."""

    def deep() -> None:
        def inner() -> None:
            open("/nonexistent/canary-dir/secret.db")  # noqa: PTH123, SIM115 - raises on purpose

        inner()

    registry.register("disk", deep)
    registry.register("parse", lambda: int("x"), critical=False)
    registry.run_all()
    body = fetch(probe.url + "/healthz").body.decode()
    assert json.loads(body)["checks"] == {
        "disk": {"status": "unhealthy", "message": "FileNotFoundError: No such file or directory"},
        "parse": {
            "status": "unhealthy",
            "message": "ValueError: invalid literal for int() with base 10: 'x'",
        },
    }
    for leak in ("Traceback", "File ", "/nonexistent", "canary", ".py", sys.version.split()[0]):
        assert leak not in body


def test_message_filter_and_length_cap(registry: HealthRegistry) -> None:
    """Messages go through `message_filter` and are capped at 256 characters."""
    registry.register("a", lambda: ("degraded", "password=hunter2"))
    registry.register("b", lambda: ("degraded", "y" * 400))
    registry.run_all()
    server = ProbeServer(registry, message_filter=lambda m: m.replace("hunter2", "[REDACTED]"))
    server.start()
    try:
        checks = fetch(server.url + "/healthz").json()["checks"]  # type: ignore[index]
    finally:
        assert server.stop(WAIT)
    assert checks["a"] == {"status": "degraded", "message": "password=[REDACTED]"}
    assert len(checks["b"]["message"]) == 256


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"port": -1}, "health port must be an integer 0-65535, got -1"),
        ({"port": 70000}, "got 70000"),
        ({"port": True}, "got True"),
        ({"host": ""}, "health host must be a non-empty string"),
        ({"token": ""}, "health token must be a non-empty string"),
    ],
)
def test_invalid_configuration_is_rejected(kwargs: dict[str, object], match: str) -> None:
    """Bad host, port or token raise ConfigurationError naming the setting and value."""
    with pytest.raises(ConfigurationError, match=match):
        ProbeServer(HealthRegistry(), **kwargs)  # type: ignore[arg-type]


def test_a_busy_port_is_a_configuration_error(registry: HealthRegistry) -> None:
    """Binding a port already in use raises ConfigurationError naming the settings."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ProbeServer(registry, port=port)
        with pytest.raises(ConfigurationError, match="FLEXT_OBSERVABILITY_HEALTH_HOST/_PORT"):
            server.start()
        assert server.stop(WAIT)


def test_stop_closes_the_socket(registry: HealthRegistry) -> None:
    """After stop() nothing listens on the port any more; stopping again is a no-op."""
    server = ProbeServer(registry)
    port = server.start()
    assert fetch(server.url + "/livez").status == 200
    assert server.stop(WAIT)
    assert server.stop(WAIT)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_health_modules_do_not_import_opentelemetry() -> None:
    """Health and server load without any opentelemetry module (core layering rule)."""
    # The package __init__ may re-export OTel-backed names; bypass it to test these modules.
    code = (
        "import importlib.util, sys, types\n"
        "spec = importlib.util.find_spec('flext_observability')\n"
        "pkg = types.ModuleType('flext_observability')\n"
        "pkg.__path__ = list(spec.submodule_search_locations)\n"
        "sys.modules['flext_observability'] = pkg\n"
        "import flext_observability.health, flext_observability.health\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.usefixtures("flext_strict")
def test_a_failing_request_in_strict_mode_is_reported_not_printed(
    registry: HealthRegistry, capfd: pytest.CaptureFixture[str]
) -> None:
    """In strict mode a handler error drops that connection and is counted, never printed."""

    def broken() -> bool:
        raise RuntimeError("boom")

    _guard.reset_internal_errors()
    server = ProbeServer(registry, ready=broken)
    server.start()
    try:
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            fetch(server.url + "/readyz")
        assert fetch(server.url + "/livez").status == 200  # the server keeps serving
        assert _guard.internal_error_counts() == {"server.request": 1}
    finally:
        _guard.reset_internal_errors()
        assert server.stop(WAIT)
    assert capfd.readouterr().err == ""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_serve(probe: ProbeServer) -> None:
    """In a forked child the server is stopped and its socket copy closed; the parent serves."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which reports by exit code
        code = 1
        try:
            closed = probe._server is None and probe._thread is None
            code = 0 if closed and probe.stop(1.0) else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert fetch(probe.url + "/livez").status == 200
