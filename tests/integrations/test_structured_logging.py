"""structlog and loguru with our integration: records carry the trace ids and arrive once.

A real app logs three records inside a span and one outside, through structlog (its own printer,
and routed through stdlib logging) or loguru. Each record must be in the store once and at a real
OTLP receiver (rotel) once, those inside the span with its ids; the library's own output is
still printed (with the ids, from our context processor / patcher).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _receivers import Rotel
from _served import APPS, Served, read_telemetry

pytestmark = pytest.mark.slow

CASES = {
    "structlog": ("structlog", False),
    "structlog-stdlib": ("structlog-stdlib", False),
    "loguru": ("loguru", False),
    "loguru-setup": ("loguru", True),
    "structlog-setup": ("structlog", True),
}
"""name -> (library mode of the app, the app calls `setup()` itself)."""

MESSAGES = ["inside 0", "inside 1", "inside 2", "outside"]


@pytest.fixture
def rotel(tmp_path: Path) -> Iterator[Rotel]:
    """A real rotel OTLP receiver on loopback."""
    receiver = Rotel(tmp_path)
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("case", list(CASES))
def test_structured_logs_reach_store_and_exporter_once_with_trace_ids(
    tmp_path: Path, rotel: Rotel, case: str
) -> None:
    """Store and OTLP receiver get each record once; records in the span carry its ids."""
    library, calls_setup = CASES[case]
    app = Served(
        tmp_path,
        [sys.executable, str(APPS / "structured_logging_app.py"), library],
        name="structured",
        instrument=not calls_setup,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": rotel.http_endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            **({"APP_CALLS_SETUP": "1"} if calls_setup else {}),
        },
    )
    assert app.wait_exit() == 0, app.output
    output = app.output
    (trace_id,) = re.findall(r"^TRACE ([0-9a-f]{32})$", output, re.MULTILINE)
    # the library's own output is still there, once per record, with the ids
    for message in MESSAGES[:3]:
        (line,) = [x for x in output.splitlines() if f"inside {message[-1]}" in x]
        assert trace_id in line, line
    assert len([x for x in output.splitlines() if "outside" in x]) == 1

    telemetry = read_telemetry(app.store)
    telemetry.assert_each_once()
    stored = [e for e in telemetry.logs if e.message in MESSAGES]
    assert sorted(e.message for e in stored) == MESSAGES
    (span,) = telemetry.named("structured")
    assert span.trace_id == trace_id
    for entry in stored:
        if entry.message == "outside":
            assert entry.trace_id is None
        else:
            telemetry.assert_logged_in(entry, span)
            assert entry.context.get("user") == "ada"

    received = rotel.wait_for(*(f"Body: Str({m})" for m in MESSAGES))
    for message in MESSAGES:
        assert received.count(f"Body: Str({message})") == 1, message
    record = received[received.index("Body: Str(inside 0)") :]
    assert record.split("Trace ID       : ", 1)[1].startswith(trace_id)
