"""The OTEL_* variable matrix under `opentelemetry-instrument`: one subprocess per hostile value.

Every variable OpenTelemetry reads (enumerated, as in the `setup()` matrix) except the launcher's
own (`BEFORE_OUR_CODE`, flagged by `doctor`) and the OTLP destination family is set at once to
the same hostile value, plus a misspelt name. The script must run, its span and log reach the
store and the OTLP receiver, and each invalid variable gets exactly one stderr line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from _receivers import OtlpHttpCounter
from flext_observability.models import FlextLogEntry, FlextTrace
from flext_observability.settings._otel_env import BEFORE_OUR_CODE, otel_parser, otel_variables
from flext_observability.settings._parse import Feedback
from flext_observability.sinks.store import SQLiteStore

pytestmark = pytest.mark.slow

HOSTILE = {
    "negative": "-5",
    "zero": "0",
    "non_numeric": "abc",
    "huge": "99999999999999999999",
    "unknown": "bogus_value",
}
SCRIPT = """
import logging
from opentelemetry import metrics, trace
with trace.get_tracer("matrix").start_as_current_span("matrix-span"):
    logging.getLogger("matrix.app").warning("matrix-log")
metrics.get_meter("matrix").create_counter("matrix.count").add(1)
print("ran")
"""
_KEPT_OUT = (*BEFORE_OUR_CODE, "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SDK_DISABLED")
_DESTINATIONS = ("_ENDPOINT", "_PROTOCOL")


def _tried() -> list[str]:
    return [
        name
        for name in otel_variables()
        if name not in _KEPT_OUT and not name.endswith(_DESTINATIONS)
    ]


def _invalid(name: str, value: str) -> bool:
    parser = otel_parser(name)
    assert parser is not None
    try:
        parser(value, Feedback())
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_every_variable_at_once_keeps_telemetry_on(tmp_path: Path, value: str) -> None:
    """All variables hostile at once: the app runs, every signal flows, one line per bad one."""
    names = _tried()
    store = tmp_path / "t.db"
    (tmp_path / "app.py").write_text(SCRIPT)
    bindir = Path(sys.executable).parent
    with OtlpHttpCounter() as receiver:
        env = {
            "PATH": str(bindir),
            "OTEL_PYTHON_DISTRO": "flext_observability",
            "OTEL_PYTHON_CONFIGURATOR": "flext_observability",
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
            "FLEXT_OBSERVABILITY_STORE_PATH": str(store),
            "FLEXT_OBSERVABILITY_HEALTH_ENABLED": "false",
            "OTEL_BSP_MAX_QUEUE_SIZ": "5",
            **dict.fromkeys(names, value),
        }
        done = subprocess.run(
            [str(bindir / "opentelemetry-instrument"), sys.executable, "app.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        posted = set(receiver.posts)
    assert (done.returncode, done.stdout) == (0, "ran\n"), done.stderr
    assert {"/v1/traces", "/v1/logs", "/v1/metrics"} <= posted, done.stderr
    reader = SQLiteStore.open_readonly(store)
    try:
        spans = [s.operation_name for s in reader.query("traces") if isinstance(s, FlextTrace)]
        logs = [e.message for e in reader.query("logs") if isinstance(e, FlextLogEntry)]
    finally:
        reader.close()
    assert "matrix-span" in spans
    assert "matrix-log" in logs
    lines = done.stderr.splitlines()
    for name in names:
        said = [line for line in lines if f" {name}=" in line and "is invalid" in line]
        assert len(said) == (1 if _invalid(name, value) else 0), (name, said)
    assert sum("did you mean OTEL_BSP_MAX_QUEUE_SIZE?" in line for line in lines) == 1
