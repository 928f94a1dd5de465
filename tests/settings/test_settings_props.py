"""Property tests: arbitrary configuration input never crashes, and parsing is idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flext_observability.exceptions import ConfigurationError
from flext_observability.settings import FlextObservabilitySettings
from flext_observability.settings._sources import table_of

S = FlextObservabilitySettings
TABLE = table_of(S)
VARIABLES = sorted(
    {ref for spec in TABLE.values() for ref in spec.env if isinstance(ref, str)}
    - {"FLEXT_OBSERVABILITY_STRICT"}
)
TOKENS = [
    "1",
    "0",
    "-1",
    "1.5",
    "1e309",
    "nan",
    "inf",
    "true",
    "OFF",
    "none",
    "otlp,none",
    "grpc",
    "http://h:4318",
    "http://h:99999",
    "https://u:p@h",
    "a=b",
    "a=%FF",
    "=",
    ",",
    "%",
    "(",
    "a{1,3}",
    "9" * 5000,
    "a{4294967296}",
    "service.name=x",
]
VALUES = st.one_of(
    st.text(alphabet=st.characters(codec=None, exclude_categories=())),
    st.sampled_from(TOKENS),
    st.lists(st.sampled_from(TOKENS), max_size=4).map(",".join),
)
ARGUMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    VALUES,
    st.lists(VALUES, max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers()), max_size=2),
    st.just(Path("x")),
)
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def _in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from a directory without pyproject.toml."""
    monkeypatch.chdir(tmp_path)


@FAST
@given(env=st.dictionaries(st.sampled_from(VARIABLES), VALUES, max_size=8))
def test_load_never_raises_on_arbitrary_environment(env: dict[str, str]) -> None:
    """Without strict mode, any values of our variables load; each problem names its variable."""
    loaded = S.load(environ=env)
    assert set(loaded.sources) == set(TABLE)
    for name, source in loaded.sources.items():
        assert source == "default" or source.removeprefix("env:") in env, name
    for problem in loaded.problems:
        assert problem.startswith(tuple(env)), problem
    assert isinstance(loaded.dump_masked(), dict)
    assert isinstance(repr(loaded), str)


@FAST
@given(name=st.sampled_from(sorted(TABLE)), value=ARGUMENTS)
def test_explicit_arguments_raise_only_configuration_error(name: str, value: object) -> None:
    """Any explicit value is accepted or rejected with ConfigurationError naming the setting."""
    message = ""
    try:
        built = S(**{name: value})
    except ConfigurationError as exc:
        message = str(exc)
    else:
        assert built.source_of(name) == "argument"
    assert message == "" or message.startswith(name), message


@FAST
@given(var=st.sampled_from(VARIABLES), value=VALUES)
def test_parsing_is_idempotent(var: str, value: str) -> None:
    """A value parsed from the environment, given back as an argument, stays the same."""
    loaded = S.load(environ={var: value})
    for name, source in loaded.sources.items():
        if source != "default":
            again = S(**{name: getattr(loaded, name)})
            assert getattr(again, name) == getattr(loaded, name)
