"""`flext-observability doctor --send` against real receivers: verdicts and likely causes."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest

from _receivers import OtlpHttpCounter, Rotel
from flext_observability import cli

pytestmark = pytest.mark.slow


def _send(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, list[str]]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = StringIO()
    code = cli.main(["--store", "/nonexistent/t.db", "doctor", "--send"], out=out)
    return code, [line for line in out.getvalue().splitlines() if line.startswith("send ")]


def test_every_signal_accepted_with_the_endpoint_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A working receiver: three 'accepted' lines (secrets masked), exit 0, items really sent."""
    with OtlpHttpCounter() as receiver:
        code, lines = _send(
            monkeypatch,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://u:pw@127.0.0.1:{receiver.port}/?api_key=S3CRET",
        )
        posted = set(receiver.posts)
    masked = f"http://REDACTED:REDACTED@127.0.0.1:{receiver.port}"
    assert lines == [
        f"send {signal}: accepted by {masked}/v1/{signal}?api_key=REDACTED (http/protobuf)"
        for signal in ("traces", "metrics", "logs")
    ]
    assert code == 0
    assert posted == {f"/v1/{s}?api_key=S3CRET" for s in ("traces", "metrics", "logs")}


@pytest.fixture(scope="module")
def rotel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rotel]:
    """A real OTLP receiver with both transports."""
    collector = Rotel(Path(tmp_path_factory.mktemp("rotel")))
    yield collector
    collector.stop()


def test_http_to_the_grpc_port_names_the_cause(
    rotel: Rotel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP/protobuf aimed at the gRPC port: refused, and the port mix-up is named."""
    code, lines = _send(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=rotel.grpc_endpoint)
    assert code == 1
    assert len(lines) == 3
    assert all("NOT accepted" in line and "OTLP/gRPC port" in line for line in lines), lines


def test_grpc_to_the_http_port_names_the_cause(
    rotel: Rotel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GRPC aimed at the HTTP port: refused, and the port mix-up is named."""
    code, lines = _send(
        monkeypatch,
        OTEL_EXPORTER_OTLP_ENDPOINT=rotel.http_endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
    )
    assert code == 1
    assert all("NOT accepted" in line and "OTLP/HTTP port" in line for line in lines), lines


def test_a_per_signal_endpoint_without_its_path_is_named(
    rotel: Rotel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is: without /v1/traces it 404s, said so."""
    code, lines = _send(
        monkeypatch,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=rotel.http_endpoint,
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    assert code == 1
    assert lines[0].startswith(f"send traces: NOT accepted by {rotel.http_endpoint} ")
    assert "missing path" in lines[0]
    assert "/v1/traces" in lines[0]
    assert lines[1:] == [
        "send metrics: no OTLP exporter configured (nothing to send)",
        "send logs: no OTLP exporter configured (nothing to send)",
    ]


def test_https_to_a_plain_port_is_named_tls(rotel: Rotel, monkeypatch: pytest.MonkeyPatch) -> None:
    """https:// to rotel's plain HTTP port: the TLS cause is named."""
    code, lines = _send(
        monkeypatch,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=f"https://127.0.0.1:{rotel.http_port}/v1/traces",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
    )
    assert code == 1
    assert "likely cause: TLS" in lines[0]
