"""The Prometheus export of alert rules: one valid alerting rule per rule, checked by promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from flext_observability.rules import (
    AbsenceRule,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    ThresholdRule,
    load_rules_file,
)
from flext_observability.rules._prometheus import (
    _label,
    glob_to_regex,
    prometheus_rule_file,
    rule_expression,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def test_every_kind_has_its_promql_form() -> None:
    """Each kind maps to the derived/exported metric it is about, with its comparison."""
    cases = {
        ThresholdRule(name="t", metric="queue.depth", tags={"queue": "a"}, threshold=5): (
            'queue_depth(_[a-z]+)?(_total)?", ',
            'queue="a"} > 5',
        ),
        ErrorRatioRule(name="e", operation="GET /x", threshold=0.1, min_count=3): (
            'flext_span_duration_seconds_count{span_name="GET /x", status="error"}',
            "> 0.1 and",
        ),
        LatencyRule(name="l", operation="pay*", threshold_ms=250, percentile=99): (
            "histogram_quantile(0.99, sum by (job, instance, le) (rate(flext_span_duration_",
            "> 0.25 and",
        ),
        LogRateRule(name="g", level="warning", logger="app", threshold=3): (
            'level=~"warning|error|critical"',
            "[1m])) > 3",
        ),
        HealthRule(name="h", check="db", status="degraded"): (
            'flext_health_status{check="db"}',
            ">= 0 <= 0.5",
        ),
        AbsenceRule(name="a", operation="tick", duration_s=90): (
            'absent_over_time(flext_span_duration_seconds_count{span_name="tick"}[90s])',
            "== 0",
        ),
    }
    for rule, fragments in cases.items():
        expr = rule_expression(rule)
        assert all(fragment in expr for fragment in fragments), (rule.kind, expr)


def test_a_service_filter_joins_target_info() -> None:
    """A `service` other than `*` keeps only jobs whose target_info has that service_name."""
    expr = rule_expression(ErrorRatioRule(name="e", service="shop-*", threshold=0.5))
    assert expr.endswith(
        'and on (job, instance) group by (job, instance) (target_info{service_name=~"shop-.*"})'
    )


@given(st.text(max_size=20))
def test_globs_translate_to_regexes_that_match_the_same_names(name: str) -> None:
    """A glob's regex (anchored, as Prometheus does) accepts exactly what fnmatch accepts."""
    from fnmatch import fnmatchcase  # noqa: PLC0415 - local to the property

    for pattern in ("app.*", "a?c", "[ab]x*", "x+y(z)", "*"):
        regex = re.compile(glob_to_regex(pattern), re.DOTALL)
        assert bool(regex.fullmatch(name)) == fnmatchcase(name, pattern), (pattern, name)


def test_for_labels_and_annotations_come_from_the_rule() -> None:
    """`for`, severity, rule labels and a summary are on each exported alerting rule."""
    rules = load_rules_file(EXAMPLES / "rules.toml")
    document = yaml.safe_load(prometheus_rule_file(rules, health_interval_s=30))
    exported = document["groups"][0]["rules"]
    assert [r["alert"] for r in exported] == [rule.name for rule in rules]
    by_name = {r["alert"]: r for r in exported}
    assert by_name["checkout-slow"]["for"] == "2m"
    assert by_name["database-down"]["for"] == "1m"  # 3 consecutive runs, 30 s apart
    assert by_name["checkout-errors"]["labels"] == {
        "severity": "error",
        "team": "payments",
        "rule": "checkout-errors",
    }
    assert by_name["checkout-errors"]["annotations"]["summary"].startswith("checkout-errors: ")


_HOSTILE = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1
).filter(lambda s: s.strip() != "")


@given(name=_HOSTILE, label=_HOSTILE, value=st.text(), op=_HOSTILE)
@settings(max_examples=60)
def test_hostile_fields_never_break_the_yaml(name: str, label: str, value: str, op: str) -> None:
    """Quotes, newlines and YAML syntax in names, labels and filters stay inside their strings.

    A user label that sanitises to a reserved name (`severity`, `rule`) yields to the rule's own.
    """
    rule = ErrorRatioRule(name=name, operation=op, labels={label: value}, threshold=0.5)
    document = yaml.safe_load(prometheus_rule_file([rule]))
    exported = document["groups"][0]["rules"][0]
    assert exported["alert"] == name
    assert exported["labels"]["severity"] == rule.severity
    assert exported["labels"]["rule"] == name
    if _label(label) not in {"severity", "rule"}:
        assert exported["labels"][_label(label)] == value
    assert all(re.fullmatch(r"[A-Za-z_]\w*", key) for key in exported["labels"])


@pytest.mark.slow
@pytest.mark.skipif(not Path(PROMTOOL).exists(), reason="promtool is not installed")
def test_promtool_accepts_the_export(tmp_path: Path) -> None:
    """`promtool check rules` passes on the example rules and on hostile, generated ones."""
    rules = load_rules_file(EXAMPLES / "rules.toml")
    rules += [
        ErrorRatioRule(name='we"ird\nname: {x}', operation="a.b[c]*", service="s?", threshold=0.2),
        LatencyRule(name="p50", operation="*", threshold_ms=0.5, percentile=50, window_s=0.25),
        LogRateRule(name="any-log", level="debug", threshold=0, labels={"team-x": "a'b"}),
        HealthRule(name="all-checks", check="*", status="degraded", consecutive=2),
        ThresholdRule(name="eq", metric="x.*", op="==", threshold=-1.5, tags={"k.v": 1}),
        AbsenceRule(name="quiet", metric="http.server.request.duration", duration_s=3600),
    ]
    path = tmp_path / "rules.yml"
    path.write_text(prometheus_rule_file(rules, evaluation_interval_s=1))
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout
