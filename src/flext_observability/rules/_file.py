"""Read alert rules from TOML: a rules file, or `[tool.flext-observability.alerts]` in pyproject.

```toml
[[rules]]
name = "checkout-errors"
kind = "error_ratio"
operation = "checkout"
window = "5m"
threshold = 0.1
min_count = 20
```

Durations are numbers of seconds or strings with a unit: "250ms", "30s", "5m", "1h", "1d".
Every error is a `ConfigurationError` naming the file, the rule (or its position when it has no
name) and the field: unknown keys, duplicate names and wrong values included.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any

from flext_observability._internal.text import shown
from flext_observability.exceptions import ConfigurationError, RuleFieldError
from flext_observability.rules._kinds import (
    AbsenceRule,
    AlertRule,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    ThresholdRule,
)

__all__ = [
    "MAX_RULES",
    "MAX_RULES_FILE_BYTES",
    "load_rules_file",
    "parse_duration",
    "rules_from_mapping",
    "rules_from_pyproject",
]

_KINDS: dict[str, type[AlertRule]] = {
    cls.kind: cls
    for cls in (ThresholdRule, ErrorRatioRule, LatencyRule, LogRateRule, HealthRule, AbsenceRule)
}
_COMMON = {"name", "kind", "severity", "for", "cooldown", "escalate_after", "labels"}
_KEYS: dict[str, set[str]] = {
    "threshold": {"metric", "tags", "op", "threshold"},
    "error_ratio": {"operation", "service", "window", "threshold", "min_count"},
    "latency": {"operation", "service", "window", "percentile", "threshold_ms", "min_count"},
    "log_rate": {"level", "logger", "window", "threshold"},
    "health": {"check", "status", "consecutive"},
    "absence": {"metric", "operation", "duration"},
}
_DURATION_KEYS = {
    "for": "for_s",
    "cooldown": "cooldown_s",
    "escalate_after": "escalate_after_s",
    "window": "window_s",
    "duration": "duration_s",
}
_FILE_KEY = {field: key for key, field in _DURATION_KEYS.items()}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_HELP = "a number of seconds or a string like '30s', '5m', '1h', '250ms'"
MAX_RULES_FILE_BYTES = 1_048_576
"""Largest rules file read (1 MiB): a rules file is hand-written configuration."""
MAX_RULES = 1000
"""Most rules one file may hold."""


def parse_duration(value: object) -> float:
    """Return seconds from a number or a "30s"/"5m"/"1h"/"250ms" string; raise `ValueError`."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    raise ValueError(f"expected {_DURATION_HELP}, got {shown(value)}")


def load_rules_file(path: str | Path) -> list[AlertRule]:
    """Read a TOML rules file (a list of `[[rules]]` tables)."""
    file = Path(path)
    try:
        with file.open("rb") as stream:
            raw = stream.read(MAX_RULES_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(
            f"{file}: cannot read the alert rules file: {exc.strerror}"
        ) from None
    if len(raw) > MAX_RULES_FILE_BYTES:
        raise ConfigurationError(
            f"{file}: the alert rules file is larger than {MAX_RULES_FILE_BYTES} bytes"
        )
    return rules_from_mapping(_parse_toml(raw, file), file.name)


def _parse_toml(raw: bytes, file: Path, label: str = "invalid TOML") -> dict[str, Any]:
    """Parse TOML; every failure (bad UTF-8, bad TOML, absurd nesting) names the file."""
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{file}: {label}: {exc}") from None
    except RecursionError:
        raise ConfigurationError(f"{file}: {label}: nested too deeply") from None


def rules_from_pyproject(path: str | Path) -> list[AlertRule]:
    """Read the rules of `[tool.flext-observability.alerts]` in a pyproject file (may be none)."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{file}: cannot read pyproject: {exc}") from None
    data = _parse_toml(raw, file, "cannot read pyproject")
    table = data.get("tool", {}).get("flext-observability", {}).get("alerts")
    if table is None:
        return []
    return rules_from_mapping(table, f"{file.name} [tool.flext-observability.alerts]")


def rules_from_mapping(data: Mapping[str, Any], origin: str) -> list[AlertRule]:
    """Build rules from a parsed table holding `rules = [...]`; `origin` prefixes errors."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"{origin}: expected a table with a 'rules' array, got {shown(data)}"
        )
    unknown = sorted(set(data) - {"rules"})
    if unknown:
        raise ConfigurationError(f"{origin}: unknown key {unknown[0]!r}; expected only 'rules'")
    entries = data.get("rules", [])
    if not isinstance(entries, list):
        raise ConfigurationError(
            f"{origin}: field 'rules': expected an array of tables, got {shown(entries)}"
        )
    if len(entries) > MAX_RULES:
        raise ConfigurationError(f"{origin}: more than {MAX_RULES} rules ({len(entries)})")
    rules: list[AlertRule] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        rule = _build_rule(entry, origin, index)
        if rule.name in seen:
            raise ConfigurationError(
                f"{origin}: rule {rule.name!r}: field 'name': duplicate rule name"
            )
        seen.add(rule.name)
        rules.append(rule)
    return rules


def _build_rule(entry: object, origin: str, index: int) -> AlertRule:
    if not isinstance(entry, Mapping):
        text = shown(entry)
        raise ConfigurationError(f"{origin}: rule #{index}: expected a table, got {text}")
    name = entry.get("name")
    who = f"rule {name!r}" if isinstance(name, str) and name.strip() else f"rule #{index}"
    prefix = f"{origin}: {who}"
    cls = _rule_class(entry, prefix)
    kwargs = _arguments(entry, prefix)
    missing = [
        spec.name
        for spec in fields(cls)
        if spec.init and spec.name not in kwargs and _required(spec)
    ]
    if missing:
        raise _field_error(prefix, _FILE_KEY.get(missing[0], missing[0]), "required")
    try:
        return cls(**kwargs)
    except RuleFieldError as exc:
        raise _field_error(prefix, _FILE_KEY.get(exc.field, exc.field), exc.problem) from None


def _field_error(prefix: str, field: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{prefix}: field {field!r}: {problem}")


def _rule_class(entry: Mapping[str, Any], prefix: str) -> type[AlertRule]:
    """Check `name`, `kind` and the keys allowed for that kind; return the rule class."""
    if "name" not in entry:
        raise _field_error(prefix, "name", "required")
    kind = entry.get("kind")
    if kind not in _KINDS:
        problem = f"expected one of {', '.join(_KINDS)}, got {shown(kind)}"
        raise _field_error(prefix, "kind", problem)
    allowed = _COMMON | _KEYS[kind]
    for key in entry:
        if key not in allowed:
            problem = f"unknown key for kind {kind!r}; allowed: {', '.join(sorted(allowed))}"
            raise _field_error(prefix, key, problem)
    return _KINDS[kind]


def _arguments(entry: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Map file keys to rule fields, parsing durations."""
    kwargs: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "kind":
            continue
        if key in _DURATION_KEYS:
            try:
                kwargs[_DURATION_KEYS[key]] = parse_duration(value)
            except ValueError as exc:
                raise _field_error(prefix, key, str(exc)) from None
        else:
            kwargs[key] = value
    return kwargs


def _required(spec: Field[Any]) -> bool:
    return spec.default is MISSING and spec.default_factory is MISSING
