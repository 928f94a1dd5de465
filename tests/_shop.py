"""Runs `examples/flask_app.py` under the venv's `opentelemetry-instrument` for end-to-end tests.

Each `Shop` gets its own store path and free port, a clean environment (no inherited `OTEL_*` or
`FLEXT_OBSERVABILITY_*` variable) with our distro and configurator pinned unless told otherwise,
and its output in files (no pipes to fill up). Only 127.0.0.1 is used.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from _receivers import free_port

__all__ = ["BIN", "EXAMPLES", "REPO", "Shop", "clean_env", "http_get"]

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
BIN = Path(sys.executable).parent
PINNED = {
    "OTEL_PYTHON_DISTRO": "flext_observability",
    "OTEL_PYTHON_CONFIGURATOR": "flext_observability",
}


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any OTEL_* / FLEXT_OBSERVABILITY_* variable, plus extra."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OTEL_", "FLEXT_OBSERVABILITY_"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """GET `url`; return (status, body) for success and HTTP error statuses alike."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code), exc.read()


class Shop:
    """The example shop running under auto-instrumentation in a subprocess."""

    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        *,
        pinned: bool = True,
        name: str = "shop",
    ) -> None:
        """Start the shop; `env` adds (or, as "", removes) environment variables."""
        self.port = free_port()
        self.store = workdir / f"{name}.db"
        self._stdout_path = workdir / f"{name}.out"
        self._stderr_path = workdir / f"{name}.err"
        environment = clean_env(
            OTEL_SERVICE_NAME="flext-shop",
            FLEXT_OBSERVABILITY_STORE_PATH=str(self.store),
            FLEXT_OBSERVABILITY_HEALTH_ENABLED="false",
            PORT=str(self.port),
            **(PINNED if pinned else {}),
        )
        for key, value in (env or {}).items():
            if value:
                environment[key] = value
            else:
                environment.pop(key, None)
        self._environment = environment
        self._workdir = workdir
        self._files: list[IO[bytes]] = []
        self.process = self._spawn()
        self.returncode: int | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        self._close_files()
        self._files = [self._stdout_path.open("wb"), self._stderr_path.open("wb")]
        return subprocess.Popen(
            [str(BIN / "opentelemetry-instrument"), sys.executable, str(EXAMPLES / "flask_app.py")],
            env=self._environment,
            stdout=self._files[0],
            stderr=self._files[1],
            cwd=self._workdir,
        )

    def _respawn_on_a_new_port(self) -> bool:
        """The free port was taken before the shop bound it (a rare race): try another one."""
        if "Address already in use" not in self.stderr:
            return False
        self.port = free_port()
        self._environment["PORT"] = str(self.port)
        self.process = self._spawn()
        return True

    @property
    def base_url(self) -> str:
        """The shop's URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr(self) -> str:
        """What the shop wrote to stderr so far."""
        return self._stderr_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until `GET /` answers 200; fail with the shop's stderr if it exits first."""
        deadline = time.monotonic() + timeout
        retries = 3
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if retries and self._respawn_on_a_new_port():
                    retries -= 1
                    continue
                msg = f"the shop exited ({self.process.returncode}):\n{self.stderr}"
                raise AssertionError(msg)
            try:
                if http_get(self.base_url + "/", timeout=1.0)[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        msg = f"the shop was not ready after {timeout}s:\n{self.stderr}"
        raise AssertionError(msg)

    def get(self, path: str) -> int:
        """GET `path` on the shop; return the status."""
        return http_get(self.base_url + path)[0]

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the process to exit by itself; return its status."""
        try:
            self.returncode = self.process.wait(timeout)
        finally:
            self._close_files()
        return self.returncode

    def stop(self, timeout: float = 30.0) -> int:
        """Interrupt the shop (SIGINT, as Ctrl-C) and wait; kill it if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
            raise
        finally:
            self._close_files()
        return self.returncode

    def _close_files(self) -> None:
        for file in self._files:
            file.close()
        self._files = []

    def __enter__(self) -> Self:
        """Wait until the shop serves."""
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the shop (its exit hooks flush the telemetry)."""
        self.stop()
