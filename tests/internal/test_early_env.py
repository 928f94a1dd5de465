"""Variables the SDK reads at import time cannot break the import of our package or the SDK."""

from __future__ import annotations

import os

import pytest

from _helpers import run_python

pytestmark = pytest.mark.slow


def test_import_time_variables_fall_back_before_the_sdk_is_imported() -> None:
    """A bad OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT / OTEL_PROPAGATORS: imports work, one warning each."""
    code = (
        "import contextlib, io, sys\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        "    import flext_observability\n"
        "    import opentelemetry.propagate, opentelemetry.sdk.trace\n"
        "    from flext_observability import setup\n"
        "print(type(opentelemetry.propagate.get_global_textmap()).__name__)\n"
        "print(opentelemetry.sdk.trace.SPAN_ATTRIBUTE_COUNT_LIMIT)\n"
        "print(err.getvalue().count('is invalid'))\n"
    )
    env = {
        **os.environ,
        "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "-5",
        "OTEL_PROPAGATORS": "bogus",
    }
    assert run_python(code, env=env).splitlines() == ["CompositePropagator", "128", "2"]
