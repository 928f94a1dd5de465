"""An app that calls `logging.basicConfig()` / `dictConfig()` before or after our setup.

Its console output must still appear (we never take logging over), each line once, and each
record must reach the store once, with the span's ids for the records logged inside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from _served import APPS, Served, read_telemetry

pytestmark = pytest.mark.slow

CASES = {
    "instrument-basic": ("after", "basic", False),
    "instrument-dict": ("after", "dict", False),
    "setup-basic-before": ("before", "basic", True),
    "setup-basic-after": ("after", "basic", True),
    "setup-force-after": ("after", "force", True),
    "setup-dict-after": ("after", "dict", True),
}
"""name -> (configured before/after setup, how, the app calls `setup()` itself)."""


@pytest.mark.parametrize("case", list(CASES))
def test_app_logging_config_keeps_its_console_and_records_are_stored_once(
    tmp_path: Path, case: str
) -> None:
    """Console lines appear once each; the store has each record once, with trace ids."""
    when, how, calls_setup = CASES[case]
    app = Served(
        tmp_path,
        [sys.executable, str(APPS / "logging_config_app.py"), when, how],
        name="logging-app",
        instrument=not calls_setup,
        env={"APP_CALLS_SETUP": "1"} if calls_setup else {},
    )
    assert app.wait_exit() == 0, app.output
    console = [line for line in app.output.splitlines() if line.startswith("CONSOLE ")]
    expected = [f"CONSOLE INFO inside {n}" for n in range(5)] + ["CONSOLE WARNING outside"]
    assert console == expected, app.output

    telemetry = read_telemetry(app.store)
    telemetry.assert_each_once()
    mine = [e for e in telemetry.logs if e.logger_name == "logging_config_app"]
    assert sorted(e.message for e in mine) == sorted(line.split(" ", 2)[2] for line in expected)
    (span,) = telemetry.named("logged")
    for entry in mine:
        if entry.message.startswith("inside"):
            telemetry.assert_logged_in(entry, span)
        else:
            assert entry.trace_id is None
