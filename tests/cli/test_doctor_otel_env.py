"""`doctor` flags OTEL_* values that fail before our code runs, and lists the other bad ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLI = str(Path(sys.executable).parent / "flext-observability")


def test_doctor_flags_a_launcher_breaking_value_and_exits_1(tmp_path: Path) -> None:
    """OTEL_PROPAGATORS=bogus stops opentelemetry-instrument: doctor says so (status 1)."""
    env = {"OTEL_PROPAGATORS": "bogus", "OTEL_BSP_MAX_QUEUE_SIZE": "0", "PATH": "/usr/bin"}
    done = subprocess.run(
        [CLI, "--store", str(tmp_path / "none.db"), "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert (
        "error: OTEL_PROPAGATORS='bogus' is invalid: expected none, or comma-separated names "
        "of installed 'opentelemetry_propagator' entry points (not installed: 'bogus') — "
        "opentelemetry-instrument acts on it before flext-observability runs, so no fallback "
        "can help: fix it"
    ) in lines
    assert (
        "problem: OTEL_BSP_MAX_QUEUE_SIZE='0' is invalid: expected a positive integer "
        "(at most 2147483647); using the default"
    ) in lines
    assert "Traceback" not in done.stderr
