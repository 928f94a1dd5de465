"""Edge cases of the shared value parsers, seen through explicit arguments and pyproject."""

from __future__ import annotations

import logging
from pathlib import Path

import pydantic
import pytest
from pydantic import SecretStr

from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import FlextObservabilitySettings, reset_logged_problems
from flext_observability.settings import _settings as settings_module
from flext_observability.settings._parse import mask_url

S = FlextObservabilitySettings


@pytest.mark.parametrize(
    ("name", "value", "parsed"),
    [
        ("log_level", "015", "15"),
        ("log_level", 0, "0"),
        ("log_level", " Critical ", "CRITICAL"),
        ("sampling_ratio", 1, 1.0),
        ("sampling_ratio", ".5", 0.5),
        ("health_interval_s", "2.5e1", 25.0),
        ("queue_size", 12.0, 12),
        ("store_enabled", 0, False),
        ("store_path", Path("a/b.db"), Path("a/b.db")),
        ("health_token", SecretStr("t"), SecretStr("t")),
        ("otlp_headers", {"k": SecretStr("v")}, {"k": SecretStr("v")}),
        ("otlp_traces_headers", {" k ": "v"}, {"k": SecretStr("v")}),
        ("redaction_extra_patterns", [r"\d{2,}", "x"], (r"\d{2,}", "x")),
        ("redaction_extra_patterns", r"a\,b,[a-c]{1}", (r"a\,b", "[a-c]{1}")),
        ("traces_exporter", [], ()),
        ("traces_exporter", "Console, OTLP", ("console", "otlp")),
        ("otlp_endpoint", "HTTPS://[::1]:4317", "HTTPS://[::1]:4317"),
        ("health_port", None, None),
    ],
)
def test_valid_arguments(name: str, value: object, parsed: object) -> None:
    """Edge values that are allowed parse to the documented form."""
    assert getattr(S(**{name: value}), name) == parsed


POS = "a positive number"
URL = "an http(s) URL"
BOOL = "one of true/false/1/0/yes/no/on/off (any case)"
LEVEL = (
    "a logging level name (CRITICAL, ERROR, WARNING, INFO, DEBUG, NOTSET; any case) "
    "or a non-negative number"
)
PAIRS = "comma-separated key=value pairs (percent-encoded)"
EXPORTERS = (
    "'none' or a comma-separated list of exporter names (otlp, console, zipkin, "
    "or an installed entry point)"
)
REGEX_DETAIL = (
    "comma-separated regular expressions that compile (pattern 'a{4294967296}' does not "
    "compile: the repetition number is too large"
)


@pytest.mark.parametrize(
    ("name", "value", "shown", "expected"),
    [
        ("sampling_ratio", True, "True", "a number from 0 to 1"),
        ("sampling_ratio", 10**400, "1" + "0" * 196 + "...", "a number from 0 to 1"),
        ("health_interval_s", "1_0", "'1_0'", POS),
        ("health_interval_s", float("inf"), "inf", POS),
        ("queue_size", 1.5, "1.5", "a positive integer"),
        ("queue_size", "0x10", "'0x10'", "a positive integer"),
        ("otlp_endpoint", "http://h:99999", "'http://h:99999'", URL),
        ("otlp_endpoint", "http:///path", "'http:///path'", URL),
        ("store_enabled", 2, "2", BOOL),
        ("log_level", -1, "-1", LEVEL),
        (
            "resource_attributes",
            {"k": 1},
            "{'k': 1}",
            PAIRS + " (keys must be non-empty strings and values strings)",
        ),
        ("resource_attributes", 5, "5", PAIRS),
        ("redaction_allow", [1], "[1]", "comma-separated names"),
        ("traces_exporter", ",", "','", EXPORTERS),
        ("redaction_extra_patterns", "a{4294967296}", "'a{4294967296}'", REGEX_DETAIL),
    ],
)
def test_invalid_arguments(name: str, value: object, shown: str, expected: str) -> None:
    """Edge values that are not allowed raise with the exact documented message."""
    with pytest.raises(ConfigurationError) as info:
        S(**{name: value})
    # the regex engine's own detail may end with a position, depending on the Python version
    assert str(info.value).startswith(f"{name}={shown} is invalid: expected {expected}")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://u:p@h:1/x?q=a@b", "https://REDACTED:REDACTED@h:1/x?q=a@b"),
        ("u:p@h", "REDACTED:REDACTED@h"),
        ("http://h/x@y", "http://h/x@y"),
        ("http://a@b@h", "http://REDACTED:REDACTED@h"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    """Only the user-info part before the host is masked."""
    assert mask_url(url) == masked


def test_pyproject_table_that_is_not_a_table(tmp_path: Path) -> None:
    """A [tool] flext-observability key that is not a table is a problem, nothing else breaks."""
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool]\nflext-observability = 3\n")
    settings = S.load(environ={"OTEL_SERVICE_NAME": "ok"}, pyproject=path)
    assert settings.service_name == "ok"
    assert settings.problems[0].startswith("pyproject.toml could not be read (")


def test_log_dedup_memory_is_bounded(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The once-only log memory is bounded: when full it is forgotten and logging resumes."""
    reset_logged_problems()
    monkeypatch.setattr(settings_module, "_MAX_LOGGED", 1)
    env = {"FLEXT_OBSERVABILITY_QUEUE_SIZE": "x", "FLEXT_OBSERVABILITY_BATCH_SIZE": "y"}
    with caplog.at_level(logging.WARNING, logger="flext_observability.settings"):
        S.load(environ=env, pyproject=None)
        S.load(environ=env, pyproject=None)
    assert len([r for r in caplog.records if r.name == "flext_observability.settings"]) == 4
    reset_logged_problems()


def test_unexpected_validation_error_is_translated() -> None:
    """A pydantic error that is not ours still becomes a ConfigurationError without the input."""
    error = pydantic.ValidationError.from_exception_data(
        "S", [{"type": "missing", "loc": ("queue_size",), "input": "secret"}]
    )
    translated = settings_module._configuration_error(error)
    assert str(translated) == "queue_size is invalid: Field required"


def test_resource_attributes_full_without_environment() -> None:
    """Without environment, deployment.environment.name is not added."""
    assert S(service_version="1").resource_attributes_full() == {
        "service.name": "unknown_service",
        "service.version": "1",
    }


def test_model_validate_rejects_non_mappings() -> None:
    """Validating something that is not a mapping fails in pydantic, not in our parser."""
    with pytest.raises(pydantic.ValidationError):
        S.model_validate("queue_size=3")
