"""Resolve every setting from its sources, one field at a time.

Each field carries a `Setting` marker (parser and environment names) in its annotation, so the
model itself is the declarative table. `resolve()` walks each field's sources in precedence order
(explicit argument > environment variables in their listed order > `[tool.flext-observability]`
in pyproject.toml > default). A value that does not parse is skipped with one problem message and
the next source is tried, so one bad value never disables anything else. Explicit arguments are
never skipped: they raise `ConfigurationError`.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PyprojectTomlConfigSettingsSource
from pydantic_settings import SettingsConfigDict as _Config

from flext_observability.exceptions import ConfigurationError
from flext_observability.settings._parse import PAIRS, Feedback, Invalid, Parser, mask_url

__all__ = [
    "ENV_PREFIX",
    "PYPROJECT_TABLE",
    "ResourceKey",
    "Setting",
    "Spec",
    "close_matches",
    "parse_explicit",
    "resolve",
    "table_of",
]

ENV_PREFIX = "FLEXT_OBSERVABILITY_"
PYPROJECT_TABLE = ("tool", "flext-observability")
_PYPROJECT_LABEL = "pyproject.toml [tool.flext-observability]"
_RESOURCE_VAR = "OTEL_RESOURCE_ATTRIBUTES"
_MAX_SHOWN = 200


@dataclass(frozen=True)
class ResourceKey:
    """An environment source that is one key of `OTEL_RESOURCE_ATTRIBUTES`."""

    key: str


@dataclass(frozen=True)
class Setting:
    """Field metadata: how to parse the field and which environment variables feed it.

    With no `env`, the variable is `FLEXT_OBSERVABILITY_<FIELD NAME>`. `secret` values are shown
    as `'***'` in messages; `url` values have their user-info masked.
    """

    parser: Parser
    env: tuple[str | ResourceKey, ...] = ()
    secret: bool = False
    url: bool = False


@dataclass(frozen=True)
class Spec:
    name: str
    setting: Setting
    env: tuple[str | ResourceKey, ...]
    default: object
    nullable: bool


@dataclass
class Resolution:
    """The outcome of `resolve`: non-default values, every field's source, and messages."""

    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@functools.cache
def table_of(settings_cls: type[BaseSettings]) -> Mapping[str, Spec]:
    """Build (once per class) the field table from the `Setting` markers of its fields."""
    table: dict[str, Spec] = {}
    for name, info in settings_cls.model_fields.items():
        setting = next(m for m in info.metadata if isinstance(m, Setting))
        default = info.get_default(call_default_factory=True)
        env = setting.env or (ENV_PREFIX + name.upper(),)
        table[name] = Spec(name, setting, env, default, nullable=default is None)
    return table


def shown(spec: Spec, value: object) -> str:
    """Render a value for a message: secrets as `'***'`, URL credentials masked, truncated."""
    if value is None:
        return "None"
    if spec.setting.secret:
        return "'***'"
    if isinstance(value, tuple):
        value = ",".join(value)
    if isinstance(value, Path):
        value = str(value)
    if spec.setting.url and isinstance(value, str):
        value = mask_url(value)
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _detail(exc: Exception) -> str:
    """Return a parser's own detail (`Invalid` messages only; others may echo the input)."""
    return f" ({exc})" if isinstance(exc, Invalid) and str(exc) else ""


def close_matches(name: str, names: Mapping[str, object]) -> str:
    matches = difflib.get_close_matches(name, list(names), n=3)
    return f" (did you mean {', '.join(matches)}?)" if matches else ""


def parse_explicit(table: Mapping[str, Spec], values: Mapping[str, Any]) -> dict[str, object]:
    """Parse explicit arguments; raise `ConfigurationError` listing every invalid one."""
    out: dict[str, object] = {}
    errors: list[str] = []
    for name, raw in values.items():
        spec = table.get(name)
        if spec is None:
            errors.append(f"unknown setting {name!r}{close_matches(name, table)}")
            continue
        if raw is None and spec.nullable:
            out[name] = None
            continue
        feedback = Feedback()
        try:
            out[name] = spec.setting.parser(raw, feedback)
        except Exception as exc:  # noqa: BLE001 - any parser failure means 'invalid value'
            detail = _detail(exc)
            expected = spec.setting.parser.expected
            errors.append(f"{name}={shown(spec, raw)} is invalid: expected {expected}{detail}")
            continue
        errors.extend(f"{name}: {problem}" for problem in feedback.problems)
    if errors:
        raise ConfigurationError("; ".join(errors))
    return out


def read_pyproject(settings_cls: type[BaseSettings], path: Path | None) -> dict[str, object]:
    """Return the `[tool.flext-observability]` table (empty when there is none).

    Raises:
        ValueError: the file is not valid TOML or the table is not a table.
    """
    del settings_cls  # the table header lives on a holder class, see `_PyprojectTable`
    try:
        data: object = PyprojectTomlConfigSettingsSource(_PyprojectTable, toml_file=path).toml_data
    except (AttributeError, TypeError):  # a non-table on the path to our table
        data = None
    if not isinstance(data, dict):
        raise ValueError("[tool.flext-observability] is not a table")  # noqa: TRY004 - a config error
    return data


def _candidates(
    spec: Spec, environ: Mapping[str, str], table: Mapping[str, object]
) -> list[tuple[str, str, object]]:
    """List (source, label for messages, raw value) from highest to lowest precedence."""
    found: list[tuple[str, str, object]] = []
    for ref in spec.env:
        if isinstance(ref, ResourceKey):
            raw_attrs = environ.get(_RESOURCE_VAR, "")
            attrs = PAIRS(raw_attrs, Feedback()) if raw_attrs.strip() else {}
            value = attrs.get(ref.key, "") if isinstance(attrs, dict) else ""
            label, source = f"{_RESOURCE_VAR} {ref.key}", f"env:{_RESOURCE_VAR}"
        else:
            value, label, source = environ.get(ref, ""), ref, f"env:{ref}"
        if value.strip():
            found.append((source, label, value))
    for key in (spec.name, spec.name.replace("_", "-")):
        if key in table and table[key] not in ("", None):
            found.append(("pyproject", f"{_PYPROJECT_LABEL} {key}", table[key]))
            break
    return found


def _fallback_text(spec: Spec, value: object, source: str) -> str:
    if source == "default":
        return "leaving it unset" if value is None else f"using {shown(spec, value)}"
    return f"using {shown(spec, value)} from {source}"


def _resolve_field(
    spec: Spec, environ: Mapping[str, str], table: Mapping[str, object], out: Resolution
) -> None:
    failures: list[str] = []
    value, source, accepted = spec.default, "default", ("", Feedback())
    for cand_source, label, raw in _candidates(spec, environ, table):
        feedback = Feedback()
        try:
            value = spec.setting.parser(raw, feedback)
        except Exception as exc:  # noqa: BLE001 - any parser failure means 'invalid value'
            expected = spec.setting.parser.expected
            failures.append(
                f"{label}={shown(spec, raw)} is invalid: expected {expected}{_detail(exc)}"
            )
            continue
        source, accepted = cand_source, (label, feedback)
        out.values[spec.name] = value
        break
    out.sources[spec.name] = source
    tail = _fallback_text(spec, value, source)
    out.problems.extend(f"{failure}; {tail}" for failure in failures)
    label, feedback = accepted
    out.problems.extend(f"{label}: {problem}" for problem in feedback.problems)
    out.notes.extend(f"{label}: {note}" for note in feedback.notes)


def resolve(
    table: Mapping[str, Spec],
    *,
    explicit: Mapping[str, object],
    environ: Mapping[str, str],
    pyproject: Mapping[str, object],
) -> Resolution:
    """Resolve every field; explicit values must already be parsed (see `parse_explicit`)."""
    out = Resolution()
    for key in pyproject:
        if key.replace("-", "_") not in table:
            out.problems.append(
                f"{_PYPROJECT_LABEL} has an unknown key {key!r}{close_matches(key, table)}; ignored"
            )
    for name, spec in table.items():
        if name in explicit:
            out.values[name] = explicit[name]
            out.sources[name] = "argument"
        else:
            _resolve_field(spec, environ, pyproject, out)
    return out


SETTINGS_CONFIG = _Config(
    frozen=True,
    extra="forbid",
    hide_input_in_errors=True,
    use_attribute_docstrings=False,
    validate_default=False,
)


class _PyprojectTable(BaseSettings):
    """Never instantiated: tells pydantic-settings' pyproject source which table to read.

    Kept off the settings class itself, whose hermetic construction would otherwise warn that
    the pyproject source is configured but unused.
    """

    model_config = _Config(pyproject_toml_table_header=PYPROJECT_TABLE)
