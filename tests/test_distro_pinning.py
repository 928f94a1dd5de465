"""When `opentelemetry-instrument` picks our distro, our configurator runs, whatever is installed.

`opentelemetry-distro` is installed beside ours (dev extra): with only our distro pinned, the
launcher must still run our configurator (the distro pins it), and spawned children must pick our
distro again; a configurator the user names explicitly is respected.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from _shop import BIN, clean_env

pytestmark = pytest.mark.slow

SCRIPT = """
import os, sys
from flext_observability._internal.setup import active
print("configurator", os.environ.get("OTEL_PYTHON_CONFIGURATOR"))
print("distro", os.environ.get("OTEL_PYTHON_DISTRO"))
print("ours", active() is not None)
"""


def _run(tmp_path: Path, **env: str) -> str:
    done = subprocess.run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, "-c", SCRIPT],
        env=clean_env(
            FLEXT_OBSERVABILITY_STORE_PATH=str(tmp_path / "t.db"),
            FLEXT_OBSERVABILITY_HEALTH_ENABLED="false",
            **env,
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_our_distro_pins_our_configurator_and_itself_for_children(tmp_path: Path) -> None:
    """Only OTEL_PYTHON_DISTRO set: our configurator runs; children inherit both pins."""
    out = _run(tmp_path, OTEL_PYTHON_DISTRO="flext_observability")
    assert out.splitlines() == [
        "configurator flext_observability",
        "distro flext_observability",
        "ours True",
    ]


def test_a_configurator_the_user_names_is_kept(tmp_path: Path) -> None:
    """An explicit OTEL_PYTHON_CONFIGURATOR (the stock one) wins over our default."""
    out = _run(
        tmp_path,
        OTEL_PYTHON_DISTRO="flext_observability",
        OTEL_PYTHON_CONFIGURATOR="configurator",
        OTEL_TRACES_EXPORTER="none",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    assert out.splitlines() == [
        "configurator configurator",
        "distro flext_observability",
        "ours False",
    ]
