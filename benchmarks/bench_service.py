"""CPU per request of a small Flask service: no telemetry, the stock distro, ours (issue 10).

Run: `.venv/bin/python benchmarks/bench_service.py [--requests N] [--rounds R] [--blocks B]`.

The service (`make_app`) answers `GET /orders/<id>`: the Flask instrumentation makes one server
span, the view opens one manual child span with two attributes, adds 1 to a counter and logs one
`logger.info`. It is driven in-process by Flask's test client, so no socket is measured. Four
configurations, each in its own fresh subprocess (the OpenTelemetry providers are global):

- `none`: no telemetry (plain `python`, the OpenTelemetry API without an SDK: no-ops);
- `floor`: `opentelemetry-instrument` with `opentelemetry-distro` and every exporter `none`, the
  logging handler off: the SDK and the instrumentations make the same spans and measurements,
  and nothing processes, stores or exports them. What a request costs the application thread
  before any distro's own work, so no configuration that records these signals can cost less
  (it bounds the ratio a distro can reach: see `floor` in the README's performance section);
- `stock`: `opentelemetry-instrument` with `opentelemetry-distro` (distro and configurator pinned),
  OTLP/gRPC for traces, metrics and logs to a live local rotel receiver, the logging
  instrumentation's `LoggingHandler` on (its default);
- `ours-otlp`: `opentelemetry-instrument` with our distro, the same OTLP/gRPC endpoint, the
  embedded store and alert rules (`examples/rules.toml`): the production setup;
- `ours-otlp-full`: the same as `ours-otlp`, its store already holding what `HISTORY` requests
  stored (~175 MB of the 256 MB default cap): a process that has been serving for a while. The
  store's trace-id indexes take a random position per trace, and once they outgrow what one
  commit touches, each request costs page writes that an empty store does not;
- `ours-store`: our distro with no exporter: the store only (the default).

Every child of ours starts from its own copy of the same store file (empty, or the history),
so the rounds measure the same thing (a store left to grow from round to round would make each
round costlier than the one before).

Each child warms up, then runs `--blocks` timed blocks of N requests. A block's figure is
`time.process_time_ns()` (CPU of every thread of the process) from before the first request
until a flush of every provider (and our pipeline) returns, divided by N; the child reports the
median of its blocks. The parent runs `--rounds` rounds, each starting every configuration once
in a rotating order (interleaved), and reports the median over rounds of the CPU per request and
of the per-round ratio to `stock`. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _bench_common import Result

HERE = Path(__file__).resolve().parent
RULES = HERE.parent / "examples" / "rules.toml"
BIN = Path(sys.executable).parent
CONFIGS = ("none", "floor", "stock", "ours-otlp", "ours-otlp-full", "ours-store")
TARGETS = {"ours-otlp": 1.10, "ours-otlp-full": 1.10, "ours-store": 0.80}
HISTORY = 60_000
"""Requests' worth of rows in the store `ours-otlp-full` starts with (~175 MB)."""
LABELS = {
    "none": "no telemetry",
    "floor": "floor: same spans and measurements, nothing processed or exported",
    "stock": "stock opentelemetry-distro + OTLP/gRPC, logging handler on",
    "ours-otlp": "ours: same OTLP + store + rules",
    "ours-otlp-full": "ours: the same, its store holding earlier requests",
    "ours-store": "ours: store only (the default)",
}


# -- the child: the service and its measurement ------------------------------------------------


def make_app() -> Any:
    """The measured Flask service (one route: a span, a child span, a counter, a log line)."""
    from flask import Flask  # noqa: PLC0415 - imported after the distro configured OTel
    from opentelemetry import metrics, trace  # noqa: PLC0415

    app = Flask("bench_shop")
    tracer = trace.get_tracer("bench.shop")
    orders = metrics.get_meter("bench.shop").create_counter("shop.orders", unit="{order}")
    log = logging.getLogger("bench.shop")
    log.setLevel(logging.INFO)

    @app.get("/orders/<int:order_id>")
    def order(order_id: int) -> dict[str, int]:
        with tracer.start_as_current_span("load-order") as span:
            span.set_attribute("order.id", order_id)
            span.set_attribute("order.items", 3)
        orders.add(1, {"route": "/orders"})
        log.info("order %s served", order_id)
        return {"id": order_id}

    return app


def _flush_everything(config: str) -> None:
    """Flush every provider (ours: the handle flushes the providers and the pipeline)."""
    if config.startswith("ours"):
        from flext_observability._internal.setup import force_flush  # noqa: PLC0415

        force_flush()
        return
    if config == "none":
        return
    from opentelemetry import metrics, trace  # noqa: PLC0415
    from opentelemetry._logs import get_logger_provider  # noqa: PLC0415

    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider()):
        provider.force_flush()  # type: ignore[union-attr] # the SDK providers
    get_logger_provider().force_flush()  # type: ignore[attr-defined]


THREAD_GROUPS = ("app", "pipeline", "export", "sdk batch", "other")
"""Where a request's CPU goes, by thread (the child reports each group's µs per request)."""


def _thread_group(name: str) -> str:
    if name == "MainThread":
        return "app"
    if name == "flext-observability-pipeline":
        return "pipeline"
    if name.startswith("flext-observability-export"):
        return "export"
    if name.startswith("Otel"):  # the SDK's BatchSpanProcessor / BatchLogRecordProcessor
        return "sdk batch"
    return "other"


def _cpu_by_group() -> dict[str, int]:
    """CPU nanoseconds so far of every live thread, summed by group (Linux `/proc`; else {})."""
    import threading  # noqa: PLC0415 - only the child needs it

    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    tick_ns = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    groups = dict.fromkeys(THREAD_GROUPS, 0)
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return {}
    for task in tasks.iterdir():
        try:
            fields = (task / "stat").read_text("ascii").rpartition(")")[2]
        except OSError:
            continue  # the thread ended meanwhile
        group = _thread_group(names.get(int(task.name), ""))
        utime, stime = fields.split()[11:13]
        groups[group] += (int(utime) + int(stime)) * tick_ns
    return groups


def child(config: str, requests: int, blocks: int) -> dict[str, float]:
    """Run the blocks here; return the median CPU µs per request (all threads, by thread)."""
    client = make_app().test_client()
    # Flask's test client logs nothing itself; the app logs one INFO line per request.

    def block(count: int) -> dict[str, float]:
        groups0 = _cpu_by_group()
        cpu0 = time.process_time_ns()
        thread0 = time.thread_time_ns()
        for i in range(count):
            response = client.get(f"/orders/{i}")
            if response.status_code != 200:
                msg = f"unexpected status {response.status_code}"
                raise RuntimeError(msg)
        thread1 = time.thread_time_ns()
        _flush_everything(config)
        cpu1 = time.process_time_ns()
        groups1 = _cpu_by_group()
        sample = {
            "cpu_us": (cpu1 - cpu0) / count / 1000,
            "app_thread_us": (thread1 - thread0) / count / 1000,
        }
        for group, ns in groups1.items():
            # A thread that ended during the block is not counted (none of ours end mid-run).
            sample[f"{group}_us"] = max(0, ns - groups0.get(group, 0)) / count / 1000
        return sample

    block(max(100, requests // 4))  # warm up: lazy imports, caches, the first export
    samples = [block(requests) for _ in range(blocks)]
    result = {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}
    result["dropped"] = float(_dropped(config))
    if config.startswith("ours"):
        result.update(_steady(client, config, 3 * requests))
    return result


def _steady(client: Any, config: str, count: int) -> dict[str, float]:
    """Requests back to back with no flush: how full our queue gets, and what it dropped.

    The timed blocks end with a flush, which lets a worker that fell behind catch up while the
    app is idle; a saturated service never idles. (Not part of the CPU figures.)
    """
    from flext_observability._internal.setup import active  # noqa: PLC0415

    handle = active()
    if handle is None:
        return {}
    stats = handle.pipeline.stats
    dropped = _dropped(config)
    peak = 0
    for i in range(count):
        client.get(f"/orders/{i}")
        if i % 25 == 0:
            peak = max(peak, stats()["queue_size"])
    _flush_everything(config)
    return {
        "steady_requests": float(count),
        "steady_queue_peak": peak / handle.pipeline.capacity,
        "steady_dropped": float(_dropped(config) - dropped),
    }


def _dropped(config: str) -> int:
    """Items our pipeline dropped in this child (a drop would make ours look cheaper)."""
    if not config.startswith("ours"):
        return 0  # the SDK's batch processors only log theirs
    from flext_observability._internal.setup import active  # noqa: PLC0415

    handle = active()
    return sum(handle.pipeline.dropped.values()) if handle is not None else 0


# -- the parent: configurations, receiver, rounds ----------------------------------------------


def _clean_env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OTEL_", "FLEXT_OBSERVABILITY_"))
    }


def _command(config: str, endpoint: str, workdir: Path) -> tuple[list[str], dict[str, str]]:
    env = _clean_env()
    env["OTEL_SERVICE_NAME"] = "bench-shop"
    python = [sys.executable]
    if config == "none":
        return python, env
    instrument = [str(BIN / "opentelemetry-instrument"), sys.executable]
    otlp = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    }
    if config in ("floor", "stock"):  # opentelemetry-distro: OTLP, or nothing at all (floor)
        exporter = "otlp" if config == "stock" else "none"
        env.update(
            OTEL_PYTHON_DISTRO="distro",
            OTEL_PYTHON_CONFIGURATOR="configurator",
            OTEL_TRACES_EXPORTER=exporter,
            OTEL_METRICS_EXPORTER=exporter,
            OTEL_LOGS_EXPORTER=exporter,
        )
        if config == "stock":
            env.update(otlp)
        else:  # no logging handler either
            env.update(
                OTEL_PYTHON_LOGGING_AUTO_INSTRUMENTATION_ENABLED="false",
                OTEL_PYTHON_LOG_AUTO_INSTRUMENTATION="false",
            )
        return instrument, env
    env.update(
        OTEL_PYTHON_DISTRO="flext_observability",
        OTEL_PYTHON_CONFIGURATOR="flext_observability",
        FLEXT_OBSERVABILITY_STORE_PATH=str(workdir / f"{config}.db"),
    )
    if config.startswith("ours-otlp"):
        env.update(otlp, FLEXT_OBSERVABILITY_ALERT_RULES=str(RULES))
    return instrument, env


def _reset_store(config: str, workdir: Path, history: Path) -> None:
    """Give a child of ours its store as every round starts it: empty, or a copy of `history`."""
    path = workdir / f"{config}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if config == "ours-otlp-full":
        shutil.copyfile(history, path)


def _run_child(
    config: str, endpoint: str, workdir: Path, requests: int, blocks: int
) -> dict[str, float]:
    prefix, env = _command(config, endpoint, workdir)
    argv = [
        *prefix,
        str(HERE / "bench_service.py"),
        "--child",
        config,
        "--requests",
        str(requests),
        "--blocks",
        str(blocks),
    ]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, cwd=workdir)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        msg = f"{config}: child failed ({done.returncode}):\n{done.stderr[-3000:]}"
        raise RuntimeError(msg)
    result: dict[str, float] = json.loads(lines[-1])
    return result


class _Receiver:
    """A rotel OTLP receiver on 127.0.0.1 that discards what it receives (no debug output)."""

    def __init__(self, workdir: Path) -> None:
        import socket  # noqa: PLC0415

        import rotel  # type: ignore[import-untyped] # noqa: PLC0415 - ships no types

        agent = Path(rotel.__file__).parent / "rotel-agent"
        for _attempt in range(3):
            ports = []
            for _ in range(2):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", 0))
                    ports.append(int(sock.getsockname()[1]))
            self.grpc_port, http_port = ports
            self.process = subprocess.Popen(
                [
                    str(agent),
                    "start",
                    "--otlp-grpc-endpoint",
                    f"127.0.0.1:{self.grpc_port}",
                    "--otlp-http-endpoint",
                    f"127.0.0.1:{http_port}",
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
            if self._wait(self.grpc_port):
                return
            self.stop()
        msg = "rotel did not start"
        raise RuntimeError(msg)

    def _wait(self, port: int) -> bool:
        import socket  # noqa: PLC0415

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    @property
    def endpoint(self) -> str:
        """The OTLP/gRPC endpoint URL."""
        return f"http://127.0.0.1:{self.grpc_port}"

    def stop(self) -> None:
        """Stop the receiver."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def measure(
    requests: int = 1000, rounds: int = 5, blocks: int = 3, history: int = HISTORY
) -> dict[str, dict[str, list[float]]]:
    """Run every configuration `rounds` times, rotating the order; return the samples."""
    samples: dict[str, dict[str, list[float]]] = {config: {"ratio": []} for config in CONFIGS}
    with tempfile.TemporaryDirectory(prefix="flext-bench-service-") as tmp:
        workdir = Path(tmp)
        template = workdir / "history.db"
        # Imported here: the children import this module, and the stock ones must not load ours.
        from bench_store import write_history  # noqa: PLC0415

        write_history(template, history, end=datetime.now(UTC))
        receiver = _Receiver(workdir)
        try:
            for round_ in range(rounds):
                order = CONFIGS[round_ % len(CONFIGS) :] + CONFIGS[: round_ % len(CONFIGS)]
                this_round = {}
                for config in order:
                    _reset_store(config, workdir, template)
                    this_round[config] = _run_child(
                        config, receiver.endpoint, workdir, requests, blocks
                    )
                stock = this_round["stock"]["cpu_us"]
                for config, result in this_round.items():
                    for key, value in result.items():
                        samples[config].setdefault(key, []).append(value)
                    samples[config]["ratio"].append(result["cpu_us"] / stock)
        finally:
            receiver.stop()
    return samples


def run(
    requests: int = 1000, rounds: int = 5, blocks: int = 3, history: int = HISTORY
) -> list[Result]:
    """One row per configuration: CPU µs per request, ratio to the stock distro."""
    samples = measure(requests, rounds, blocks, history)
    stock = statistics.median(samples["stock"]["cpu_us"])
    return [
        Result(
            name=f"flask request: {LABELS[config]}",
            measures="process_time per request (all threads) incl. a flush of every provider",
            unit="us/req",
            ours=statistics.median(samples[config]["cpu_us"]),
            bare=stock,
            ratio=statistics.median(samples[config]["ratio"]),
            target=TARGETS.get(config),
            extra={
                "requests": requests,
                "rounds": rounds,
                "blocks": blocks,
                "config": config,
                "history": history if config == "ours-otlp-full" else 0,
                **{
                    key: statistics.median(values)
                    for key, values in samples[config].items()
                    if key.endswith("_us") and key != "cpu_us"
                },
                "dropped": sum(samples[config].get("dropped", [])),
                **{
                    key: max(samples[config][key])
                    for key in ("steady_queue_peak", "steady_dropped")
                    if key in samples[config]
                },
            },
        )
        for config in CONFIGS
    ]


def main() -> None:
    """Parent: print the table. Child (`--child CONFIG`): print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", choices=CONFIGS)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument(
        "--history", type=int, default=HISTORY, help="requests already stored for ours-otlp-full"
    )
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.requests, args.blocks)))
        return
    for row in run(args.requests, args.rounds, args.blocks, args.history):
        mark = "" if row.passed is None else (" PASS" if row.passed else " MISS")
        print(f"{row.name:62} {row.ours:8.1f} us/req  {row.ratio:5.2f}x stock{mark}")
        dropped = f" · dropped {row.extra['dropped']:.0f} items" if row.extra["dropped"] else ""
        print(f"    by thread: {thread_breakdown(row.extra)}{dropped}")
        if "steady_queue_peak" in row.extra:
            print(
                f"    back to back, no flush ({3 * args.requests} requests): queue peak "
                f"{row.extra['steady_queue_peak']:.0%} of capacity, "
                f"{row.extra['steady_dropped']:.0f} items dropped (worst round)"
            )


def thread_breakdown(extra: dict[str, Any]) -> str:
    """`app 530.1 · pipeline 150.2 · ...`: CPU µs per request by thread group (non-zero ones)."""
    parts = [
        f"{group} {extra[f'{group}_us']:.1f}"
        for group in THREAD_GROUPS
        if extra.get(f"{group}_us", 0) >= 0.05
    ]
    return " · ".join(parts) or "n/a"


if __name__ == "__main__":
    main()
