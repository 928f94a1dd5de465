"""Precedence, explicit arguments, strict mode, secrets and derived accessors of the settings."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import (
    FlextObservabilitySettings,
    OtlpSignalConfig,
    field_docs,
    reset_logged_problems,
)

S = FlextObservabilitySettings
CANARY = "canary-s3cr3t-0xdeadbeef"


@pytest.fixture(autouse=True)
def _in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from an empty directory and forget which problems were already logged."""
    monkeypatch.chdir(tmp_path)
    reset_logged_problems()
    yield
    reset_logged_problems()


def write_pyproject(tmp_path: Path, body: str) -> Path:
    """Write a pyproject.toml holding a [tool.flext-observability] table."""
    path = tmp_path / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\n\n[tool.flext-observability]\n{body}\n')
    return path


# --- precedence ---------------------------------------------------------------------------------


def test_precedence_argument_env_pyproject_default(tmp_path: Path) -> None:
    """Each field takes argument > environment > pyproject > default, and records which."""
    pyproject = write_pyproject(
        tmp_path, 'otlp_timeout_ms = 1000\nqueue_size = 64\nbatch_size = 8\nservice-name = "py"'
    )
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "2000", "FLEXT_OBSERVABILITY_QUEUE_SIZE": "128"}
    settings = S.load(environ=env, pyproject=pyproject, otlp_timeout_ms=3000)
    got = {
        name: (getattr(settings, name), settings.source_of(name))
        for name in ("otlp_timeout_ms", "queue_size", "batch_size", "service_name", "store_max_mb")
    }
    assert got == {
        "otlp_timeout_ms": (3000, "argument"),
        "queue_size": (128, "env:FLEXT_OBSERVABILITY_QUEUE_SIZE"),
        "batch_size": (8, "pyproject"),
        "service_name": ("py", "pyproject"),
        "store_max_mb": (256.0, "default"),
    }
    assert settings.problems == ()
    assert settings.sources["otlp_timeout_ms"] == "argument"
    assert set(settings.sources) == set(S.model_fields)


def test_cwd_pyproject_is_read_by_default(tmp_path: Path) -> None:
    """Without a path, ./pyproject.toml of the working directory is read."""
    write_pyproject(tmp_path, 'log_level = "debug"\nexporters_unused = 1')
    settings = S.load(environ={})
    assert (settings.log_level, settings.source_of("log_level")) == ("DEBUG", "pyproject")
    assert settings.problems == (
        "pyproject.toml [tool.flext-observability] has an unknown key 'exporters_unused'; ignored",
    )


def test_invalid_env_falls_back_to_pyproject_then_default(tmp_path: Path) -> None:
    """A bad env value yields to pyproject; a bad pyproject value yields to the default."""
    pyproject = write_pyproject(tmp_path, "otlp_timeout_ms = 1500\nqueue_size = -3")
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "soon", "FLEXT_OBSERVABILITY_QUEUE_SIZE": "x"}
    settings = S.load(environ=env, pyproject=pyproject)
    assert (settings.otlp_timeout_ms, settings.source_of("otlp_timeout_ms")) == (1500, "pyproject")
    assert (settings.queue_size, settings.source_of("queue_size")) == (8192, "default")
    assert settings.problems == (
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT='soon' is invalid: expected a positive integer "
            "(milliseconds, at most 2147483647); using 1500 from pyproject"
        ),
        "FLEXT_OBSERVABILITY_QUEUE_SIZE='x' is invalid: expected a positive integer; using 8192",
        (
            "pyproject.toml [tool.flext-observability] queue_size=-3 is invalid: expected a "
            "positive integer; using 8192"
        ),
    )


def test_service_name_env_order() -> None:
    """FLEXT_OBSERVABILITY_SERVICE_NAME > OTEL_SERVICE_NAME > service.name resource attribute."""
    attrs = {"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,service.version=9"}
    both = attrs | {"OTEL_SERVICE_NAME": "otel"}
    all_three = both | {"FLEXT_OBSERVABILITY_SERVICE_NAME": "ours"}
    loaded = [S.load(environ=env) for env in (attrs, both, all_three)]
    got = [(s.service_name, s.source_of("service_name")) for s in loaded]
    assert got == [
        ("from-attrs", "env:OTEL_RESOURCE_ATTRIBUTES"),
        ("otel", "env:OTEL_SERVICE_NAME"),
        ("ours", "env:FLEXT_OBSERVABILITY_SERVICE_NAME"),
    ]
    assert loaded[0].service_version == "9"


def test_toml_native_values(tmp_path: Path) -> None:
    """Pyproject accepts native TOML types (lists, tables, booleans, floats)."""
    pyproject = write_pyproject(
        tmp_path,
        'traces_exporter = ["OTLP", "console"]\nredaction_allow = ["user"]\nstrict = false\n'
        'sampling_ratio = 0.5\nresource_attributes = { team = "core" }\nmetrics_enabled = false',
    )
    settings = S.load(environ={}, pyproject=pyproject)
    assert (
        settings.traces_exporter,
        settings.redaction_allow,
        settings.sampling_ratio,
        settings.resource_attributes,
        settings.metrics_enabled,
    ) == (("otlp", "console"), ("user",), 0.5, {"team": "core"}, False)


def test_unreadable_pyproject_is_a_problem(tmp_path: Path) -> None:
    """Broken TOML is reported once and ignored; a missing explicit path raises."""
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.flext-observability\nx = ")
    settings = S.load(environ={"FLEXT_OBSERVABILITY_BATCH_SIZE": "7"}, pyproject=path)
    assert settings.batch_size == 7
    assert len(settings.problems) == 1
    assert settings.problems[0].startswith("pyproject.toml could not be read (")
    with pytest.raises(ConfigurationError, match=r"pyproject='.*missing.toml' is invalid"):
        S.load(environ={}, pyproject=tmp_path / "missing.toml")


# --- explicit arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampling_ratio": 1.5}, "sampling_ratio=1.5 is invalid: expected a number from 0 to 1"),
        ({"queue_size": True}, "queue_size=True is invalid: expected a positive integer"),
        ({"service_name": None}, "service_name=None is invalid: expected a non-empty string"),
        (
            {"otlp_protocol": "udp"},
            "otlp_protocol='udp' is invalid: expected one of grpc, http/protobuf, http/json",
        ),
        (
            {"health_token": ""},
            "health_token='***' is invalid: expected a non-empty string",
        ),
        (
            {"otlp_headers": "a=1,broken"},
            "otlp_headers: skipped malformed pair (expected key=value)",
        ),
        (
            {"servce_name": "x"},
            "unknown setting 'servce_name' (did you mean service_name, service_version?)",
        ),
        (
            {"sampling_ratio": -1, "health_port": 65536},
            (
                "sampling_ratio=-1 is invalid: expected a number from 0 to 1; health_port=65536 "
                "is invalid: expected an integer from 0 to 65535"
            ),
        ),
    ],
)
def test_invalid_arguments_raise(kwargs: dict[str, Any], message: str) -> None:
    """Invalid explicit arguments raise ConfigurationError naming setting, value and rule."""
    for build in (S, S.load, S().with_overrides):
        with pytest.raises(ConfigurationError) as info:
            build(**kwargs)
        assert str(info.value) == message
        assert info.value.__cause__ is None  # no pydantic error (which echoes input) is chained
        assert info.value.__context__ is None or info.value.__suppress_context__


def test_invalid_argument_raises_even_with_a_good_env() -> None:
    """An explicit argument is never silently replaced by a lower source."""
    with pytest.raises(ConfigurationError, match="batch_size=0 is invalid"):
        S.load(environ={"FLEXT_OBSERVABILITY_BATCH_SIZE": "4"}, batch_size=0)


def test_plain_constructor_is_hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """S(**kwargs) uses only its arguments and defaults, never the environment."""
    monkeypatch.setenv("FLEXT_OBSERVABILITY_QUEUE_SIZE", "3")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    settings = S(batch_size="16", traces_exporter="otlp, console")
    assert (settings.queue_size, settings.service_name, settings.batch_size) == (
        8192,
        "unknown_service",
        16,
    )
    assert settings.traces_exporter == ("otlp", "console")
    assert {n: s for n, s in settings.sources.items() if s != "default"} == {
        "batch_size": "argument",
        "traces_exporter": "argument",
    }
    assert S.load().queue_size == 3  # load() does read os.environ


def test_settings_are_frozen() -> None:
    """Assigning a field fails."""
    settings = S()
    with pytest.raises(Exception, match="frozen"):
        settings.queue_size = 1


def test_with_overrides_keeps_other_sources() -> None:
    """with_overrides applies arguments and keeps every other value and source."""
    base = S.load(environ={"OTEL_SERVICE_NAME": "svc", "OTEL_EXPORTER_OTLP_TIMEOUT": "nope"})
    new = base.with_overrides(queue_size=10, health_port=None)
    assert (new.queue_size, new.service_name, new.health_port) == (10, "svc", None)
    assert (new.source_of("queue_size"), new.source_of("service_name")) == (
        "argument",
        "env:OTEL_SERVICE_NAME",
    )
    assert new.source_of("health_port") == "argument"
    assert new.problems == base.problems
    assert base.queue_size == 8192


def test_source_of_unknown_name() -> None:
    """source_of an unknown name raises with suggestions."""
    with pytest.raises(ConfigurationError, match=r"unknown setting 'queue' \(did you mean"):
        S().source_of("queue")


# --- strict mode and logging --------------------------------------------------------------------


def test_strict_lists_every_problem(tmp_path: Path) -> None:
    """Strict mode (from any source) raises ConfigurationError listing all problems."""
    (tmp_path / "sub").mkdir()
    pyproject = write_pyproject(tmp_path / "sub", "strict = true")
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "abc", "FLEXT_OBSERVABILITY_HEALTH_PORT": "-1"}
    expected = (
        "invalid configuration (strict mode):\n"
        "  - OTEL_EXPORTER_OTLP_TIMEOUT='abc' is invalid: expected a positive integer "
        "(milliseconds, at most 2147483647)\n"
        "  - FLEXT_OBSERVABILITY_HEALTH_PORT='-1' is invalid: expected an integer from 0 to "
        "65535"
    )
    variants: list[dict[str, Any]] = [{"pyproject": pyproject}, {"strict": True}]
    for kwargs in variants:
        with pytest.raises(ConfigurationError) as info:
            S.load(environ=env, **kwargs)
        assert str(info.value) == expected
    assert S.load(environ=env).problems  # not strict: no raise


def test_each_problem_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """Each problem is one warning on flext_observability.settings, not repeated by a reload."""
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "abc", "OTEL_TRACES_SAMPLER": "my_sampler"}
    with caplog.at_level(logging.INFO, logger="flext_observability.settings"):
        first = S.load(environ=env)
        S.load(environ=env)
    warnings = [
        (r.name, r.levelname, r.getMessage())
        for r in caplog.records
        if r.levelno >= logging.WARNING
    ]
    assert warnings == [
        (
            "flext_observability.settings",
            "WARNING",
            "flext-observability configuration: " + first.problems[0],
        )
    ]
    assert first.traces_sampler == "my_sampler"
    note = (
        "OTEL_TRACES_SAMPLER: sampler 'my_sampler' is not built in; it will be looked up as an "
        "'opentelemetry_traces_sampler' entry point"
    )
    assert first.notes == (note,)


# --- secrets ------------------------------------------------------------------------------------


def test_secrets_never_leak() -> None:
    """A canary secret never appears in repr, str, dumps, problems or error messages."""
    env = {
        "OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer%20{CANARY},{CANARY}",
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"x-key={CANARY}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"https://user:{CANARY}@collector:4318",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"ftp://user:{CANARY}@collector",
        "FLEXT_OBSERVABILITY_HEALTH_TOKEN": CANARY,
        "FLEXT_OBSERVABILITY_ALERT_WEBHOOK_URL": f"https://hooks.example/{CANARY}",
        "FLEXT_OBSERVABILITY_ALERTMANAGER_URL": f"https://am:{CANARY}@am.example:9093",
    }
    settings = S.load(environ=env)
    bad_webhook = S.load(environ={"FLEXT_OBSERVABILITY_ALERT_WEBHOOK_URL": f"x{CANARY}"})
    bad_alertmanager = S.load(environ={"FLEXT_OBSERVABILITY_ALERTMANAGER_URL": f"x{CANARY}"})
    outputs = [
        repr(settings),
        str(settings),
        repr(settings.dump_masked()),
        settings.model_dump_json(),
        repr(settings.model_dump()),
        repr(settings.problems),
        repr(bad_webhook.problems),
        repr(bad_alertmanager.problems),
        repr(settings.otlp_for("traces")),
        repr(settings.otlp_for("metrics")),
    ]
    bad_arguments: list[dict[str, Any]] = [
        {"otlp_headers": f"a=1,{CANARY}"},
        {"health_token": "   "},
        {"alert_webhook_url": f"gopher://{CANARY}"},
        {"alertmanager_url": f"gopher://{CANARY}"},
        {"otlp_endpoint": f"ftp://u:{CANARY}@h"},
    ]
    for kwargs in bad_arguments:
        with pytest.raises(ConfigurationError) as info:
            S(**kwargs)
        outputs.append(str(info.value))
        with pytest.raises(ConfigurationError) as info:
            S.load(environ={}, **kwargs)
        outputs.append(str(info.value))
    assert [CANARY in text for text in outputs] == [False] * len(outputs)
    assert settings.otlp_for("traces").header_values() == {"x-key": CANARY}
    assert settings.otlp_for("metrics").header_values() == {"authorization": f"Bearer {CANARY}"}
    assert settings.otlp_endpoint == f"https://user:{CANARY}@collector:4318"
    assert settings.problems == (
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT='ftp://REDACTED:REDACTED@collector' is invalid: "
            "expected an http(s) URL; leaving it unset"
        ),
        "OTEL_EXPORTER_OTLP_HEADERS: skipped malformed pair (expected key=value)",
    )


def test_dump_masked_is_json_friendly() -> None:
    """dump_masked gives plain JSON types with every secret as '***'."""
    settings = S(
        otlp_endpoint="http://u:p@h:4318",
        otlp_headers={"api-key": "k"},
        health_token="t",
        alert_webhook_url="https://hook.example/t",
        traces_exporter="otlp",
        store_path=Path("x.db"),
    )
    dump = settings.dump_masked()
    assert {
        k: dump[k]
        for k in (
            "otlp_endpoint",
            "otlp_headers",
            "health_token",
            "alert_webhook_url",
            "traces_exporter",
            "store_path",
            "otlp_traces_headers",
        )
    } == {
        "otlp_endpoint": "http://REDACTED:REDACTED@h:4318",
        "otlp_headers": {"api-key": "***"},
        "health_token": "***",
        "alert_webhook_url": "***",
        "traces_exporter": ["otlp"],
        "store_path": "x.db",
        "otlp_traces_headers": None,
    }
    assert set(dump) == set(S.model_fields)


# --- resource attributes ------------------------------------------------------------------------


def test_resource_attributes_percent_decoding_and_malformed_pairs() -> None:
    """Pairs are percent-decoded; malformed ones are skipped with a problem, the rest kept."""
    raw = "a=1,  b = two%20words ,broken,=novalue,c=x%3Dy%2Cz,,k%C3%A9y=%E2%9C%93,bad=%FF"
    settings = S.load(environ={"OTEL_RESOURCE_ATTRIBUTES": raw})
    assert settings.resource_attributes == {
        "a": "1",
        "b": "two words",
        "c": "x=y,z",
        "kéy": "✓",
    }
    assert settings.problems == (
        "OTEL_RESOURCE_ATTRIBUTES: skipped malformed pair 'broken' (expected key=value)",
        "OTEL_RESOURCE_ATTRIBUTES: skipped malformed pair '=novalue' (expected key=value)",
        "OTEL_RESOURCE_ATTRIBUTES: skipped malformed pair 'bad=%FF' (expected key=value)",
    )


def test_resource_attributes_full() -> None:
    """Service name, version and environment are merged over the resource attributes."""
    settings = S.load(
        environ={
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=a,team=core,deployment.environment.name=dev",
            "FLEXT_OBSERVABILITY_SERVICE_NAME": "b",
            "FLEXT_OBSERVABILITY_SERVICE_VERSION": "2.0",
        }
    )
    assert settings.resource_attributes_full() == {
        "service.name": "b",
        "service.version": "2.0",
        "team": "core",
        "deployment.environment.name": "dev",
    }
    assert S(environment="prod").resource_attributes_full() == {
        "service.name": "unknown_service",
        "deployment.environment.name": "prod",
    }


# --- derived accessors --------------------------------------------------------------------------


def test_otlp_for_each_signal() -> None:
    """Per-signal values win; HTTP appends /v1/<signal> to the base endpoint, gRPC does not."""
    settings = S.load(
        environ={
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://metrics:9000/custom",
            "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_HEADERS": "a=1",
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "b=2",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "500",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
        }
    )
    assert [settings.otlp_for(s) for s in ("traces", "metrics", "logs")] == [
        OtlpSignalConfig(
            "traces",
            "http://collector:4318/v1/traces",
            "http/protobuf",
            {"a": SecretStr("1")},
            0.5,
            "gzip",
        ),
        OtlpSignalConfig(
            "metrics",
            "http://metrics:9000/custom",
            "http/protobuf",
            {"a": SecretStr("1")},
            2.5,
            "gzip",
        ),
        OtlpSignalConfig(
            "logs", "http://collector:4318/", "grpc", {"b": SecretStr("2")}, 2.5, "gzip"
        ),
    ]
    assert [settings.exporters_for(s) for s in ("traces", "metrics", "logs")] == [("otlp",)] * 3
    assert S().otlp_for("traces").endpoint is None
    assert S().exporters_for("traces") == ()
    assert S(traces_exporter="none", otlp_endpoint="http://h").exporters_for("traces") == ()


def test_small_derived_values() -> None:
    """Seconds and log level numbers are derived from the stored values."""
    settings = S(shutdown_timeout_ms=1500, log_level="warn")
    assert (settings.shutdown_timeout_s, settings.log_level, settings.log_level_number) == (
        1.5,
        "WARNING",
        logging.WARNING,
    )
    assert (S(log_level=15).log_level, S(log_level=15).log_level_number) == ("15", 15)
    assert S(log_level="fatal").log_level_number == logging.CRITICAL


def test_fields_are_documented() -> None:
    """Every field has a docstring (its documentation), read on demand by `field_docs()`."""
    docs = field_docs()
    undocumented = [name for name in S.model_fields if not docs.get(name, "").strip()]
    assert undocumented == []
    assert set(docs) == set(S.model_fields)
