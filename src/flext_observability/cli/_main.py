"""The `flext-observability` command: configuration, diagnosis, running apps, store queries.

```
flext-observability [--store PATH] COMMAND
  config [--json]        effective settings, the source of each, problems
  doctor                 distro/configurator choice, instrumentations, OTLP, store
  run -- COMMAND...      run a command under opentelemetry-instrument with our distro
  rules export --format prometheus [--rules FILE]
                         the alert rules as a Prometheus rule file
  summary|traces|logs|metrics|alerts|health [filters] [--json]
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
    commands.add_parser("doctor", help="check the installation and the configuration")
    run = commands.add_parser("run", help="run a command under auto-instrumentation")
    run.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    add_rules_arguments(commands.add_parser("rules", help="export the alert rules"))
    for name, fn in QUERY_COMMANDS.items():
        add_query_arguments(commands.add_parser(name, help=fn.__doc__), name)
    return parser


def main(  # noqa: PLR0911 - one exit per documented outcome
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
        return cmd_doctor(settings, store_path, out)
    if args.command == "run":
        return cmd_run(list(args.argv), err)
    if args.command == "rules":
        return cmd_rules(settings, args, out, err)
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
