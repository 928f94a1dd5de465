"""`gc_freeze`: the startup heap goes to the GC's permanent generation where the setting says so.

`auto` (the default) freezes under `opentelemetry-instrument`, where telemetry is set up before
the application's own modules load, and never after a programmatic `setup()`, which may run once
the application built state that could later become cyclic garbage; `true` freezes in both,
`false` in neither. Each case runs in a fresh interpreter and looks whether an object made
before telemetry was set up is still listed by `gc.get_objects()`, which leaves frozen objects
out (`gc.get_freeze_count()` is no baseline: Python 3.12 starts with a few hundred frozen).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PROGRAM = (
    "import gc\n"
    "from flext_observability._internal import setup\n"  # loaded before the app: by the distro
    "print(id(setup.freeze_heap) not in {id(o) for o in gc.get_objects()})"
)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OTEL_", "FLEXT_OBSERVABILITY_"))
    }
    env.update(
        OTEL_PYTHON_DISTRO="flext_observability",
        OTEL_PYTHON_CONFIGURATOR="flext_observability",
        FLEXT_OBSERVABILITY_STORE_PATH=str(tmp_path / "t.db"),
        **extra,
    )
    return env


def _run(argv: list[str], env: dict[str, str]) -> tuple[str, str]:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


@pytest.mark.parametrize(
    ("value", "frozen"), [(None, True), ("auto", True), ("on", True), ("false", False)]
)
def test_under_opentelemetry_instrument(tmp_path: Path, value: str | None, frozen: bool) -> None:
    """The configurator freezes unless the setting is false."""
    extra = {} if value is None else {"FLEXT_OBSERVABILITY_GC_FREEZE": value}
    out, _ = _run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, "-c", PROGRAM],
        _env(tmp_path, **extra),
    )
    assert out == str(frozen)


@pytest.mark.parametrize(
    ("value", "frozen"),
    [(None, False), ("auto", False), ("true", True), ("1", True), ("no", False)],
)
def test_after_a_programmatic_setup(tmp_path: Path, value: str | None, frozen: bool) -> None:
    """`setup()` freezes only when told to (`true`), so late state is never frozen by default."""
    extra = {} if value is None else {"FLEXT_OBSERVABILITY_GC_FREEZE": value}
    code = (
        "import gc\n"
        "import flext_observability as fo\n"
        "def made_before(): pass\n"
        "fo.setup().shutdown()\n"
        "print(id(made_before) not in {id(o) for o in gc.get_objects()})"
    )
    out, _ = _run([sys.executable, "-c", code], _env(tmp_path, **extra))
    assert out == str(frozen)


def test_an_invalid_value_warns_once_and_keeps_auto(tmp_path: Path) -> None:
    """Like every setting: one warning naming it, the value and what is allowed; then `auto`."""
    out, err = _run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, "-c", PROGRAM],
        _env(tmp_path, FLEXT_OBSERVABILITY_GC_FREEZE="always"),
    )
    assert out == "True"
    expected = (
        "FLEXT_OBSERVABILITY_GC_FREEZE='always' is invalid: expected auto, or one of "
        "true/false/1/0/yes/no/on/off (any case); using 'auto'"
    )
    assert err.count(expected) == 1, err


def test_the_freeze_comes_after_the_instrumentors_loaded(tmp_path: Path) -> None:
    """The Flask instrumentor imports Flask to patch it: Flask's classes are frozen too.

    (`gc.get_objects()` does not list frozen objects; the application's own are not frozen.)
    """
    program = (
        "import gc, flask\n"
        "class Mine: pass\n"
        "listed = {id(o) for o in gc.get_objects()}\n"
        "print(id(flask.Flask) in listed, id(Mine) in listed)"
    )
    out, _ = _run(
        [str(BIN / "opentelemetry-instrument"), sys.executable, "-c", program], _env(tmp_path)
    )
    assert out == "False True"
