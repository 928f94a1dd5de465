"""Startup cost of `opentelemetry-instrument python -c pass`: our distro vs `opentelemetry-distro`.

Both run in fresh processes from the same venv, interleaved, with the distro and configurator
pinned (`OTEL_PYTHON_DISTRO` / `OTEL_PYTHON_CONFIGURATOR`): ours is `flext_observability`, the
stock one is `distro` / `configurator` from `opentelemetry-distro`. Exporters are `none` for the
stock distro (it defaults to OTLP) and our store writes to a temporary directory, so neither side
touches the network. The figure is wall time per process start, median over the repeats.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench_common import Result, interleaved, summarise

BIN = Path(sys.executable).parent


def _env(distro: str, configurator: str, store: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OTEL_", "FLEXT_OBSERVABILITY_"))
    }
    env.update(
        OTEL_PYTHON_DISTRO=distro,
        OTEL_PYTHON_CONFIGURATOR=configurator,
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        FLEXT_OBSERVABILITY_STORE_PATH=str(store),
    )
    return env


def _start(env: dict[str, str]) -> list[float]:
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, "-c", "pass"],
        env=env,
        check=True,
        capture_output=True,
    )
    return [time.perf_counter() - started]


def run(repeats: int = 7) -> list[Result]:
    """Measure both startups interleaved; one row (seconds per start)."""
    with tempfile.TemporaryDirectory() as tmp:
        ours_env = _env("flext_observability", "flext_observability", Path(tmp) / "t.db")
        stock_env = _env("distro", "configurator", Path(tmp) / "unused.db")
        samples = interleaved(lambda: _start(stock_env), lambda: _start(ours_env), repeats)
    return [
        summarise(
            samples,
            0,
            name="opentelemetry-instrument python -c pass",
            measures="wall time per process start, ours vs opentelemetry-distro",
            unit="s",
            extra={"repeats": repeats},
        )
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row.name}: ours {row.ours:.3f} s, stock {row.bare:.3f} s, ratio {row.ratio:.2f}x")
