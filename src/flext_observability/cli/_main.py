"""The `flext-observability` command: configuration, diagnosis, running apps, store queries.

```
flext-observability [--store PATH] COMMAND
  config [--json]        effective settings, the source of each, problems
  doctor [--send]        distro/configurator choice, instrumentations, OTLP, store; --send
                         sends one item per signal and says whether the endpoint took it
  run -- COMMAND...      run a command under opentelemetry-instrument with our distro
  rules export --format prometheus [--rules FILE]
                         the alert rules as a Prometheus rule file
  summary|traces|logs|metrics|alerts|health [filters] [--json]
  ui [--store PATH] [--host H] [--port N] [--no-browser] [--token T]   the web viewer
```
Exit codes: 0 success, 1 a missing or unreadable store (or another runtime problem), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from flext_observability.cli._query import QUERY_COMMANDS, add_query_arguments
from flext_observability.cli._rules import add_rules_arguments, cmd_rules
from flext_observability.cli._tools import cmd_config, cmd_doctor, cmd_live_health, cmd_run
from flext_observability.exceptions import ConfigurationError, StoreError
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.sinks.store import SQLiteStore

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (also used to document the CLI)."""
    parser = argparse.ArgumentParser(
        prog="flext-observability", description="Inspect and run flext-observability."
    )
    parser.add_argument("--store", type=Path, help="store path (default: from settings)")
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="effective settings and their sources")
    config.add_argument("--json", action="store_true")
    doctor = commands.add_parser("doctor", help="check the installation and the configuration")
    doctor.add_argument(
        "--send",
        action="store_true",
        help="also send one span, metric point and log record through the configured OTLP "
        "exporters and say per signal whether the endpoint accepted it",
    )
    run = commands.add_parser("run", help="run a command under auto-instrumentation")
    run.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    add_rules_arguments(commands.add_parser("rules", help="export the alert rules"))
    for name, fn in QUERY_COMMANDS.items():
        add_query_arguments(commands.add_parser(name, help=fn.__doc__), name)
    ui = commands.add_parser("ui", help="the local web viewer of the store")
    ui.add_argument("--store", type=Path, default=argparse.SUPPRESS, help="store path")
    ui.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=8787, help="port (0: a free one; default 8787)")
    ui.add_argument("--no-browser", action="store_true", help="do not open a browser")
    ui.add_argument("--token", help="token required by the viewer (needed on a non-loopback host)")
    return parser


def _doctor(
    settings: FlextObservabilitySettings, store_path: Path, *, send: bool, out: TextIO
) -> int:
    status = cmd_doctor(settings, store_path, out)
    if send:
        from flext_observability.cli._send import cmd_send  # noqa: PLC0415 - loads the SDK

        status = max(status, cmd_send(settings, out))
    return status


def _cmd_ui(
    args: argparse.Namespace,
    settings: FlextObservabilitySettings,
    store_path: Path,
    out: TextIO,
    err: TextIO,
) -> int:
    from flext_observability.cli.ui import run_ui  # noqa: PLC0415 - only this command

    token = args.token or (settings.ui_token.get_secret_value() if settings.ui_token else None)
    return run_ui(
        store_path,
        host=args.host,
        port=args.port,
        token=token,
        open_browser=not args.no_browser,
        out=out,
        err=err,
    )


def main(  # noqa: C901, PLR0911 - one exit per documented outcome (a dispatcher)
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        settings = FlextObservabilitySettings.load()
    except ConfigurationError as exc:
        err.write(f"flext-observability: {exc}\n")
        return 2
    store_path: Path = args.store or settings.store_path
    if args.command == "config":
        return cmd_config(settings, as_json=args.json, out=out)
    if args.command == "doctor":
        return _doctor(settings, store_path, send=args.send, out=out)
    if args.command == "run":
        return cmd_run(list(args.argv), err)
    if args.command == "rules":
        return cmd_rules(settings, args, out, err)
    if args.command == "ui":
        return _cmd_ui(args, settings, store_path, out, err)
    if args.command == "health" and args.url:
        token = settings.health_token.get_secret_value() if settings.health_token else None
        return cmd_live_health(args.url, token, as_json=args.json, out=out)
    if not store_path.exists():
        err.write(
            f"flext-observability: no store at {store_path}: run your app with "
            "flext-observability first (e.g. `flext-observability run -- python app.py`), "
            "or pass --store PATH\n"
        )
        return 1
    try:
        store = SQLiteStore.open_readonly(store_path)
        try:
            return QUERY_COMMANDS[args.command](store, args, out)
        finally:
            store.close()
    except StoreError as exc:
        err.write(f"flext-observability: cannot read the store {store_path}: {exc}\n")
        return 1
    except ValueError as exc:
        err.write(f"flext-observability: {exc}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover - `python -m flext_observability.cli`
    sys.exit(main())
