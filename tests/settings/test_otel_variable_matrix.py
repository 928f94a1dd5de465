"""Every OTEL_* variable OpenTelemetry reads, times hostile values, under setup().

The variables are enumerated from the installed OpenTelemetry packages (never listed by hand); each
is set, alone, to a negative number, zero, a non-number, a huge number and an unknown word. For
every case: `setup()` returns, spans, logs and metrics still reach our sink *and* the OTLP
receiver, and an invalid value gets exactly one warning naming the variable, the value and what is
allowed.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import metrics, trace

from _helpers import run_python
from _receivers import OtlpHttpCounter
from flext_observability import setup, testing
from flext_observability.models import FlextLogEntry, FlextMetric, FlextTrace
from flext_observability.settings._otel_env import (
    EXPORTER_VARIABLE_MODULES,
    otel_parser,
    otel_variables,
    validate_otel_environment,
)
from flext_observability.settings._parse import Feedback
from flext_observability.sinks import MemorySink

SOURCES = (
    "opentelemetry.environment_variables",
    "opentelemetry.sdk.environment_variables",
    "opentelemetry.instrumentation.environment_variables",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.prometheus",
)
HOSTILE = {
    "negative": "-5",
    "zero": "0",
    "non_numeric": "abc",
    "huge": "99999999999999999999",
    "unknown": "bogus_value",
}
# Values that are allowed but mean "switch this off"/"go elsewhere" by the variable's own meaning:
# telemetry keeps flowing to our sink, the OTLP receiver is not expected to see every signal.
_DESTINATION = (
    "OTEL_EXPORTER_OTLP_",  # a valid protocol/port/path change sends elsewhere
    "OTEL_TRACES_SAMPLER",
    "OTEL_SDK_DISABLED",
    "OTEL_PYTHON_",
    "OTEL_EXPORTER_PROMETHEUS_",
)


def _variables() -> list[str]:
    names: set[str] = set()
    for module_name in SOURCES:
        module = importlib.import_module(module_name)
        names.update(
            value
            for attr in dir(module)
            if attr.startswith("OTEL_") and isinstance(value := getattr(module, attr), str)
        )
    return sorted(names)


VARIABLES = _variables()
CASES = [(name, value) for name in VARIABLES for value in HOSTILE.values()]


def _invalid(name: str, value: str) -> bool:
    parser = otel_parser(name)
    assert parser is not None, f"{name} is read by OpenTelemetry but we do not judge it"
    try:
        parser(value, Feedback())
    except ValueError:
        return True
    return False


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpHttpCounter]:
    """One OTLP/HTTP receiver for the whole matrix."""
    with OtlpHttpCounter() as counter:
        yield counter


def test_every_variable_is_judged() -> None:
    """Every enumerated variable has a parser (a new SDK variable makes this fail until judged)."""
    assert len(VARIABLES) >= 80
    assert [name for name in VARIABLES if otel_parser(name) is None] == []


# The SDK shows this once by default (its own filter); the suite turns warnings into errors.
@pytest.mark.filterwarnings("ignore::opentelemetry.sdk._logs.LogRecordDroppedAttributesWarning")
@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{n}={v}" for n, v in CASES])
def test_hostile_value_keeps_telemetry_on(
    name: str,
    value: str,
    receiver: OtlpHttpCounter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One hostile value: setup() works, every signal flows, an invalid value warns once."""
    if name == "OTEL_EXPORTER_OTLP_ENDPOINT":
        for signal in ("TRACES", "METRICS", "LOGS"):
            monkeypatch.setenv(
                f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT", f"{receiver.url}/v1/{signal.lower()}"
            )
    else:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv(name, value)
    receiver.posts.clear()
    sink = MemorySink()
    caplog.set_level(logging.INFO, logger="flext_observability")
    obs = setup(sinks=[sink], store_enabled=False, health_enabled=False)
    try:
        with trace.get_tracer("matrix").start_as_current_span("matrix-span"):
            logging.getLogger("matrix.app").warning("matrix-log")
        metrics.get_meter("matrix").create_counter("matrix.count").add(1)
        assert obs.force_flush(10.0)
    finally:
        testing.release()
    assert [t.operation_name for t in sink.of_type(FlextTrace)] == ["matrix-span"]
    assert "matrix-log" in [e.message for e in sink.of_type(FlextLogEntry)]
    assert "matrix.count" in {m.name for m in sink.of_type(FlextMetric)}
    if not name.startswith(_DESTINATION) and name not in {
        "OTEL_TRACES_EXPORTER",
        "OTEL_METRICS_EXPORTER",
        "OTEL_LOGS_EXPORTER",
    }:
        assert {"/v1/traces", "/v1/logs", "/v1/metrics"} <= set(receiver.posts), receiver.posts
    said = [
        r.getMessage()
        for r in caplog.records
        if name in r.getMessage() and r.levelno >= logging.WARNING
    ]
    if _invalid(name, value):
        assert len(said) == 1, said
        assert "expected" in said[0]
        assert repr(value) in said[0] or "'***'" in said[0]


def test_invalid_values_leave_the_environment() -> None:
    """An invalid value is removed so no later reader (SDK, instrumentation, child) sees it."""
    env = {"OTEL_BSP_MAX_QUEUE_SIZE": "0", "OTEL_BSP_SCHEDULE_DELAY": "250"}
    result = validate_otel_environment(env)
    assert env == {"OTEL_BSP_SCHEDULE_DELAY": "250"}
    assert result.values == {"OTEL_BSP_SCHEDULE_DELAY": 250}
    assert result.problems == [
        (
            "OTEL_BSP_MAX_QUEUE_SIZE='0' is invalid: expected a positive integer (at most "
            "2147483647); using the default"
        )
    ]


def test_batch_larger_than_queue_falls_back() -> None:
    """A batch size above the queue size (the SDK raises on it) is rejected, naming the bound."""
    env = {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "99999"}
    result = validate_otel_environment(env)
    assert env == {}
    assert result.problems == [
        (
            "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE='99999' is invalid: expected at most "
            "OTEL_BLRP_MAX_QUEUE_SIZE (2048); using the default"
        )
    ]


def test_typo_in_a_variable_name_is_reported() -> None:
    """An unknown OTEL_* name close to a known one is named with the probable intent."""
    result = validate_otel_environment({"OTEL_BSP_MAX_QUEUE_SIZ": "5"})
    assert result.problems == [
        (
            "OTEL_BSP_MAX_QUEUE_SIZ is not a known variable "
            "(did you mean OTEL_BSP_MAX_QUEUE_SIZE?); ignored"
        )
    ]


def test_exporters_name_no_variable_beyond_the_sdk() -> None:
    """The variables the exporters' modules name are all known without importing them."""
    assert set(otel_variables(EXPORTER_VARIABLE_MODULES)) <= set(otel_variables())


@pytest.mark.slow
def test_setup_without_an_endpoint_loads_no_exporter_transport(tmp_path: Path) -> None:
    """Judging the OTEL_* environment imports neither grpc nor the OTLP exporters' modules."""
    code = (
        "import sys, flext_observability as fo\n"
        f"fo.setup(store_path={str(tmp_path / 't.db')!r}, health_enabled=False)\n"
        "loaded = sorted(m for m in sys.modules if m == 'grpc' or m.startswith("
        "('opentelemetry.exporter.otlp.proto.grpc', 'opentelemetry.exporter.otlp.proto.http')))\n"
        "fo.shutdown()\n"
        "print(loaded)\n"
    )
    assert run_python(code).strip() == "[]"
