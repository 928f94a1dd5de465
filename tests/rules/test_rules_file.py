"""Alert rules from TOML files and from code: parsing, durations, and every error path."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flext_observability.exceptions import ConfigurationError, RuleFieldError
from flext_observability.rules import (
    AbsenceRule,
    AlertEngine,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    ThresholdRule,
    load_rules_file,
    parse_duration,
    rules_from_mapping,
    rules_from_pyproject,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rules.toml"


def test_example_rules_file_loads_every_kind() -> None:
    """examples/rules.toml is valid and yields exactly the documented rules."""
    assert load_rules_file(EXAMPLE) == [
        ErrorRatioRule(
            name="checkout-errors",
            operation="checkout",
            window_s=300.0,
            threshold=0.05,
            min_count=20,
            severity="error",
            escalate_after_s=900.0,
            labels={"team": "payments"},
        ),
        LatencyRule(
            name="checkout-slow",
            operation="checkout",
            window_s=300.0,
            percentile=95.0,
            threshold_ms=800.0,
            min_count=20,
            for_s=120.0,
        ),
        ThresholdRule(
            name="queue-backlog",
            metric="queue.depth",
            tags={"queue": "orders"},
            op=">",
            threshold=1000.0,
            for_s=60.0,
            cooldown_s=600.0,
        ),
        LogRateRule(
            name="error-log-burst", level="error", logger="app.*", window_s=60.0, threshold=10
        ),
        HealthRule(
            name="database-down",
            check="database",
            status="unhealthy",
            consecutive=3,
            severity="critical",
        ),
        AbsenceRule(name="heartbeat-missing", metric="worker.heartbeat", duration_s=120.0),
    ]
    assert [rule.name for rule in AlertEngine(load_rules_file(EXAMPLE)).rules] == [
        "checkout-errors",
        "checkout-slow",
        "queue-backlog",
        "error-log-burst",
        "database-down",
        "heartbeat-missing",
    ]


def test_pyproject_alerts_table(tmp_path: Path) -> None:
    """[tool.flext-observability.alerts] rules are read; a pyproject without it gives none."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\n\n[[tool.flext-observability.alerts.rules]]\n'
        'name = "hb"\nkind = "absence"\noperation = "tick"\nduration = "90s"\n',
        encoding="utf-8",
    )
    assert rules_from_pyproject(pyproject) == [
        AbsenceRule(name="hb", operation="tick", duration_s=90.0)
    ]
    pyproject.write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert rules_from_pyproject(pyproject) == []


def test_pyproject_errors_name_the_table(tmp_path: Path) -> None:
    """An invalid rule in pyproject names the file, the table, the rule and the field."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[[tool.flext-observability.alerts.rules]]\nname = "hb"\nkind = "absence"\n'
        'operation = "tick"\nduration = "soon"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError) as info:
        rules_from_pyproject(pyproject)
    assert str(info.value) == (
        "pyproject.toml [tool.flext-observability.alerts]: rule 'hb': field 'duration': expected "
        "a number of seconds or a string like '30s', '5m', '1h', '250ms', got 'soon'"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (0, 0.0),
        (30, 30.0),
        (1.5, 1.5),
        ("250ms", 0.25),
        ("30s", 30.0),
        (" 5m ", 300.0),
        ("1h", 3600.0),
        ("2d", 172800.0),
        ("1.5m", 90.0),
    ],
)
def test_parse_duration_accepts_numbers_and_units(text: object, seconds: float) -> None:
    """Durations are seconds or a number with ms/s/m/h/d."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "30", "5 minutes", "-1s", "1e3s", -1, math.inf, True, None])
def test_parse_duration_rejects_other_values(bad: object) -> None:
    """Anything else is a ValueError that shows the accepted forms."""
    with pytest.raises(ValueError, match=r"expected a number of seconds or a string like '30s'"):
        parse_duration(bad)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_parse_duration_number_roundtrip(value: float) -> None:
    """Any finite non-negative number of seconds is taken as is."""
    assert parse_duration(value) == value


_VALID = {"name": "r", "kind": "error_ratio", "threshold": 0.1}


def _error(rule: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as info:
        rules_from_mapping({"rules": [rule]}, "rules.toml")
    return str(info.value)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {**_VALID, "threshold": 1.5},
            "rules.toml: rule 'r': field 'threshold': expected a number from 0 to 1, got 1.5",
        ),
        (
            {**_VALID, "threshold": "high"},
            "rules.toml: rule 'r': field 'threshold': expected a number from 0 to 1, got 'high'",
        ),
        ({"kind": "error_ratio"}, "rules.toml: rule #1: field 'name': required"),
        (
            {**_VALID, "name": ""},
            "rules.toml: rule #1: field 'name': expected a non-empty string, got ''",
        ),
        (
            {"name": "r"},
            (
                "rules.toml: rule 'r': field 'kind': expected one of threshold, error_ratio, "
                "latency, log_rate, health, absence, got None"
            ),
        ),
        (
            {**_VALID, "kind": "ratio"},
            (
                "rules.toml: rule 'r': field 'kind': expected one of threshold, error_ratio, "
                "latency, log_rate, health, absence, got 'ratio'"
            ),
        ),
        (
            {**_VALID, "percentile": 95},
            (
                "rules.toml: rule 'r': field 'percentile': unknown key for kind 'error_ratio'; "
                "allowed: cooldown, escalate_after, for, kind, labels, min_count, name, operation, "
                "service, severity, threshold, window"
            ),
        ),
        ({"name": "r", "kind": "error_ratio"}, "rules.toml: rule 'r': field 'threshold': required"),
        (
            {"name": "r", "kind": "absence", "metric": "m"},
            "rules.toml: rule 'r': field 'duration': required",
        ),
        (
            {**_VALID, "window": "forever"},
            (
                "rules.toml: rule 'r': field 'window': expected a number of seconds or a string "
                "like '30s', '5m', '1h', '250ms', got 'forever'"
            ),
        ),
        (
            {**_VALID, "window": 0},
            "rules.toml: rule 'r': field 'window': expected a number > 0, got 0.0",
        ),
        (
            {**_VALID, "escalate_after": "0s"},
            "rules.toml: rule 'r': field 'escalate_after': expected a number > 0, got 0.0",
        ),
        (
            {**_VALID, "severity": "fatal"},
            (
                "rules.toml: rule 'r': field 'severity': expected one of info, warning, error, "
                "critical, got 'fatal'"
            ),
        ),
        (
            {**_VALID, "min_count": 0},
            "rules.toml: rule 'r': field 'min_count': expected an integer >= 1, got 0",
        ),
        (
            {**_VALID, "min_count": 2.5},
            "rules.toml: rule 'r': field 'min_count': expected an integer >= 1, got 2.5",
        ),
        (
            {**_VALID, "operation": ""},
            (
                "rules.toml: rule 'r': field 'operation': expected a non-empty name or glob "
                "pattern, got ''"
            ),
        ),
        (
            {**_VALID, "labels": {"team": 1}},
            (
                "rules.toml: rule 'r': field 'labels': expected non-empty string keys and string "
                "values, got {'team': 1}"
            ),
        ),
        (
            {**_VALID, "labels": "team"},
            "rules.toml: rule 'r': field 'labels': expected a table of strings, got 'team'",
        ),
        (
            {"name": "r", "kind": "threshold", "metric": "m", "threshold": 1, "op": "!="},
            "rules.toml: rule 'r': field 'op': expected one of >, >=, <, <=, ==, got '!='",
        ),
        (
            {"name": "r", "kind": "threshold", "metric": "m", "threshold": 1, "tags": {"a": [1]}},
            (
                "rules.toml: rule 'r': field 'tags': expected string keys and string/number/bool "
                "values, got {'a': [1]}"
            ),
        ),
        (
            {"name": "r", "kind": "threshold", "metric": "m", "threshold": 1, "tags": 3},
            "rules.toml: rule 'r': field 'tags': expected a table of tag values, got 3",
        ),
        (
            {"name": "r", "kind": "latency", "threshold_ms": 5, "percentile": 0},
            (
                "rules.toml: rule 'r': field 'percentile': expected a number from 0 (exclusive) "
                "to 100, got 0"
            ),
        ),
        (
            {"name": "r", "kind": "latency", "threshold_ms": 5, "percentile": 101},
            "rules.toml: rule 'r': field 'percentile': expected a number from 0 to 100, got 101",
        ),
        (
            {"name": "r", "kind": "latency", "threshold_ms": -5},
            "rules.toml: rule 'r': field 'threshold_ms': expected a number >= 0, got -5",
        ),
        (
            {"name": "r", "kind": "log_rate", "threshold": -1},
            "rules.toml: rule 'r': field 'threshold': expected an integer >= 0, got -1",
        ),
        (
            {"name": "r", "kind": "log_rate", "threshold": 1, "level": "loud"},
            (
                "rules.toml: rule 'r': field 'level': expected one of debug, info, warning, error, "
                "critical, got 'loud'"
            ),
        ),
        (
            {"name": "r", "kind": "health", "check": "db", "status": "healthy"},
            (
                "rules.toml: rule 'r': field 'status': expected one of degraded, unhealthy, got "
                "'healthy'"
            ),
        ),
        (
            {"name": "r", "kind": "health", "check": "db", "consecutive": 0},
            "rules.toml: rule 'r': field 'consecutive': expected an integer from 1 to 10000, got 0",
        ),
        (
            {"name": "r", "kind": "absence", "duration": 5},
            (
                "rules.toml: rule 'r': field 'metric': expected exactly one of 'metric' and "
                "'operation'"
            ),
        ),
        (
            {"name": "r", "kind": "absence", "duration": 5, "metric": "m", "operation": "o"},
            (
                "rules.toml: rule 'r': field 'metric': expected exactly one of 'metric' and "
                "'operation'"
            ),
        ),
    ],
)
def test_rule_errors_name_file_rule_and_field(rule: dict[str, Any], message: str) -> None:
    """Every invalid rule is a ConfigurationError naming the file, the rule and the field."""
    assert _error(rule) == message


def test_document_level_errors() -> None:
    """Duplicate names, non-table rules, a non-array `rules` and unknown keys are errors."""
    with pytest.raises(ConfigurationError) as info:
        rules_from_mapping({"rules": [_VALID, _VALID]}, "rules.toml")
    assert str(info.value) == "rules.toml: rule 'r': field 'name': duplicate rule name"
    with pytest.raises(ConfigurationError) as info:
        rules_from_mapping({"rules": [_VALID, "oops"]}, "rules.toml")
    assert str(info.value) == "rules.toml: rule #2: expected a table, got 'oops'"
    with pytest.raises(ConfigurationError) as info:
        rules_from_mapping({"rules": {"name": "r"}}, "rules.toml")
    assert str(info.value) == (
        "rules.toml: field 'rules': expected an array of tables, got {'name': 'r'}"
    )
    with pytest.raises(ConfigurationError) as info:
        rules_from_mapping({"rules": [], "rule": []}, "rules.toml")
    assert str(info.value) == "rules.toml: unknown key 'rule'; expected only 'rules'"
    assert rules_from_mapping({}, "rules.toml") == []


def test_file_level_errors(tmp_path: Path) -> None:
    """A missing file and invalid TOML are ConfigurationErrors naming the file."""
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigurationError, match=r"nope\.toml: cannot read the alert rules file"):
        load_rules_file(missing)
    broken = tmp_path / "rules.toml"
    broken.write_text("[[rules]\nname = 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"rules\.toml: invalid TOML: "):
        load_rules_file(broken)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_error_ratio_threshold_bounds(value: float) -> None:
    """An error-ratio threshold is accepted exactly when it is a number from 0 to 1."""
    if 0 <= value <= 1:
        assert ErrorRatioRule(name="r", threshold=value).threshold == value
    else:
        with pytest.raises(RuleFieldError) as info:
            ErrorRatioRule(name="r", threshold=value)
        assert (info.value.rule, info.value.field) == ("r", "threshold")


@given(st.integers(min_value=-5, max_value=5), st.sampled_from(["min_count", "consecutive"]))
def test_count_fields_bounds(value: int, field: str) -> None:
    """Counts must be integers >= 1; a smaller one names the field."""

    def build() -> object:
        if field == "min_count":
            return LatencyRule(name="r", threshold_ms=1, min_count=value)
        return HealthRule(name="r", check="db", consecutive=value)

    if value >= 1:
        build()
    else:
        with pytest.raises(
            RuleFieldError, match=rf"rule 'r': field '{field}': expected an integer"
        ):
            build()


def test_code_rules_normalise_and_name_python_fields() -> None:
    """Rules built in code normalise case and aliases and name their Python field on error."""
    rule = LogRateRule(name="r", level="WARN", threshold=3, severity="Critical")
    assert (rule.level, rule.severity) == ("warning", "critical")
    with pytest.raises(ConfigurationError) as info:
        ErrorRatioRule(name="r", threshold=0.5, window_s=-1)
    assert str(info.value) == "rule 'r': field 'window_s': expected a number > 0, got -1"
    with pytest.raises(ConfigurationError) as info:
        ThresholdRule(name=" ", metric="m", threshold=1)
    assert str(info.value) == "rule \"' '\": field 'name': expected a non-empty string, got ' '"
    assert hash(rule) == hash(
        LogRateRule(name="r", level="warning", threshold=3, severity="critical")
    )


def test_engine_rejects_duplicates_and_impossible_counts() -> None:
    """The engine refuses a duplicate rule name and counts beyond its sample cap."""
    engine = AlertEngine([ErrorRatioRule(name="r", threshold=0.5)], max_samples=100)
    with pytest.raises(ConfigurationError) as info:
        engine.add_rule(LogRateRule(name="r", threshold=1))
    assert str(info.value) == "rule 'r': field 'name': duplicate rule name"
    with pytest.raises(ConfigurationError) as info:
        engine.add_rule(LatencyRule(name="slow", threshold_ms=1, min_count=101))
    assert str(info.value) == (
        "rule 'slow': field 'min_count': expected at most the engine's max_samples (100), got 101"
    )
    with pytest.raises(ConfigurationError) as info:
        engine.add_rule(LogRateRule(name="burst", threshold=100))
    assert str(info.value) == (
        "rule 'burst': field 'threshold': expected less than the engine's max_samples (100), "
        "got 100"
    )
    with pytest.raises(ConfigurationError, match="max_groups: expected an integer >= 1, got 0"):
        AlertEngine(max_groups=0)
    with pytest.raises(ConfigurationError, match="add_rule: expected an alert rule, got str"):
        engine.add_rule("r")  # type: ignore[arg-type]
    assert [rule.name for rule in engine.rules] == ["r"]
