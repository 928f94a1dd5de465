"""Startup cost of `opentelemetry-instrument python -c pass`: our distro vs `opentelemetry-distro`.

Both run in fresh processes from the same venv, interleaved, with the distro and configurator
pinned (`OTEL_PYTHON_DISTRO` / `OTEL_PYTHON_CONFIGURATOR`): ours is `flext_observability`, the
stock one is `distro` / `configurator` from `opentelemetry-distro`. Exporters are `none` for the
stock distro (it defaults to OTLP) and our store writes to a temporary directory, so neither side
touches the network. Every installed instrumentation is disabled on both sides
(`OTEL_PYTHON_DISABLED_INSTRUMENTATIONS` lists them all, so not even their modules load): what
instrumentors a venv happens to hold (the dev extra installs Django, FastAPI, Celery, ...) would
otherwise dominate both starts and hide the distros' own cost. The program itself only prints
its peak RSS (`VmHWM`). Per process start:
wall time, CPU time (user + system of the child from `os.wait4`, steadier than wall on a loaded
machine) and peak RSS, medians over the repeats.

Two more rows measure a floor: the stock distro again, against the stock distro whose program
also imports `pydantic_settings`. Our settings are a pydantic-settings model that must be read
before anything is set up, so no start of ours can cost less than that import on top of the
stock start; the floor rows show how much of the goal (CPU at most 1.20x, RSS at most
stock + 6 MiB) that import alone takes.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

from _bench_common import Result, interleaved, summarise

BIN = Path(sys.executable).parent
RSS_ALLOWANCE_MIB = 6.0


def _instrumentations() -> str:
    """Every installed instrumentor's entry-point name, comma-separated."""
    names = {entry.name for entry in entry_points(group="opentelemetry_instrumentor")}
    return ",".join(sorted(names))


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
        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=_instrumentations(),
    )
    return env


# The "program": nothing but printing its own peak RSS. `VmHWM` is the high-water mark of this
# process image only; `ru_maxrss` would also count the parent's memory, inherited across exec.
PROGRAM = (
    "print(next(line.split()[1] for line in open('/proc/self/status') "
    "if line.startswith('VmHWM:')))"
)


FLOOR_PROGRAM = f"import pydantic_settings\n{PROGRAM}"
"""The floor: what our settings import before anything else, then the same program."""


def _start(env: dict[str, str], program: str = PROGRAM) -> list[float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one `opentelemetry-instrument` start."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "opentelemetry-instrument"), sys.executable, "-c", program],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    process.stdout.close()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, process.args)
    return [wall, usage.ru_utime + usage.ru_stime, int(output.split()[-1]) / 1024]


def run(repeats: int = 7) -> list[Result]:
    """Measure both startups interleaved; rows: wall and CPU seconds, peak RSS in MiB."""
    with tempfile.TemporaryDirectory() as tmp:
        ours_env = _env("flext_observability", "flext_observability", Path(tmp) / "t.db")
        stock_env = _env("distro", "configurator", Path(tmp) / "unused.db")
        samples = interleaved(lambda: _start(stock_env), lambda: _start(ours_env), repeats)
        floor = interleaved(
            lambda: _start(stock_env), lambda: _start(stock_env, FLOOR_PROGRAM), repeats
        )
    extra = {"repeats": repeats}
    return [
        summarise(
            samples,
            0,
            name="startup: opentelemetry-instrument python -c pass, wall",
            measures="wall time per process start, ours vs opentelemetry-distro",
            unit="s",
            target=1.20,
            extra=extra,
        ),
        summarise(
            samples,
            1,
            name="startup: opentelemetry-instrument python -c pass, CPU",
            measures="user + system CPU of the started process, ours vs opentelemetry-distro",
            unit="s",
            target=1.20,
            extra=extra,
        ),
        _rss_row(samples),
        summarise(
            floor,
            1,
            name="startup floor: stock + import pydantic_settings, CPU",
            measures="user + system CPU, the stock start importing pydantic-settings vs not",
            unit="s",
            extra=extra,
        ),
        summarise(
            floor,
            2,
            name="startup floor: stock + import pydantic_settings, peak RSS",
            measures="VmHWM, the stock start importing pydantic-settings vs not",
            unit="MiB",
            extra=extra,
        ),
    ]


def _rss_row(samples: tuple[list[list[float]], ...]) -> Result:
    """Peak RSS; the target ratio is (stock + 6 MiB) / stock."""
    row = summarise(
        samples,
        2,
        name="startup: peak RSS",
        measures="VmHWM of the started process (target: at most stock + 6 MiB)",
        unit="MiB",
    )
    return dataclasses.replace(row, target=(row.bare + RSS_ALLOWANCE_MIB) / row.bare)


if __name__ == "__main__":
    for row in run():
        print(f"{row.name}: ours {row.ours:.3f} {row.unit}, stock {row.bare:.3f}, {row.ratio:.2f}x")
