"""Per-span cost on the application thread when the collector black-holes, vs a live one.

Each side runs `setup()` in a fresh process with OTLP/HTTP export to 127.0.0.1: "live" is a real
rotel collector, "black-holed" is a socket that accepts connections and never answers. The
process creates spans in bursts (the exporter blocks on the dead collector meanwhile) and reports
the p99 of per-span `perf_counter` time on the application thread. the reliability goal: the
p99 changes by at most 2x. Sides alternate over the repeats; the ratio is black-holed / live.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import rotel  # type: ignore[import-untyped] # ships no type information
from _bench_common import Result, interleaved, summarise

CHILD = textwrap.dedent(
    """
    import statistics, sys, time
    from opentelemetry import trace
    import flext_observability as fo
    fo.setup(otlp_endpoint=sys.argv[1], otlp_protocol="http/protobuf", health_enabled=False,
             store_path=sys.argv[2], shutdown_timeout_ms=500, otlp_timeout_ms=2000)
    tracer = trace.get_tracer("bench")
    costs = []
    for burst in range(int(sys.argv[3])):
        for _ in range(500):
            started = time.perf_counter()
            with tracer.start_as_current_span("op", attributes={"http.route": "/x", "n": burst}):
                pass
            costs.append(time.perf_counter() - started)
        time.sleep(0.05)
    costs.sort()
    print(costs[int(len(costs) * 0.99)])
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child(endpoint: str, workdir: Path, bursts: int) -> list[float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, endpoint, str(workdir / "t.db"), str(bursts)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return [float(out.stdout.strip().splitlines()[-1]) * 1e6]


def run(repeats: int = 3, bursts: int = 8) -> list[Result]:
    """One row: p99 app-thread microseconds per span, black-holed vs live collector."""
    agent = Path(rotel.__file__).parent / "rotel-agent"
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as hole:
        workdir = Path(tmp)
        hole.bind(("127.0.0.1", 0))
        hole.listen(1024)
        grpc, http = _free_port(), _free_port()
        collector = subprocess.Popen(
            [
                str(agent),
                "start",
                "--otlp-grpc-endpoint",
                f"127.0.0.1:{grpc}",
                "--otlp-http-endpoint",
                f"127.0.0.1:{http}",
                "--exporter",
                "blackhole",
                "--pid-file",
                str(workdir / "rotel.pid"),
                "--log-file",
                str(workdir / "rotel.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1.0)
            live = f"http://127.0.0.1:{http}"
            dead = f"http://127.0.0.1:{hole.getsockname()[1]}"
            samples = interleaved(
                lambda: _child(live, workdir, bursts),
                lambda: _child(dead, workdir, bursts),
                repeats,
            )
        finally:
            collector.terminate()
            collector.wait(10)
    return [
        summarise(
            samples,
            0,
            name="span p99, collector black-holed vs live",
            measures="p99 perf_counter per span on the app thread, OTLP/HTTP to a dead vs live "
            "collector (setup() in a fresh process each)",
            unit="us/span",
            target=2.0,
            extra={"repeats": repeats, "spans": bursts * 500},
        )
    ]


if __name__ == "__main__":
    for row in run():
        print(
            f"{row.name}: black-holed {row.ours:.1f} us, live {row.bare:.1f} us, {row.ratio:.2f}x"
        )
