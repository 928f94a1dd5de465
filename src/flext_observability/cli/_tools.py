"""The `config`, `doctor` and `run` commands."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import urllib.error
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from flext_observability._internal.early_env import SCRUBBED
from flext_observability.cli._format import line
from flext_observability.distro import ENTRY_POINT_NAME
from flext_observability.exceptions import StoreError
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.settings._otel_env import BEFORE_OUR_CODE, validate_otel_environment
from flext_observability.settings._parse import mask_url
from flext_observability.sinks.store import SQLiteStore

__all__ = ["cmd_config", "cmd_doctor", "cmd_live_health", "cmd_run", "distro_choice"]


def cmd_config(settings: FlextObservabilitySettings, *, as_json: bool, out: TextIO) -> int:
    """Print the effective settings, the source of each, and validation problems."""
    values = settings.dump_masked()
    rows = [
        {"setting": name, "value": value, "source": settings.source_of(name)}
        for name, value in values.items()
    ]  # one row per setting
    if as_json:
        json.dump({"settings": rows, "problems": list(settings.problems)}, out, default=str)
        out.write("\n")
        return 0
    width = max(len(str(row["setting"])) for row in rows)
    out.writelines(
        line(f"{row['setting']:{width}}  {row['value']!s:40}  {row['source']}") for row in rows
    )
    out.writelines(line(f"problem: {problem}") for problem in settings.problems)
    return 0


def cmd_live_health(url: str, token: str | None, *, as_json: bool, out: TextIO) -> int:
    """Fetch `/healthz` from a probe server; exit 0 when healthy or degraded, 1 otherwise."""
    request = urllib.request.Request(url.rstrip("/") + "/healthz")  # noqa: S310 - user's URL
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            body = response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            body = exc.read()
            if exc.code != 503:  # noqa: PLR2004 - 503 still carries the health document
                out.write(line(f"probe server answered {exc.code}"))
                return 1
    except OSError as exc:
        out.write(line(f"probe server at {mask_url(url)} does not answer: {exc}"))
        return 1
    document = json.loads(body)
    if as_json:
        out.write(json.dumps(document) + "\n")
    else:
        out.write(line(f"overall              {document['status']}"))
        out.writelines(
            line(f"{name:20} {check['status']:9} {check['message']}".rstrip())
            for name, check in sorted(document["checks"].items())
        )
    return 0 if document["status"] in {"healthy", "degraded"} else 1


def distro_choice() -> tuple[str | None, list[str]]:
    """Which distro `opentelemetry-instrument` would load, and every distro installed."""
    names = [entry.name for entry in entry_points(group="opentelemetry_distro")]
    pinned = os.environ.get("OTEL_PYTHON_DISTRO")
    if pinned:
        return (pinned if pinned in names else None), names
    return (names[0] if names else None), names


def _reachable(endpoint: str, timeout: float = 1.0) -> str:
    parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
    host = parts.hostname or "localhost"
    port = parts.port or (443 if parts.scheme == "https" else 4317)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return f"{host}:{port} answers"
    except OSError as exc:
        return f"{host}:{port} does not answer ({exc.strerror or type(exc).__name__})"


def cmd_doctor(settings: FlextObservabilitySettings, store_path: Path, out: TextIO) -> int:
    """Report distro/configurator choice, instrumentations, OTLP reachability and the store."""
    chosen, installed = distro_choice()
    out.write(line(f"distros installed: {', '.join(installed) or 'none'}"))
    out.write(line(f"opentelemetry-instrument would load distro: {chosen or 'the default'}"))
    configurators = [entry.name for entry in entry_points(group="opentelemetry_configurator")]
    pinned = os.environ.get("OTEL_PYTHON_CONFIGURATOR")
    out.write(
        line(
            f"configurators installed: {', '.join(configurators) or 'none'}"
            f"{f' (pinned: {pinned})' if pinned else ''}"
        )
    )
    if chosen != ENTRY_POINT_NAME or (len(configurators) > 1 and pinned != ENTRY_POINT_NAME):
        out.write(
            "warning: another distro or configurator may be picked; pin ours with "
            f"OTEL_PYTHON_DISTRO={ENTRY_POINT_NAME} OTEL_PYTHON_CONFIGURATOR={ENTRY_POINT_NAME} "
            "or use `flext-observability run -- ...`\n"
        )
    instrumentations = sorted({e.name for e in entry_points(group="opentelemetry_instrumentor")})
    out.write(line(f"instrumentations installed: {', '.join(instrumentations) or 'none'}"))
    for signal in ("traces", "metrics", "logs"):
        endpoint = settings.otlp_for(signal).endpoint
        state = _reachable(endpoint) if endpoint else "no OTLP endpoint (store only)"
        out.write(line(f"otlp {signal}: {state}"))
    if store_path.exists():
        try:
            store = SQLiteStore.open_readonly(store_path)
            counts = store.counts()
            size = store.size_bytes()
            store.close()
            out.write(line(f"store: {store_path} ({size / 1e6:.1f} MB) {counts}"))
        except StoreError as exc:
            out.write(line(f"store: {store_path} is unreadable: {exc}"))
            return 1
    else:
        out.write(line(f"store: {store_path} (not created yet)"))
    out.writelines(line(f"problem: {problem}") for problem in settings.problems)
    return _doctor_otel_environment(out)


def _doctor_otel_environment(out: TextIO) -> int:
    """List invalid OTEL_* values; those the launcher acts on before our code are errors (1)."""
    result = validate_otel_environment({**os.environ, **SCRUBBED}, scrub=False)
    status = 0
    for problem in result.problems:
        name = problem.split("=", 1)[0]
        if name in BEFORE_OUR_CODE:
            status = 1
            out.write(
                f"error: {problem.removesuffix('; using the default')} — opentelemetry-instrument "
                "acts on it before flext-observability runs, so no fallback can help: fix it\n"
            )
        else:
            out.write(line(f"problem: {problem}"))
    return status


def cmd_run(command: list[str], err: TextIO) -> int:  # noqa: RET503 - exec never returns
    """Run `command` under `opentelemetry-instrument` with our distro and configurator pinned."""
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        err.write("flext-observability run: give a command, e.g. run -- python app.py\n")
        return 2
    bindir = Path(sys.executable).parent
    instrument = bindir / "opentelemetry-instrument"
    program = str(instrument) if instrument.exists() else shutil.which("opentelemetry-instrument")
    if program is None:
        err.write("flext-observability run: opentelemetry-instrument is not installed\n")
        return 1
    env = dict(os.environ)
    env["OTEL_PYTHON_DISTRO"] = ENTRY_POINT_NAME
    env["OTEL_PYTHON_CONFIGURATOR"] = ENTRY_POINT_NAME
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(program, [program, *command], env)  # noqa: S606 - runs the user's command by design
