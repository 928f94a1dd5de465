"""Shared fixtures: every test starts from clean global state and leaves none behind."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from flext_observability import shutdown, testing
from flext_observability.settings import reset_logged_problems


def pytest_configure(config: pytest.Config) -> None:
    """The servers a test starts get Ctrl-C as from a terminal, even when this run ignores it.

    A shell starts a background job without job control (`.ci/run &` in a script) with SIGINT
    ignored, and an ignored signal stays ignored across fork and exec: every server a test
    interrupts with SIGINT (the viewer, the shop) would ignore it and hang until the test's
    timeout. A *handled* SIGINT is reset to its default in an exec'd child, where Python then
    raises KeyboardInterrupt as usual.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _clean_global_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Blank OTEL_*/FLEXT_OBSERVABILITY_* env before; after, shut down any setup and reset OTel."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "FLEXT_OBSERVABILITY_")):
            monkeypatch.delenv(name, raising=False)
    reset_logged_problems()
    yield
    testing.release()  # shuts down any setup and resets OpenTelemetry's global providers


@pytest.fixture
def clean_globals() -> Iterator[None]:
    """No global providers before or after (for tests that call `setup()` themselves)."""
    testing.reset_opentelemetry_globals()
    yield
    shutdown(5)
    testing.reset_opentelemetry_globals()
