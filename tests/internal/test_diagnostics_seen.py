"""Our warnings and the SDK's reach stderr when the app configured no logging (issue 9, #1)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flext_observability._internal.diagnostics import DiagnosticsHandler
from flext_observability._internal.text import escape_control

SCRIPT = """
import logging, sys
from flext_observability import setup
from flext_observability.models import FlextMetric, MetricType
if "--app-logging" in sys.argv:
    logging.basicConfig(format="APP %(name)s %(message)s")
obs = setup(store_path=sys.argv[1], health_enabled=False, **LEVEL)
for n in range(3):
    obs.emit(FlextMetric(name="m", value=n, metric_type=MetricType.GAUGE))
obs.force_flush(5)
for n in range(500):
    logging.getLogger("opentelemetry.sdk.demo").warning("sdk says %s", n)
logging.getLogger("opentelemetry.sdk.demo").info("sdk info line")
logging.getLogger("flext_observability.demo").warning("two\\nlines \\x1b[2J")
"""


def _run(tmp_path: Path, *args: str, level: str = "") -> str:
    (tmp_path / "app.py").write_text(
        SCRIPT.replace("**LEVEL", f"diagnostics_level={level!r}" if level else "")
    )
    blocker = tmp_path / "file"
    blocker.write_text("a regular file, not a directory")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLEXT_"))}
    done = subprocess.run(
        [sys.executable, "app.py", str(blocker / "t.db"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stderr


@pytest.mark.slow
def test_store_drops_and_sdk_warnings_are_printed_once_each(tmp_path: Path) -> None:
    """Without app logging: the store's drop and the SDK's warning reach stderr, rate-limited."""
    lines = _run(tmp_path).splitlines()
    assert any("cantopen" in line for line in lines), lines
    sdk = [line for line in lines if "opentelemetry.sdk.demo" in line]
    assert sdk == ["flext-observability: WARNING opentelemetry.sdk.demo: sdk says 0"]
    demo = "flext-observability: WARNING flext_observability.demo: two\\nlines \\x1b[2J"
    assert any(line.startswith(demo) for line in lines), lines
    assert not any("sdk info line" in line for line in lines)


@pytest.mark.slow
def test_level_is_a_setting(tmp_path: Path) -> None:
    """diagnostics_level=INFO prints the SDK's info records too."""
    lines = _run(tmp_path, level="INFO").splitlines()
    info = "flext-observability: INFO opentelemetry.sdk.demo: sdk info line"
    assert any(line.startswith(info) for line in lines), lines


@pytest.mark.slow
def test_app_handler_gets_them_and_we_stay_quiet(tmp_path: Path) -> None:
    """When the app configured logging, its handler prints them and ours adds nothing."""
    lines = _run(tmp_path, "--app-logging").splitlines()
    assert "APP opentelemetry.sdk.demo sdk says 499" in lines
    assert not any(line.startswith("flext-observability: WARNING") for line in lines)


def test_rate_limit_holds_back_repeats_and_counts_them(capsys: pytest.CaptureFixture[str]) -> None:
    """One line per template per interval; held-back lines are counted on the next line."""
    now = [0.0]
    handler = DiagnosticsHandler(interval=60.0, burst=3, clock=lambda: now[0])
    logger = logging.getLogger("opentelemetry.test_rate_limit")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(100):
            logger.warning("repeated %s", n)
        now[0] = 61.0
        logger.warning("repeated %s", "again")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert capsys.readouterr().err.splitlines() == [
        "flext-observability: WARNING opentelemetry.test_rate_limit: repeated 0",
        (
            "flext-observability: WARNING opentelemetry.test_rate_limit: repeated again "
            "(99 similar lines held back)"
        ),
    ]


def test_escape_control_keeps_text_on_its_line() -> None:
    """Controls, separators and bidi overrides are escaped; printable text is unchanged."""
    assert escape_control("plain café ✓") == "plain café ✓"
    assert escape_control("a\nb\r\x1b]0;t\x07\u2028\u202e\x9b") == (
        "a\\nb\\r\\x1b]0;t\\x07\\u2028\\u202e\\x9b"
    )
