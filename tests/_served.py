"""Real servers and workers started by the integration tests, under `opentelemetry-instrument`.

`Served` runs one command (a server, a worker, a script) in a subprocess with a clean
environment (no inherited `OTEL_*` / `FLEXT_OBSERVABILITY_*`), only our *distro* pinned (the
distro pins its configurator itself), its own store, and its output in a file. `stop()` sends
SIGTERM, as a container runtime does, and measures how long the exit took. `Telemetry` reads
what reached the store and holds the checks every row of the compatibility table shares.
Only 127.0.0.1 is used.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from _receivers import free_port, wait_for_port
from _shop import BIN, REPO, clean_env, http_get
from flext_observability.models import FlextLogEntry, FlextTrace
from flext_observability.sinks.store import SQLiteStore

__all__ = [
    "APPS",
    "RedisServer",
    "Served",
    "Telemetry",
    "new_ids",
    "pid_of",
    "read_telemetry",
    "traced_get",
]

APPS = REPO / "tests" / "apps"
EXIT_BOUND_S = 30.0
"""A SIGTERMed server must be gone within this (generous: the machine is shared and loaded)."""


class Served:
    """One real process (under `opentelemetry-instrument` unless told otherwise)."""

    def __init__(
        self,
        workdir: Path,
        argv: Sequence[str],
        *,
        name: str = "served",
        env: Mapping[str, str] | None = None,
        instrument: bool = True,
        store: Path | None = None,
    ) -> None:
        """Start `argv` (a venv executable name or a path) in `workdir`."""
        self.name = name
        self.store = store or workdir / f"{name}.db"
        self.output_path = workdir / f"{name}.out"
        environment = clean_env(
            OTEL_PYTHON_DISTRO="flext_observability",
            OTEL_SERVICE_NAME=name,
            FLEXT_OBSERVABILITY_STORE_PATH=str(self.store),
            FLEXT_OBSERVABILITY_HEALTH_ENABLED="false",
            PYTHONPATH=str(APPS),
        )
        environment.update(env or {})
        command = [str(BIN / argv[0]) if (BIN / argv[0]).exists() else argv[0], *argv[1:]]
        if instrument:
            command = [str(BIN / "opentelemetry-instrument"), *command]
        self._out: IO[bytes] = self.output_path.open("wb")
        self.process = subprocess.Popen(
            command, env=environment, stdout=self._out, stderr=subprocess.STDOUT, cwd=workdir
        )
        self.exit_seconds: float | None = None

    @property
    def output(self) -> str:
        """Everything the process (and its children) printed so far."""
        if not self._out.closed:
            self._out.flush()
        return self.output_path.read_text(errors="replace")

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        """Wait until `url` answers 200; fail with the output if the process exits first."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                msg = f"{self.name} exited ({self.process.returncode}):\n{self.output[-4000:]}"
                raise AssertionError(msg)
            try:
                if http_get(url, timeout=2.0)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                msg = f"{self.name} not ready after {timeout}s:\n{self.output[-4000:]}"
                raise AssertionError(msg)
            time.sleep(0.1)

    def wait_output(self, needle: str, timeout: float = 60.0, count: int = 1) -> None:
        """Wait until the output contains `needle` (`count` times)."""
        deadline = time.monotonic() + timeout
        while self.output.count(needle) < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                msg = f"{self.name}: no {needle!r} ({self.process.returncode}):\n{self.output}"
                raise AssertionError(msg[-6000:])
            time.sleep(0.1)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = EXIT_BOUND_S) -> int:
        """Send `sig` (SIGTERM: how containers stop) and wait; kill the group if it hangs."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self._out.close()
        self.exit_seconds = time.monotonic() - started
        return code

    def wait_exit(self, timeout: float = EXIT_BOUND_S) -> int:
        """Wait for the process to finish by itself."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self._out.close()

    def kill(self) -> None:
        """Kill the process (used only when it hangs; the test then fails)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        if not self._out.closed:
            self._out.close()


@dataclass(frozen=True)
class Telemetry:
    """What one run left in its store."""

    spans: list[FlextTrace]
    logs: list[FlextLogEntry]

    def named(self, name: str) -> list[FlextTrace]:
        """The spans called `name`."""
        return [s for s in self.spans if s.operation_name == name]

    def logs_saying(self, text: str) -> list[FlextLogEntry]:
        """The log records whose message contains `text`."""
        return [e for e in self.logs if text in e.message]

    def assert_each_once(self) -> None:
        """No span and no log record was delivered twice."""
        doubled = [k for k, n in Counter(s.span_id for s in self.spans).items() if n > 1]
        assert not doubled, f"spans delivered twice: {doubled[:5]}"
        keys = Counter((e.timestamp, e.message, e.span_id) for e in self.logs)
        assert not [k for k, n in keys.items() if n > 1], "a log record was delivered twice"

    def parent_of(self, span: FlextTrace) -> FlextTrace:
        """The stored parent of `span` (same trace)."""
        parents = [
            s
            for s in self.spans
            if s.span_id == span.parent_span_id and s.trace_id == span.trace_id
        ]
        assert len(parents) == 1, (span.operation_name, span.parent_span_id)
        return parents[0]

    def assert_logged_in(self, entry: FlextLogEntry, span: FlextTrace) -> None:
        """`entry` was logged while `span` was the active span."""
        assert (entry.trace_id, entry.span_id) == (span.trace_id, span.span_id), (
            entry.message,
            span.operation_name,
        )


def read_telemetry(store: Path) -> Telemetry:
    """Everything in the store at `store` (traces and logs)."""
    reader = SQLiteStore.open_readonly(store)
    try:
        spans = [s for s in reader.query("traces") if isinstance(s, FlextTrace)]
        logs = [e for e in reader.query("logs") if isinstance(e, FlextLogEntry)]
    finally:
        reader.close()
    return Telemetry(spans, logs)


def pid_of(span: FlextTrace) -> int:
    """The `app.pid` attribute the test apps put on their spans."""
    return int(str(span.attributes["app.pid"]))


def traced_get(url: str, trace_id: str, parent_id: str, timeout: float = 10.0) -> bytes:
    """GET `url` as a traced client would: a W3C `traceparent` naming trace and parent span."""
    request = urllib.request.Request(url, headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read()
        return body


def new_ids(count: int) -> list[tuple[str, str]]:
    """`count` random (trace id, span id) pairs for `traced_get`."""
    return [(secrets.token_hex(16), secrets.token_hex(8)) for _ in range(count)]


class RedisServer:
    """A throwaway `redis-server` (the Debian package) on 127.0.0.1, no persistence."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self._log = (workdir / "redis.log").open("wb")
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)

    @property
    def url(self) -> str:
        """The `redis://` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._log.close()
