"""The OTLP outbox over gRPC (issue 9, #5).

A real collector (rotel) stopped and restarted mid-run, a real gRPC server refusing, a
black-holed collector at exit.
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider

from _helpers import find_outboxes
from _receivers import OtlpGrpcServer, Rotel, free_port
from flext_observability import setup, testing

pytestmark = pytest.mark.slow

SIGNALS = ("traces", "metrics", "logs")


@pytest.fixture
def rotel(tmp_path: Path) -> Iterator[Rotel]:
    """A real OTLP receiver (rotel), stopped at the end."""
    collector = Rotel(tmp_path)
    yield collector
    collector.stop()


@pytest.fixture
def grpc_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """OTLP over gRPC, delta temporality (each metric point is in exactly one export)."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")
    return monkeypatch


def _outboxes() -> dict[str, Any]:
    """The outbox exporter of each signal behind the global providers."""
    found = find_outboxes(
        trace.get_tracer_provider(), metrics.get_meter_provider(), get_logger_provider()
    )
    return {outbox._signal: outbox for outbox in found}


def _emit(tag: str) -> None:
    """One span, one metric point and one log record, all named by `tag`."""
    with trace.get_tracer("outbox").start_as_current_span(f"span-{tag}"):
        pass
    metrics.get_meter("outbox").create_counter("outbox_steps").add(1, {"step": f"metric-{tag}"})
    logging.getLogger("outbox.app").warning("log-%s", tag)


def _occurrences(text: str, tag: str) -> dict[str, list[int]]:
    """Where the span, the metric point and the log record of `tag` appear in rotel's output."""
    patterns = {
        "traces": rf"^\s+Name\s+: span-{re.escape(tag)}$",
        "metrics": rf"-> step: Str\(metric-{re.escape(tag)}\)$",
        "logs": rf"^Body: Str\(log-{re.escape(tag)}\)$",
    }
    return {
        signal: [m.start() for m in re.finditer(pattern, text, re.MULTILINE)]
        for signal, pattern in patterns.items()
    }


def _files(store_dir: Path, signal: str) -> list[Path]:
    return sorted((store_dir / "outbox" / signal).glob("*.otlp"))


def test_every_signal_spills_while_the_collector_is_down_and_replays_in_order_once(
    rotel: Rotel, tmp_path: Path, grpc_env: pytest.MonkeyPatch
) -> None:
    """gRPC, collector stopped, restarted: each span, point and record arrives once, in order."""
    grpc_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint)
    store_dir = tmp_path / "store"
    obs = setup(
        store_path=store_dir / "t.db",
        health_enabled=False,
        metric_export_interval_ms=3_600_000,
    )
    try:
        _emit("before")
        assert obs.force_flush(10.0)
        rotel.wait_for("span-before", "metric-before", "log-before")
        rotel.pause()
        for n in range(3):
            _emit(f"during-{n}")
            obs.force_flush(10.0)
        spilled_files = {signal: len(_files(store_dir, signal)) for signal in SIGNALS}
        rotel.resume()
        _emit("after")
        assert obs.force_flush(10.0)
        text = rotel.wait_for("span-after", "metric-after", "log-after")
        outboxes = _outboxes()
        counters = {s: (o.spilled, o.replayed, o.dropped) for s, o in outboxes.items()}
    finally:
        testing.release()
    assert sorted(outboxes) == sorted(SIGNALS)
    assert all(count >= 3 for count in spilled_files.values()), spilled_files
    for signal in SIGNALS:
        spilled, replayed, dropped = counters[signal]
        assert spilled == replayed, (signal, counters[signal])
        assert dropped == 0, (signal, counters[signal])
        assert _files(store_dir, signal) == []
    tags = ["before", "during-0", "during-1", "during-2", "after"]
    seen = {tag: _occurrences(text, tag) for tag in tags}
    for signal in SIGNALS:
        positions = [seen[tag][signal] for tag in tags]
        assert all(len(p) == 1 for p in positions), (signal, positions)
        assert [p[0] for p in positions] == sorted(p[0] for p in positions), signal
    # The spans, points and records of the outage were spilled (3 of each), then replayed.
    assert counters["traces"][0] == 3
    assert counters["logs"][0] == 3


def test_the_size_bound_drops_the_oldest_and_counts_over_grpc(
    rotel: Rotel, tmp_path: Path, grpc_env: pytest.MonkeyPatch
) -> None:
    """A tiny gRPC outbox keeps the newest batches; the dropped ones are counted, never sent."""
    grpc_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.grpc_endpoint)
    store_dir = tmp_path / "store"
    obs = setup(
        store_path=store_dir / "t.db",
        health_enabled=False,
        logs_enabled=False,
        metrics_enabled=False,
        outbox_max_mb=0.0005,  # ~500 bytes: about one batch
    )
    try:
        rotel.pause()
        for n in range(4):
            _emit(f"bounded-{n}")
            obs.force_flush(10.0)
        outbox = _outboxes()["traces"]
        kept = len(_files(store_dir, "traces"))
        spilled, dropped = outbox.spilled, outbox.dropped
        rotel.resume()
        _emit("bounded-after")
        assert obs.force_flush(10.0)
        text = rotel.wait_for("span-bounded-3", "span-bounded-after")
    finally:
        testing.release()
    assert 1 <= kept < 4
    assert (spilled, dropped) == (4, 4 - kept)
    assert _occurrences(text, "bounded-0")["traces"] == []
    assert len(_occurrences(text, "bounded-3")["traces"]) == 1


@pytest.mark.parametrize("status", ["UNAUTHENTICATED", "INVALID_ARGUMENT", "PERMISSION_DENIED"])
def test_a_refused_batch_is_dropped_counted_and_not_kept(
    tmp_path: Path,
    grpc_env: pytest.MonkeyPatch,
    status: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A status the collector will not change its mind on: counted, said once, never stored."""
    store_dir = tmp_path / "store"
    with OtlpGrpcServer(status) as server:
        grpc_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint)
        obs = setup(
            store_path=store_dir / "t.db",
            health_enabled=False,
            logs_enabled=False,
            metrics_enabled=False,
        )
        try:
            for n in range(2):
                _emit(f"refused-{n}")
                obs.force_flush(10.0)
            outbox = _outboxes()["traces"]
            server.status = "OK"
            _emit("accepted")
            assert obs.force_flush(10.0)
        finally:
            testing.release()
    assert (outbox.spilled, outbox.dropped) == (0, 2)
    assert _files(store_dir, "traces") == []
    assert server.span_names() == ["span-refused-0", "span-refused-1", "span-accepted"]
    warnings = [r.getMessage() for r in caplog.records if "OTLP outbox" in r.getMessage()]
    assert len(warnings) == 1, warnings  # two drops, said once per interval
    assert f"gRPC {status}" in warnings[0]


def test_a_recoverable_status_spills_and_replays_with_the_exporters_headers(
    tmp_path: Path, grpc_env: pytest.MonkeyPatch
) -> None:
    """RESOURCE_EXHAUSTED, UNAVAILABLE: kept; replayed as stored, with the configured headers."""
    store_dir = tmp_path / "store"
    grpc_env.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme")
    grpc_env.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    with OtlpGrpcServer("RESOURCE_EXHAUSTED") as server:
        grpc_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", server.endpoint)
        obs = setup(
            store_path=store_dir / "t.db",
            health_enabled=False,
            logs_enabled=False,
            metrics_enabled=False,
        )
        try:
            _emit("busy-0")
            obs.force_flush(10.0)
            server.status = "UNAVAILABLE"
            _emit("busy-1")
            obs.force_flush(10.0)
            kept = len(_files(store_dir, "traces"))
            server.status = "OK"
            calls_before = len(server.calls)
            _emit("served")
            assert obs.force_flush(10.0)
            outbox = _outboxes()["traces"]
        finally:
            testing.release()
    assert kept == 2
    assert (outbox.spilled, outbox.replayed, outbox.dropped) == (2, 2, 0)
    assert server.span_names()[-3:] == ["span-busy-0", "span-busy-1", "span-served"]
    replayed = server.calls[calls_before:]
    assert len(replayed) == 3
    assert all(metadata.get("x-tenant") == "acme" for _m, metadata, _b in replayed)
    assert {method for method, _metadata, _b in replayed} == {
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    }


def _spans(name: str) -> list[Any]:
    """Ended spans from a real SDK tracer provider."""
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: PLC0415
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: PLC0415
        InMemorySpanExporter,
    )

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.get_tracer("table").start_span(name).end()
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("narrowed", [False, True])
def test_every_grpc_status_is_kept_exactly_when_the_exporter_would_retry_it(
    tmp_path: Path, *, narrowed: bool
) -> None:
    """Every non-OK status: kept iff in the exporter's retryable set (default or the user's)."""
    import grpc  # type: ignore[import-untyped] # noqa: PLC0415 - optional transport
    from opentelemetry.exporter.otlp.proto.grpc.exporter import (  # noqa: PLC0415
        _RETRYABLE_ERROR_CODES,
    )
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    from flext_observability._internal.outbox import OutboxExporter  # noqa: PLC0415

    retryable = {grpc.StatusCode.UNAVAILABLE} if narrowed else set(_RETRYABLE_ERROR_CODES)
    codes = [code for code in grpc.StatusCode if code is not grpc.StatusCode.OK]
    outcomes: dict[str, tuple[int, int, int]] = {}
    with OtlpGrpcServer() as server:
        exporter = OTLPSpanExporter(
            endpoint=server.endpoint,
            insecure=True,
            timeout=5,
            retryable_error_codes=retryable if narrowed else None,
        )
        try:
            for code in codes:
                server.status = code.name
                outbox = OutboxExporter(
                    exporter,
                    signal="traces",
                    directory=tmp_path / code.name,
                    max_bytes=1 << 20,
                    max_age_s=3600.0,
                )
                outbox.export(_spans(f"status-{code.name}"))
                kept = len(list((tmp_path / code.name).glob("*.otlp")))
                outcomes[code.name] = (kept, outbox.spilled, outbox.dropped)
        finally:
            exporter.shutdown()
    expected = {code.name: (1, 1, 0) if code in retryable else (0, 0, 1) for code in codes}
    assert outcomes == expected
    assert len(server.calls) >= len(codes)


EXIT_APP = textwrap.dedent(
    """
    import sys, time
    from opentelemetry import trace
    import flext_observability._internal.setup as s
    s.setup(service_name="outbox-exit", otlp_endpoint=sys.argv[1], otlp_protocol="grpc",
            shutdown_timeout_ms=1500, health_enabled=False, logs_enabled=False,
            metrics_enabled=False, store_path=sys.argv[2])
    tracer = trace.get_tracer("app")
    for i in range(int(sys.argv[3])):
        with tracer.start_as_current_span(f"exit-span-{sys.argv[4]}-{i}"):
            pass
    print(time.time(), flush=True)
    """
)


def _run_exit_app(tmp_path: Path, endpoint: str, spans: int, tag: str) -> float:
    script = tmp_path / "exit_app.py"
    script.write_text(EXIT_APP)
    result = subprocess.run(
        [sys.executable, str(script), endpoint, str(tmp_path / "store" / "t.db"), str(spans), tag],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    ended = time.time()
    assert result.returncode == 0, result.stderr
    return ended - float(result.stdout.strip().splitlines()[-1])


def test_a_black_holed_grpc_collector_cannot_hold_exit_nor_lose_the_outbox(
    tmp_path: Path, rotel: Rotel
) -> None:
    """Kept at exit (nothing listens), kept through a black-holed run, replayed by the next run."""
    exit_delay = _run_exit_app(tmp_path, f"http://127.0.0.1:{free_port()}", 20, "first")
    assert exit_delay <= 1.5 + 0.5
    kept = _files(tmp_path / "store", "traces")
    assert kept, "the last batch, refused a connection at exit, waits in the outbox"
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(128)
        port = int(hole.getsockname()[1])
        exit_delay = _run_exit_app(tmp_path, f"http://127.0.0.1:{port}", 5, "second")
    assert exit_delay <= 1.5 + 0.5
    assert set(kept) <= set(_files(tmp_path / "store", "traces"))
    _run_exit_app(tmp_path, rotel.grpc_endpoint, 1, "third")
    text = rotel.wait_for("exit-span-first-19", "exit-span-third-0")
    first = [text.index(f"exit-span-first-{n}") for n in range(20)]
    assert max(first) < text.index("exit-span-third-0")
    assert all(text.count(f"exit-span-first-{n}\n") == 1 for n in range(20))
    assert _files(tmp_path / "store", "traces") == []
