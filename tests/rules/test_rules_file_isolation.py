"""A broken rules file loses only its rules, with one warning naming file, rule and field."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flext_observability import setup, testing
from flext_observability.exceptions import ConfigurationError
from flext_observability.models import FlextMetric, MetricType
from flext_observability.rules import load_rules_file
from flext_observability.rules._file import MAX_RULES, MAX_RULES_FILE_BYTES
from flext_observability.sinks import MemorySink

LOG_RATE_OVER_CAP = """
[[rules]]
name = "noisy"
kind = "log_rate"
level = "error"
window = "1m"
threshold = 20000
"""


def _setup_with_rules(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEXT_OBSERVABILITY_ALERT_RULES", str(path))
    sink = MemorySink()
    obs = setup(sinks=[sink], store_enabled=False, health_enabled=False)
    try:
        assert obs.emit(FlextMetric(name="m", value=1.0, metric_type=MetricType.GAUGE))
        assert obs.force_flush(5.0)
        assert "m" in [m.name for m in sink.of_type(FlextMetric)]
    finally:
        testing.release()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (LOG_RATE_OVER_CAP, "rule 'noisy': field 'threshold': expected less than"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("# x\n" * (MAX_RULES_FILE_BYTES // 4 + 1), "larger than"),
        (
            "".join(
                f'[[rules]]\nname = "r{i}"\nkind = "health"\ncheck = "c"\n'
                for i in range(MAX_RULES + 1)
            ),
            f"more than {MAX_RULES} rules",
        ),
    ],
    ids=["over-engine-cap", "deep-nesting", "too-large", "too-many"],
)
def test_a_broken_rules_file_only_loses_its_rules(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    text: str,
    said: str,
) -> None:
    """setup() works, entities flow, one warning names the file and the problem."""
    path = tmp_path / "rules.toml"
    path.write_text(text)
    caplog.set_level(logging.WARNING, logger="flext_observability")
    _setup_with_rules(path, monkeypatch)
    warnings = [
        r.getMessage() for r in caplog.records if "alert rules not loaded" in r.getMessage()
    ]
    assert len(warnings) == 1, warnings
    assert str(path.name) in warnings[0]
    assert said in warnings[0]


def test_deep_nesting_is_a_configuration_error_not_a_recursion_error(tmp_path: Path) -> None:
    """Loading it directly raises ConfigurationError naming the file."""
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigurationError, match=r"deep\.toml: .*nested too deeply"):
        load_rules_file(path)


def test_a_deep_pyproject_does_not_stop_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pyproject.toml nested thousands deep is ignored with a problem; setup works."""
    (tmp_path / "pyproject.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    monkeypatch.chdir(tmp_path)
    obs = setup(store_enabled=False, health_enabled=False)
    try:
        assert any("pyproject.toml" in p for p in obs.settings.problems)
    finally:
        testing.release()
