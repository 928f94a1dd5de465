"""Shared fixtures: every test starts from clean global state."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove every OTEL_* and FLEXT_OBSERVABILITY_* variable so tests see a blank slate."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "FLEXT_OBSERVABILITY_")):
            monkeypatch.delenv(name, raising=False)
    yield
