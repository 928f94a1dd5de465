"""Nothing printed leaks: URLs are masked by the redaction rules; paths join before the query."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace

from _receivers import OtlpHttpCounter
from flext_observability import cli, setup, testing
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.settings._parse import mask_url

LEAKY = "http://user:pw-CANARY@host:4318/?api_key=SECRET-CANARY&region=eu"


def test_startup_url_masking_hides_userinfo_and_secret_query_values() -> None:
    """The one masker: user info and api_key values replaced, harmless parameters kept."""
    assert mask_url(LEAKY) == "http://REDACTED:REDACTED@host:4318/?api_key=REDACTED&region=eu"


@given(
    key=st.sampled_from(["api_key", "token", "password", "sig", "access_token", "X-Api-Key"]),
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=20),
)
def test_secret_query_values_never_survive(key: str, secret: str) -> None:
    """Whatever the secret-looking key and value, the value is not in the masked URL."""
    masked = mask_url(f"https://u:{secret}@h/p?{key}={secret}#{key}={secret}")
    assert secret not in masked


def test_config_and_endpoint_never_print_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """`config` (human and --json) shows the endpoint masked; the secret appears nowhere."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", LEAKY)
    for args in (["config"], ["config", "--json"]):
        out = StringIO()
        assert cli.main(["--store", "/nonexistent/t.db", *args], out=out) == 0
        assert "CANARY" not in out.getvalue()
    settings = FlextObservabilitySettings.load()
    assert "CANARY" not in repr(settings.otlp_for("traces"))
    assert "CANARY" not in json.dumps(settings.dump_masked())


def test_signal_path_is_joined_before_the_query() -> None:
    """`/v1/<signal>` goes into the path, not after `?api_key=...`."""
    settings = FlextObservabilitySettings(otlp_endpoint="http://h:4318/base/?api_key=k#f")
    assert settings.otlp_for("logs").endpoint == "http://h:4318/base/v1/logs?api_key=k#f"


def test_the_exporter_posts_to_the_joined_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A real OTLP/HTTP exporter reaches `/v1/traces?api_key=...` on a real receiver."""
    with OtlpHttpCounter() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"{receiver.url}/?api_key=k1")
        obs = setup(store_enabled=False, health_enabled=False)
        try:
            with trace.get_tracer("t").start_as_current_span("s"):
                logging.getLogger("app").warning("w")
            assert obs.force_flush(10.0)
        finally:
            testing.release()
        assert {"/v1/traces?api_key=k1", "/v1/logs?api_key=k1"} <= set(receiver.posts)


@pytest.mark.slow
def test_startup_line_masks_the_endpoint(tmp_path: Path) -> None:
    """Under opentelemetry-instrument the startup line never prints the canary secrets."""
    (tmp_path / "app.py").write_text("print('ran')\n")
    bindir = Path(sys.executable).parent
    done = subprocess.run(
        [str(bindir / "opentelemetry-instrument"), sys.executable, "app.py"],
        cwd=tmp_path,
        env={
            "PATH": str(bindir),
            "OTEL_PYTHON_DISTRO": "flext_observability",
            "OTEL_PYTHON_CONFIGURATOR": "flext_observability",
            "OTEL_EXPORTER_OTLP_ENDPOINT": LEAKY,
            "FLEXT_OBSERVABILITY_STORE_ENABLED": "false",
            "OTEL_BSP_EXPORT_TIMEOUT": "200",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "200",
            "FLEXT_OBSERVABILITY_SHUTDOWN_TIMEOUT_MS": "500",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout == "ran\n"
    assert "CANARY" not in done.stderr
    assert "OTLP to http://REDACTED:REDACTED@host:4318/v1/traces?api_key=REDACTED" in done.stderr
