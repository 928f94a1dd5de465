"""Shared fixtures: every test starts from clean global state and leaves none behind."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from flext_observability import testing
from flext_observability.settings import reset_logged_problems


@pytest.fixture(autouse=True)
def _clean_global_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Blank OTEL_*/FLEXT_OBSERVABILITY_* env before; after, shut down any setup and reset OTel."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "FLEXT_OBSERVABILITY_")):
            monkeypatch.delenv(name, raising=False)
    reset_logged_problems()
    yield
    testing.release()  # shuts down any setup and resets OpenTelemetry's global providers
