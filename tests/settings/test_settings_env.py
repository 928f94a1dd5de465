"""Every environment variable by {unset, empty, valid, invalid}: value, source and problem text."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import SecretStr

from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.settings._sources import table_of

F = "FLEXT_OBSERVABILITY_"
OTLP = "OTEL_EXPORTER_OTLP_"
BOOL = "one of true/false/1/0/yes/no/on/off (any case)"
URL = "an http(s) URL"
PROTO = "one of grpc, http/protobuf, http/json"
NN_MS = "a positive integer (milliseconds, at most 2147483647)"
NN_INT = "a non-negative integer (at most 2147483647)"
UNSET = "leaving it unset"


class Row(NamedTuple):
    """One variable: a valid value and what it parses to; an invalid value and the problem."""

    var: str
    field: str
    valid: str
    parsed: object
    invalid: str | None = None
    problem: str | None = None  # the full expected problem message for `invalid`


def bad(var: str, shown: str, expected: str, tail: str) -> str:
    """Build the documented problem sentence."""
    return f"{var}={shown} is invalid: expected {expected}; {tail}"


ROWS = [
    Row(F + "SERVICE_NAME", "service_name", " svc ", "svc"),
    Row("OTEL_SERVICE_NAME", "service_name", "svc2", "svc2"),
    Row(F + "SERVICE_VERSION", "service_version", "1.2.3", "1.2.3"),
    Row(F + "ENVIRONMENT", "environment", "prod", "prod"),
    Row("OTEL_RESOURCE_ATTRIBUTES", "resource_attributes", "a=1, b=x%20y", {"a": "1", "b": "x y"}),
    *(
        Row(
            f"{F}{sig.upper()}_ENABLED",
            f"{sig}_enabled",
            "OFF",
            False,
            "maybe",
            bad(f"{F}{sig.upper()}_ENABLED", "'maybe'", BOOL, "using True"),
        )
        for sig in ("traces", "metrics", "logs", "alerts", "health")
    ),
    Row(
        F + "SAMPLING_RATIO",
        "sampling_ratio",
        "0.25",
        0.25,
        "1.5",
        bad(F + "SAMPLING_RATIO", "'1.5'", "a number from 0 to 1", "using 1.0"),
    ),
    Row(
        "OTEL_TRACES_SAMPLER",
        "traces_sampler",
        "ParentBased_TraceIdRatio",
        "parentbased_traceidratio",
        "bad name!",
        bad(
            "OTEL_TRACES_SAMPLER",
            "'bad name!'",
            "one of always_on, always_off, traceidratio, parentbased_always_on, "
            "parentbased_always_off, parentbased_traceidratio, or an "
            "'opentelemetry_traces_sampler' entry-point name",
            UNSET,
        ),
    ),
    Row("OTEL_TRACES_SAMPLER_ARG", "traces_sampler_arg", "0.5", "0.5"),
    Row(
        "OTEL_METRIC_EXPORT_INTERVAL",
        "metric_export_interval_ms",
        "1000",
        1000,
        "0",
        bad(
            "OTEL_METRIC_EXPORT_INTERVAL",
            "'0'",
            "a positive integer (milliseconds, at most 2147483647)",
            "using 60000",
        ),
    ),
    Row(
        "OTEL_METRIC_EXPORT_TIMEOUT",
        "metric_export_timeout_ms",
        "1",
        1,
        "0",
        bad("OTEL_METRIC_EXPORT_TIMEOUT", "'0'", NN_MS, "using 30000"),
    ),
    Row(
        "OTEL_TRACES_EXPORTER",
        "traces_exporter",
        " OTLP , console,otlp ",
        ("otlp", "console"),
        "none,otlp",
        "OTEL_TRACES_EXPORTER='none,otlp' is invalid: expected 'none' or a comma-separated "
        "list of exporter names (otlp, console, zipkin, or an installed entry point) "
        "('none' cannot be combined with other exporters); leaving it unset",
    ),
    Row(
        "OTEL_METRICS_EXPORTER",
        "metrics_exporter",
        "prometheus",
        ("prometheus",),
        "a b",
        "OTEL_METRICS_EXPORTER='a b' is invalid: expected 'none' or a comma-separated list "
        "of exporter names (otlp, console, prometheus, or an installed entry point); "
        "leaving it unset",
    ),
    Row(
        "OTEL_LOGS_EXPORTER",
        "logs_exporter",
        "NONE",
        (),
        "console;otlp",
        "OTEL_LOGS_EXPORTER='console;otlp' is invalid: expected 'none' or a comma-separated "
        "list of exporter names (otlp, console, or an installed entry point); leaving it unset",
    ),
    *(
        Row(
            f"{OTLP}{part}ENDPOINT",
            f"otlp_{part.lower()}endpoint",
            "http://collector:4318",
            "http://collector:4318",
            "ftp://collector",
            bad(f"{OTLP}{part}ENDPOINT", "'ftp://collector'", URL, UNSET),
        )
        for part in ("", "TRACES_", "METRICS_", "LOGS_")
    ),
    Row(
        OTLP + "PROTOCOL",
        "otlp_protocol",
        "GRPC",
        "grpc",
        "thrift",
        bad(OTLP + "PROTOCOL", "'thrift'", PROTO, "using 'http/protobuf'"),
    ),
    *(
        Row(
            f"{OTLP}{sig}_PROTOCOL",
            f"otlp_{sig.lower()}_protocol",
            "http/json",
            "http/json",
            "http",
            bad(f"{OTLP}{sig}_PROTOCOL", "'http'", PROTO, UNSET),
        )
        for sig in ("TRACES", "METRICS", "LOGS")
    ),
    *(
        Row(
            f"{OTLP}{part}HEADERS",
            f"otlp_{part.lower()}headers",
            "k=v%2C1",
            {"k": SecretStr("v,1")},
        )
        for part in ("", "TRACES_", "METRICS_", "LOGS_")
    ),
    Row(
        OTLP + "TIMEOUT",
        "otlp_timeout_ms",
        "2500",
        2500,
        "abc",
        "OTEL_EXPORTER_OTLP_TIMEOUT='abc' is invalid: expected a positive integer "
        "(milliseconds, at most 2147483647); using 10000",
    ),
    *(
        Row(
            f"{OTLP}{sig}_TIMEOUT",
            f"otlp_{sig.lower()}_timeout_ms",
            "+7",
            7,
            "1.5",
            bad(f"{OTLP}{sig}_TIMEOUT", "'1.5'", NN_MS, UNSET),
        )
        for sig in ("TRACES", "METRICS", "LOGS")
    ),
    Row(
        OTLP + "COMPRESSION",
        "otlp_compression",
        "GZIP",
        "gzip",
        "brotli",
        bad(OTLP + "COMPRESSION", "'brotli'", "one of gzip, none", UNSET),
    ),
    Row(
        OTLP + "INSECURE",
        "otlp_insecure",
        "yes",
        True,
        "sure",
        bad(OTLP + "INSECURE", "'sure'", BOOL, UNSET),
    ),
    *(
        Row(var, field, "128", 128, "-5", bad(var, "'-5'", NN_INT, UNSET))
        for var, field in (
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "attribute_count_limit"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "attribute_value_length_limit"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "span_attribute_count_limit"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "span_event_count_limit"),
            ("OTEL_SPAN_LINK_COUNT_LIMIT", "span_link_count_limit"),
        )
    ),
    Row(
        F + "STORE_ENABLED",
        "store_enabled",
        "0",
        False,
        "2",
        bad(F + "STORE_ENABLED", "'2'", BOOL, "using True"),
    ),
    Row(F + "STORE_PATH", "store_path", "/var/t.db", Path("/var/t.db")),
    Row(
        F + "STORE_RETENTION_HOURS",
        "store_retention_hours",
        "1.5",
        1.5,
        "0",
        bad(F + "STORE_RETENTION_HOURS", "'0'", "a positive number", "using 168.0"),
    ),
    Row(
        F + "STORE_MAX_MB",
        "store_max_mb",
        "1e3",
        1000.0,
        "nan",
        bad(F + "STORE_MAX_MB", "'nan'", "a positive number", "using 256.0"),
    ),
    Row(
        F + "LOG_LEVEL",
        "log_level",
        "warn",
        "WARNING",
        "loud",
        bad(
            F + "LOG_LEVEL",
            "'loud'",
            "a logging level name (CRITICAL, ERROR, WARNING, INFO, DEBUG, NOTSET; any case) "
            "or a non-negative number",
            "using 'INFO'",
        ),
    ),
    Row(
        F + "OUTBOX_ENABLED",
        "outbox_enabled",
        "false",
        False,
        "perhaps",
        bad(F + "OUTBOX_ENABLED", "'perhaps'", BOOL, "using True"),
    ),
    Row(
        F + "OUTBOX_MAX_MB",
        "outbox_max_mb",
        "8",
        8.0,
        "-1",
        bad(F + "OUTBOX_MAX_MB", "'-1'", "a positive number", "using 64.0"),
    ),
    Row(
        F + "OUTBOX_MAX_AGE_S",
        "outbox_max_age_s",
        "60",
        60.0,
        "0",
        bad(F + "OUTBOX_MAX_AGE_S", "'0'", "a positive number", "using 3600.0"),
    ),
    Row(
        F + "DIAGNOSTICS_LEVEL",
        "diagnostics_level",
        "info",
        "INFO",
        "chatty",
        bad(
            F + "DIAGNOSTICS_LEVEL",
            "'chatty'",
            "a logging level name (CRITICAL, ERROR, WARNING, INFO, DEBUG, NOTSET; any case) "
            "or a non-negative number",
            "using 'WARNING'",
        ),
    ),
    Row(
        F + "REDACTION_ENABLED",
        "redaction_enabled",
        "no",
        False,
        "nope",
        bad(F + "REDACTION_ENABLED", "'nope'", BOOL, "using True"),
    ),
    Row(
        F + "REDACTION_EXTRA_PATTERNS",
        "redaction_extra_patterns",
        r"a{1,3}, [,x]+ ,\d",
        ("a{1,3}", "[,x]+", r"\d"),
        "ok,x(",
        "FLEXT_OBSERVABILITY_REDACTION_EXTRA_PATTERNS='ok,x(' is invalid: expected "
        "comma-separated regular expressions that compile (pattern 'x(' does not compile: "
        "missing ), unterminated subpattern at position 1); using ''",
    ),
    Row(F + "REDACTION_ALLOW", "redaction_allow", " a , b ,,a", ("a", "b")),
    Row(
        F + "STRICT",
        "strict",
        "true",
        True,
        "maybe",
        bad(F + "STRICT", "'maybe'", BOOL, "using False"),
    ),
    Row(
        F + "HANDLE_SIGNALS",
        "handle_signals",
        "off",
        False,
        "sometimes",
        bad(F + "HANDLE_SIGNALS", "'sometimes'", BOOL, "using True"),
    ),
    Row(
        F + "GC_FREEZE",
        "gc_freeze",
        " Auto ",
        "auto",
        "always",
        bad(F + "GC_FREEZE", "'always'", "auto, or " + BOOL, "using 'auto'"),
    ),
    Row(
        F + "SHUTDOWN_TIMEOUT_MS",
        "shutdown_timeout_ms",
        "250",
        250,
        "0",
        bad(
            F + "SHUTDOWN_TIMEOUT_MS",
            "'0'",
            "a positive integer (milliseconds, at most 2147483647)",
            "using 5000",
        ),
    ),
    Row(
        F + "QUEUE_SIZE",
        "queue_size",
        "10",
        10,
        "-1",
        bad(F + "QUEUE_SIZE", "'-1'", "a positive integer", "using 8192"),
    ),
    Row(
        F + "BATCH_SIZE",
        "batch_size",
        "5",
        5,
        "many",
        bad(F + "BATCH_SIZE", "'many'", "a positive integer", "using 512"),
    ),
    Row(F + "ALERT_RULES", "alert_rules", "rules.toml", Path("rules.toml")),
    Row(
        F + "ALERT_WEBHOOK_URL",
        "alert_webhook_url",
        "https://hooks.example/x",
        SecretStr("https://hooks.example/x"),
        "not a url",
        bad(F + "ALERT_WEBHOOK_URL", "'***'", URL, UNSET),
    ),
    Row(
        F + "HEALTH_PORT",
        "health_port",
        "8080",
        8080,
        "70000",
        bad(F + "HEALTH_PORT", "'70000'", "an integer from 0 to 65535", UNSET),
    ),
    Row(F + "HEALTH_HOST", "health_host", "0.0.0.0", "0.0.0.0"),
    Row(
        F + "ALERTMANAGER_URL",
        "alertmanager_url",
        "http://u:p@127.0.0.1:9093",
        SecretStr("http://u:p@127.0.0.1:9093"),
        "ftp://x",
        bad(F + "ALERTMANAGER_URL", "'***'", URL, UNSET),
    ),
    Row(
        F + "EXCLUDE",
        "exclude",
        "/internal/*, GET /x ,app.noisy*",
        ("/internal/*", "GET /x", "app.noisy*"),
    ),
    Row(
        F + "RUNTIME_METRICS",
        "runtime_metrics",
        "false",
        False,
        "sometimes",
        bad(F + "RUNTIME_METRICS", "'sometimes'", BOOL, "using True"),
    ),
    Row(
        F + "SAMPLING_KEEP_SLOW_MS",
        "sampling_keep_slow_ms",
        "250",
        250,
        "0",
        bad(
            F + "SAMPLING_KEEP_SLOW_MS",
            "'0'",
            "a positive integer (milliseconds, at most 2147483647)",
            "using 1000",
        ),
    ),
    Row(F + "HEALTH_TOKEN", "health_token", "tok", SecretStr("tok")),
    Row(F + "UI_TOKEN", "ui_token", "tok", SecretStr("tok")),
    Row(
        F + "HEALTH_INTERVAL_S",
        "health_interval_s",
        "5",
        5.0,
        "-1",
        bad(F + "HEALTH_INTERVAL_S", "'-1'", "a positive number", "using 30.0"),
    ),
]

IDS = [row.var for row in ROWS]


@pytest.fixture(autouse=True)
def _in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a directory without pyproject.toml, so only `environ` matters."""
    monkeypatch.chdir(tmp_path)


def test_every_variable_has_a_row() -> None:
    """The table covers every environment variable any setting reads."""
    names = {
        ref
        for spec in table_of(FlextObservabilitySettings).values()
        for ref in spec.env
        if isinstance(ref, str)
    }
    assert names == set(IDS)
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_unset_gives_the_default(row: Row) -> None:
    """An unset variable leaves the default in place, with no problem."""
    settings = FlextObservabilitySettings.load(environ={})
    default = FlextObservabilitySettings.model_fields[row.field].get_default(
        call_default_factory=True
    )
    assert (getattr(settings, row.field), settings.source_of(row.field)) == (default, "default")
    assert settings.problems == ()


@pytest.mark.parametrize("row", ROWS, ids=IDS)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_empty_means_unset(row: Row, blank: str) -> None:
    """An empty or whitespace-only value is unset: default, no problem."""
    settings = FlextObservabilitySettings.load(environ={row.var: blank})
    default = FlextObservabilitySettings.model_fields[row.field].get_default(
        call_default_factory=True
    )
    assert (getattr(settings, row.field), settings.source_of(row.field)) == (default, "default")
    assert settings.problems == ()


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_valid_value_is_parsed(row: Row) -> None:
    """A valid value is parsed, attributed to its variable, and raises no problem."""
    settings = FlextObservabilitySettings.load(environ={row.var: row.valid})
    got = (getattr(settings, row.field), settings.source_of(row.field), settings.problems)
    assert got == (row.parsed, f"env:{row.var}", ())


INVALID = [row for row in ROWS if row.invalid is not None]


@pytest.mark.parametrize("row", INVALID, ids=[row.var for row in INVALID])
def test_invalid_value_falls_back_with_one_problem(row: Row) -> None:
    """An invalid value falls back to the default, with exactly one problem naming it."""
    assert row.invalid is not None
    env = {row.var: row.invalid, "OTEL_SERVICE_NAME": "still-works"}
    settings = FlextObservabilitySettings.load(environ=env)
    default = FlextObservabilitySettings.model_fields[row.field].get_default(
        call_default_factory=True
    )
    assert (getattr(settings, row.field), settings.source_of(row.field)) == (default, "default")
    assert settings.problems == (row.problem,)
    assert settings.service_name == "still-works"  # everything else keeps working


STRICT = [row for row in INVALID if row.field != "strict"]  # a bad STRICT cannot turn it on


@pytest.mark.parametrize("row", STRICT, ids=[row.var for row in STRICT])
def test_invalid_value_raises_in_strict_mode(row: Row) -> None:
    """With strict on, the same invalid value raises ConfigurationError quoting the problem."""
    assert row.invalid is not None
    env = {row.var: row.invalid, F + "STRICT": "1"}
    with pytest.raises(ConfigurationError) as info:
        FlextObservabilitySettings.load(environ=env)
    # Strict mode names the problem without the fallback ("; using ...") that it does not take.
    assert row.problem is not None
    problem = row.problem.rsplit("; using ", 1)[0].removesuffix("; leaving it unset")
    assert str(info.value) == f"invalid configuration (strict mode):\n  - {problem}"
