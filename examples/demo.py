"""The end-to-end demo (`make demo`): an uninstrumented Flask shop, observed with zero code change.

1. starts `examples/flask_app.py` under `opentelemetry-instrument` (from this interpreter's bin
   directory) with our distro and configurator pinned, service name `flext-shop`, a fresh store
   under `.flext-observability/demo/`, a 2 s metric and health-check interval and the
   short-window alert rules of `examples/demo_rules.toml`;
2. waits until the shop answers, then drives traffic at it with `examples/traffic.py`: first a
   mix with failing checkouts (the `checkout-errors` alert fires), then healthy traffic until
   the store shows every fired alert resolved;
3. stops the shop with SIGINT (its exit hooks flush every signal) and waits for it;
4. prints `flext-observability --store <path> summary`: span trees, error spans, metrics, logs
   with trace ids, alerts and health; then the `flext-observability --store <path> ui` command
   that opens the same store in the web viewer.

Exits non-zero when any step fails. Any `OTEL_*` variable you set (say, an OTLP endpoint) is
passed on, so the same run also feeds your collector.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from flext_observability import FlextAlert, StoreError
from flext_observability.sinks import SQLiteStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
SERVICE = "flext-shop"


class DemoError(Exception):
    """A step of the demo failed."""


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tool(name: str) -> str:
    """Return the path of a console script installed next to this interpreter."""
    path = BIN / name
    if not path.exists():
        msg = f"{path} is missing: install the project first (make install)"
        raise DemoError(msg)
    return str(path)


def app_environment(store: Path, port: int) -> dict[str, str]:
    """The shop's environment: ours pinned, everything the user set passed on."""
    env = dict(os.environ)
    env.update(
        {
            "OTEL_PYTHON_DISTRO": "flext_observability",
            "OTEL_PYTHON_CONFIGURATOR": "flext_observability",
            "OTEL_SERVICE_NAME": SERVICE,
            "OTEL_METRIC_EXPORT_INTERVAL": "2000",
            "FLEXT_OBSERVABILITY_HEALTH_INTERVAL_S": "2",
            "FLEXT_OBSERVABILITY_STORE_PATH": str(store),
            "PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    rules = HERE / "demo_rules.toml"
    if rules.is_file():
        env["FLEXT_OBSERVABILITY_ALERT_RULES"] = str(rules)
    return env


def wait_listening(app: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    """Wait until the shop accepts connections; fail early when it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.poll() is not None:
            msg = f"the shop exited with status {app.returncode} before serving"
            raise DemoError(msg)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    msg = f"the shop did not listen on 127.0.0.1:{port} within {timeout:g}s"
    raise DemoError(msg)


def stop(app: subprocess.Popen[bytes], timeout: float) -> None:
    """Interrupt the shop (as Ctrl-C would) and wait for its exit hooks to finish."""
    if app.poll() is None:
        app.send_signal(signal.SIGINT)
    try:
        status = app.wait(timeout)
    except subprocess.TimeoutExpired:
        app.kill()
        app.wait(timeout)
        msg = f"the shop did not stop within {timeout:g}s of SIGINT (killed)"
        raise DemoError(msg) from None
    if status != 0:
        msg = f"the shop exited with status {status}"
        raise DemoError(msg)


def drive_traffic(port: int, count: int, *, failures: bool) -> None:
    """Run `examples/traffic.py` against the shop."""
    command = [
        sys.executable,
        str(HERE / "traffic.py"),
        "--base-url",
        f"http://127.0.0.1:{port}",
        "--count",
        str(count),
    ]
    if not failures:
        command.append("--no-failures")
    traffic = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    print(traffic.stdout.strip() or traffic.stderr.strip(), flush=True)
    if traffic.returncode != 0:
        msg = f"traffic failed with status {traffic.returncode}: {traffic.stderr.strip()}"
        raise DemoError(msg)


def alert_states(store: Path) -> dict[str, set[str]]:
    """The statuses each alert has been stored with so far (empty before the store is ready)."""
    if not store.exists():
        return {}
    states: dict[str, set[str]] = {}
    try:
        reader = SQLiteStore.open_readonly(store)
    except StoreError:  # the app created the file but has not written the schema yet
        return {}
    try:
        for alert in reader.query("alerts"):
            assert isinstance(alert, FlextAlert)
            states.setdefault(alert.name, set()).add(alert.status.value)
    finally:
        reader.close()
    return states


def recover(store: Path, port: int, timeout: float = 40.0) -> None:
    """Healthy traffic until every alert that fired has resolved (the rules' windows pass)."""
    deadline = time.monotonic() + timeout
    print("demo: healthy traffic until the alerts resolve...", flush=True)
    while time.monotonic() < deadline:
        states = alert_states(store)
        if states and all("resolved" in seen for seen in states.values()):
            for name, seen in sorted(states.items()):
                print(f"demo: alert {name}: {', '.join(sorted(seen))}", flush=True)
            return
        drive_traffic(port, 8, failures=False)
        time.sleep(1.0)
    msg = f"alerts did not fire and resolve within {timeout:g}s: {alert_states(store)}"
    raise DemoError(msg)


def run_demo(store: Path, port: int, count: int) -> str:
    """Run every step; return the summary the CLI printed."""
    store.parent.mkdir(parents=True, exist_ok=True)
    app_log = store.with_suffix(".app.log")
    print(f"demo: starting {SERVICE} on 127.0.0.1:{port}, store {store}", flush=True)
    with app_log.open("wb") as log_file:
        app = subprocess.Popen(
            [tool("opentelemetry-instrument"), sys.executable, str(HERE / "flask_app.py")],
            env=app_environment(store, port),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        try:
            wait_listening(app, port, timeout=60)
            drive_traffic(port, count, failures=True)
            recover(store, port)
        finally:
            stop(app, timeout=30)
    print("demo: the shop said:")
    for line in app_log.read_text(errors="replace").splitlines():
        print(f"  | {line}")
    summary = subprocess.run(
        [tool("flext-observability"), "--store", str(store), "summary"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if summary.returncode != 0:
        msg = f"flext-observability summary failed ({summary.returncode}): {summary.stderr}"
        raise DemoError(msg)
    return summary.stdout


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the demo; 0 on success, 1 when a step failed."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store",
        type=Path,
        default=ROOT / ".flext-observability" / "demo" / f"{stamp}-{os.getpid()}.db",
        help="store path (default: a fresh file under .flext-observability/demo/)",
    )
    parser.add_argument("--port", type=int, default=0, help="shop port (default: a free one)")
    parser.add_argument("--count", type=int, default=60, help="requests to send")
    args = parser.parse_args(argv)
    try:
        summary = run_demo(args.store, args.port or free_port(), args.count)
    except (DemoError, OSError, subprocess.SubprocessError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    print(summary, end="")
    store = shlex.quote(str(args.store))
    print(f"demo: explore further with `flext-observability --store {store} traces`")
    print(
        f"demo: or look in your browser (the failing checkout, its logs, the alert): "
        f"flext-observability --store {store} ui"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
