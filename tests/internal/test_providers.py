"""Building OTel pieces from settings: sampler, limits, exporters by name, OTLP options."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler

from flext_observability._internal import providers as _providers
from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.testing import strict_mode


def _settings(**kwargs: Any) -> FlextObservabilitySettings:
    return FlextObservabilitySettings(**kwargs)


@pytest.mark.parametrize(
    ("name", "arg", "description"),
    [
        (None, None, "ParentBased{root:TraceIdRatioBased{0.25}"),
        ("always_on", None, "AlwaysOnSampler"),
        ("always_off", None, "AlwaysOffSampler"),
        ("traceidratio", "0.5", "TraceIdRatioBased{0.5}"),
        ("traceidratio", "7", "TraceIdRatioBased{1.0}"),
        ("traceidratio", "abc", "TraceIdRatioBased{1.0}"),
        ("parentbased_always_on", None, "ParentBased{root:AlwaysOnSampler"),
        ("parentbased_always_off", None, "ParentBased{root:AlwaysOffSampler"),
        ("parentbased_traceidratio", "0.1", "ParentBased{root:TraceIdRatioBased{0.1}"),
        ("no_such_sampler", None, "ParentBased{root:TraceIdRatioBased{0.25}"),
    ],
)
def test_samplers_follow_otel_traces_sampler_or_our_ratio(
    name: str | None, arg: str | None, description: str
) -> None:
    """Every standard sampler name maps; a bad arg or unknown name falls back with a warning."""
    sampler: Sampler = _providers.build_sampler(
        _settings(traces_sampler=name, traces_sampler_arg=arg, sampling_ratio=0.25)
    )
    assert sampler.get_description().startswith(description)


def test_span_limits_come_from_the_limit_settings() -> None:
    """Set limits are applied; unset ones keep OpenTelemetry's defaults."""
    limits = _providers.build_span_limits(
        _settings(span_attribute_count_limit=7, span_event_count_limit=3)
    )
    assert (limits.max_span_attributes, limits.max_events) == (7, 3)
    assert limits.max_links == 128


def test_exporters_by_name_and_otlp_only_with_an_endpoint() -> None:
    """console/none map to SDK exporters; otlp is the default only when an endpoint is set."""
    assert _providers.exporter_names(_settings(), "traces") == ()
    with_endpoint = _settings(otlp_endpoint="http://127.0.0.1:4318")
    assert _providers.exporter_names(with_endpoint, "logs") == ("otlp",)
    console = _settings(traces_exporter=("console",), logs_exporter=("console",))
    assert [type(e) for e in _providers.build_span_exporters(console)] == [ConsoleSpanExporter]
    assert [type(e) for e in _providers.build_log_exporters(console)] == [ConsoleLogRecordExporter]
    readers = _providers.build_metric_readers(_settings(metrics_exporter=("console",)))
    assert [type(r) for r in readers] == [PeriodicExportingMetricReader]
    for reader in readers:
        reader.shutdown()


def test_otlp_exporters_get_protocol_endpoint_headers_timeout_and_compression() -> None:
    """GRPC and HTTP exporters are built with the effective per-signal OTLP options."""
    grpc = _providers.build_span_exporters(
        _settings(
            otlp_endpoint="http://127.0.0.1:4317",
            otlp_protocol="grpc",
            otlp_compression="gzip",
            otlp_timeout_ms=2500,
        )
    )
    http = _providers.build_span_exporters(
        _settings(
            otlp_endpoint="http://127.0.0.1:4318",
            otlp_protocol="http/json",
            otlp_headers={"x-api-key": "s3cret"},
            otlp_compression="gzip",
        )
    )
    assert [type(e) for e in grpc] == [GrpcSpanExporter]
    assert [type(e) for e in http] == [HttpSpanExporter]
    http_exporter: Any = http[0]
    grpc_exporter: Any = grpc[0]
    assert http_exporter._endpoint == "http://127.0.0.1:4318/v1/traces"
    client: Any = http_exporter._client
    assert (client._headers["x-api-key"], client._timeout) == ("s3cret", 10.0)
    assert client._compression.value == "gzip"
    assert grpc_exporter._timeout == 2.5
    for exporter in [*grpc, *http]:
        exporter.shutdown()
    # Exporters only (no periodic reader): nothing tries to reach the endpoint after the test.
    grpc_settings = _settings(otlp_endpoint="http://127.0.0.1:4317", otlp_protocol="grpc")
    metric_exporters = _providers._build_exporters(grpc_settings, "metrics")
    logs = _providers.build_log_exporters(grpc_settings)
    assert [type(e).__name__ for e in [*metric_exporters, *logs]] == [
        "OTLPMetricExporter",
        "OTLPLogExporter",
    ]
    for exporter in [*metric_exporters, *logs]:
        exporter.shutdown()


def test_an_unknown_exporter_falls_back_or_raises_when_explicit() -> None:
    """A name with no entry point: from the environment it falls back; as an argument it raises."""
    settings = FlextObservabilitySettings.load(
        environ={"OTEL_TRACES_EXPORTER": "nope", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318"}
    )
    assert settings.traces_exporter is None
    assert settings.exporters_for("traces") == ("otlp",)
    assert settings.problems == (
        (
            "OTEL_TRACES_EXPORTER='nope' is invalid: expected 'none' or a comma-separated list "
            "of exporter names (otlp, console, zipkin, or an installed entry point) (not "
            "installed: 'nope': no entry point in group 'opentelemetry_traces_exporter'); "
            "leaving it unset"
        ),
    )
    with pytest.raises(ConfigurationError, match="'nope'"):
        _settings(traces_exporter=("nope",))


def test_parent_based_is_the_default_shape() -> None:
    """Without OTEL_TRACES_SAMPLER the sampler respects the parent's decision."""
    assert isinstance(_providers.build_sampler(_settings()), ParentBased)


def test_an_exporter_that_cannot_start_is_skipped_and_the_rest_keeps_working(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Prometheus on a busy port: that exporter is skipped with a warning; strict raises."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        monkeypatch.setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
        monkeypatch.setenv("OTEL_EXPORTER_PROMETHEUS_PORT", str(busy.getsockname()[1]))
        settings = _settings(metrics_exporter=("prometheus", "console"))
        readers = _providers.build_metric_readers(settings)
        assert [type(r) for r in readers] == [PeriodicExportingMetricReader]
        assert "the 'prometheus' metrics exporter could not start: OSError" in caplog.text
        for reader in readers:
            reader.shutdown()
        with (
            strict_mode(),
            pytest.raises(ConfigurationError, match="'prometheus' metrics exporter"),
        ):
            _providers.build_metric_readers(settings)
