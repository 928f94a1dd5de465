"""The `rules export` command: the alert rules as a Prometheus rule file on stdout."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from flext_observability.exceptions import ConfigurationError
from flext_observability.rules import AlertRule, load_rules_file, rules_from_pyproject
from flext_observability.rules._prometheus import prometheus_rule_file
from flext_observability.settings import FlextObservabilitySettings

__all__ = ["add_rules_arguments", "cmd_rules"]


def add_rules_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `export --format prometheus [--rules FILE]` to the `rules` parser."""
    actions = parser.add_subparsers(dest="rules_command", required=True)
    export = actions.add_parser(
        "export", help="print the alert rules for another engine (a Prometheus rule file)"
    )
    export.add_argument("--format", choices=["prometheus"], default="prometheus")
    export.add_argument(
        "--rules",
        type=Path,
        help="rules file (default: FLEXT_OBSERVABILITY_ALERT_RULES, else pyproject.toml)",
    )
    export.add_argument("--group", default="flext-observability", help="rule group name")


def _rules(settings: FlextObservabilitySettings, path: Path | None) -> list[AlertRule]:
    if path is not None:
        return load_rules_file(path)
    if settings.alert_rules is not None:
        return load_rules_file(settings.alert_rules)
    if Path("pyproject.toml").is_file():
        return rules_from_pyproject("pyproject.toml")
    return []


def cmd_rules(
    settings: FlextObservabilitySettings, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """Print the rules as a Prometheus rule file; 2 when the rules cannot be read."""
    try:
        rules = _rules(settings, args.rules)
    except ConfigurationError as exc:
        err.write(f"flext-observability: {exc}\n")
        return 2
    if not rules:
        err.write(
            "flext-observability: no alert rules (pass --rules FILE or set "
            "FLEXT_OBSERVABILITY_ALERT_RULES); writing an empty group\n"
        )
    out.write(
        prometheus_rule_file(rules, group=args.group, health_interval_s=settings.health_interval_s)
    )
    return 0
