"""`flext-observability rules export --format prometheus`: the rules file on stdout."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from flext_observability.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_export_prints_one_alerting_rule_per_rule() -> None:
    """The example rules become one group with one alerting rule each, named by the rule."""
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["rules", "export", "--format", "prometheus", "--rules", str(EXAMPLES / "rules.toml")],
        out=out,
        err=err,
    )
    assert (code, err.getvalue()) == (0, "")
    names = [r["alert"] for r in yaml.safe_load(out.getvalue())["groups"][0]["rules"]]
    assert names == [
        "checkout-errors",
        "checkout-slow",
        "queue-backlog",
        "error-log-burst",
        "database-down",
        "heartbeat-missing",
    ]


def test_export_reads_the_rules_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --rules, FLEXT_OBSERVABILITY_ALERT_RULES names the file."""
    rules = tmp_path / "r.toml"
    rules.write_text('[[rules]]\nname = "x"\nkind = "log_rate"\nthreshold = 1\n')
    monkeypatch.setenv("FLEXT_OBSERVABILITY_ALERT_RULES", str(rules))
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert main(["rules", "export"], out=out, err=io.StringIO()) == 0
    assert yaml.safe_load(out.getvalue())["groups"][0]["rules"][0]["alert"] == "x"


def test_a_broken_rules_file_exits_2_naming_it(tmp_path: Path) -> None:
    """An invalid rules file: exit status 2 and a message naming the file and the field."""
    rules = tmp_path / "bad.toml"
    rules.write_text('[[rules]]\nname = "x"\nkind = "latency"\n')
    err = io.StringIO()
    assert main(["rules", "export", "--rules", str(rules)], out=io.StringIO(), err=err) == 2
    assert "bad.toml: rule 'x': field 'threshold_ms': required" in err.getvalue()
