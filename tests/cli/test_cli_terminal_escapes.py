"""Stored data never reaches the terminal raw: every human-readable field is escaped (issue 9, #6).

A Hypothesis property writes entities whose every displayed text field holds hostile text (terminal
escapes, carriage returns, a newline followed by a forged log line, bidi overrides, C1 controls)
into a real store, runs every query command, and checks: no control character other than our own
line ends reaches the output, no forged line starts a line, and `--json` keeps the exact text.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flext_observability import cli
from flext_observability.models import (
    AlertSeverity,
    FlextAlert,
    FlextHealthCheck,
    FlextLogEntry,
    FlextMetric,
    FlextTrace,
    HealthStatus,
    LogLevel,
    MetricType,
    TraceStatus,
)
from flext_observability.sinks.store import SQLiteStore

FORGED = "\n00:00:00.000 ERROR    forged: FAKE"
HOSTILE = ["\x1b[2J", "\x1b]0;title\x07", "\r", FORGED, "\u202e", "\x9b31m", "\x00", "\u2028"]


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """Printable text with hostile pieces mixed in (never empty, never only whitespace)."""
    pieces = draw(
        st.lists(
            st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=8)),
            min_size=1,
            max_size=4,
        )
    )
    return "x" + "".join(pieces)


def _entities(texts: list[str]) -> list[object]:
    a, b, c, d, e, f = texts
    now = datetime.now(UTC) - timedelta(seconds=5)
    trace_id, span_id = "c" * 32, "d" * 16
    return [
        FlextTrace(
            trace_id=trace_id,
            span_id=span_id,
            operation_name=a,
            service_name=b,
            start_time=now,
            end_time=now + timedelta(milliseconds=3),
            status=TraceStatus.ERROR,
            status_message=c,
            timestamp=now,
        ),
        FlextLogEntry(
            level=LogLevel.ERROR, message=d, logger_name=e, service_name=b, timestamp=now
        ),
        FlextMetric(
            name="shop.orders",
            value=1.0,
            metric_type=MetricType.GAUGE,
            unit=f,
            tags={"k": a, "route": d},
            service_name=b,
            timestamp=now,
        ),
        FlextAlert(name=e, message=d, severity=AlertSeverity.ERROR, source=f, timestamp=now),
        FlextHealthCheck(name=c, status=HealthStatus.UNHEALTHY, message=d, timestamp=now),
    ]


def _lines(text: str) -> list[str]:
    """Split on our newlines only (`str.splitlines` also splits on U+2028 inside JSON)."""
    return [line for line in text.split("\n") if line]


def _run(store: Path, *args: str) -> str:
    out = StringIO()
    assert cli.main(["--store", str(store), *args], out=out, err=StringIO()) == 0
    return out.getvalue()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(hostile_text(), min_size=6, max_size=6))
def test_every_displayed_field_is_escaped_and_json_keeps_the_text(texts: list[str]) -> None:
    """Human output holds no raw control character and no forged line; JSON round-trips."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.db"
        store = SQLiteStore(path)
        entities = _entities(texts)
        store.write(entities)  # type: ignore[arg-type]
        store.close()
        for command in ("summary", "traces", "logs", "metrics", "alerts", "health"):
            text = _run(path, command)
            raw = sorted({ch for ch in text if not ch.isprintable() and ch != "\n"})
            assert raw == [], (command, raw)
            assert not any(line.startswith("00:00:00.000 ERROR") for line in text.split("\n"))
        stored = [json.loads(line) for line in _lines(_run(path, "logs", "--json"))]
        assert [row["message"] for row in stored] == [texts[3]]
        spans = [json.loads(line) for line in _lines(_run(path, "traces", "--json"))]
        assert [(s["operation_name"], s["status_message"]) for s in spans] == [(texts[0], texts[2])]
