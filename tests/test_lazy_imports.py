"""Modules only an optional feature needs load when the feature is used, not at startup.

The webhook and Alertmanager sinks (http.client, urllib.request), the probe server
(http.server) and the rules file (tomllib) with its Prometheus export were imported by every
`setup()`: ~14 ms of the distro's start (`python -X importtime`). They are re-exported lazily
(`_internal.exports.lazy_exports`) and imported by the wiring where the feature is built.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from _helpers import run_python

# Public package → the names it re-exports lazily, with the module each comes from.
LAZY = {
    "flext_observability.health": {"ProbeServer": "flext_observability.health._server"},
    "flext_observability.rules": {
        "load_rules_file": "flext_observability.rules._file",
        "parse_duration": "flext_observability.rules._file",
        "prometheus_rule_file": "flext_observability.rules._prometheus",
        "rules_from_mapping": "flext_observability.rules._file",
        "rules_from_pyproject": "flext_observability.rules._file",
    },
    "flext_observability.sinks": {
        "AlertmanagerSink": "flext_observability.sinks.alertmanager",
        "WebhookSink": "flext_observability.sinks.webhook",
    },
}
OPTIONAL = sorted({module for names in LAZY.values() for module in names.values()})
# The standard-library modules behind them (none of the rest of a default setup needs them).
# Not tomllib: coverage, measuring this suite's subprocesses, reads its configuration with it.
STDLIB = ["http.client", "http.server", "urllib.request"]

# Each optional feature, as a user turns it on, and the optional modules it loads.
FEATURES: dict[str, tuple[str, list[str]]] = {
    "FLEXT_OBSERVABILITY_ALERT_WEBHOOK_URL": (
        "http://127.0.0.1:9/hook",
        ["flext_observability.sinks.webhook"],
    ),
    "FLEXT_OBSERVABILITY_ALERTMANAGER_URL": (
        "http://127.0.0.1:9",
        ["flext_observability.sinks.alertmanager", "flext_observability.sinks.webhook"],
    ),
    "FLEXT_OBSERVABILITY_HEALTH_PORT": ("0", ["flext_observability.health._server"]),
    "FLEXT_OBSERVABILITY_ALERT_RULES": (
        str(Path(__file__).resolve().parent.parent / "examples" / "rules.toml"),
        ["flext_observability.rules._file"],
    ),
}
FEATURE_MODULES = sorted({m for _, modules in FEATURES.values() for m in modules})

_SETUP = (
    "import json, sys\n"
    "import flext_observability as fo\n"
    "handle = fo.setup(service_name='lazy', store_path='store.db')\n"
    "loaded = sorted(m for m in {modules!r} if m in sys.modules)\n"
    "fo.shutdown()\n"
    "print(json.dumps(loaded))\n"
)
# After setup: each lazy name whose module the wiring loaded, and the module it shows.
_SHOWN = (
    "shown = {{name: getattr(sys.modules[module], name).__module__\n"
    "         for names in {lazy!r}.values() for name, module in names.items()\n"
    "         if module in sys.modules}}\n"
    "print(json.dumps(shown))\n"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "FLEXT_"))}
    env["OTEL_TRACES_EXPORTER"] = env["OTEL_METRICS_EXPORTER"] = env["OTEL_LOGS_EXPORTER"] = "none"
    return {**env, **extra}


def test_a_default_setup_loads_no_optional_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`setup()` with the defaults (the store, no rules file, no HTTP sink, no probe port)."""
    monkeypatch.chdir(tmp_path)  # no pyproject.toml: no rules to read
    loaded = json.loads(run_python(_SETUP.format(modules=OPTIONAL + STDLIB), env=_env()))
    assert loaded == []


@pytest.mark.parametrize("variable", sorted(FEATURES))
def test_each_feature_loads_its_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """Turning a feature on still builds it: its modules are loaded, the others' are not."""
    monkeypatch.chdir(tmp_path)
    value, modules = FEATURES[variable]
    code = _SETUP.format(modules=FEATURE_MODULES) + _SHOWN.format(lazy=LAZY)
    out = run_python(code, env=_env(**{variable: value})).splitlines()
    loaded, shown = json.loads(out[-2]), json.loads(out[-1])
    assert loaded == sorted(modules)
    # What the wiring built is published under its package, as if the package had imported it.
    packages = {name: package for package, names in LAZY.items() for name in names}
    assert shown
    assert all(shown[name] == packages[name] for name in shown)


@pytest.mark.parametrize("package", sorted(LAZY))
def test_lazy_names_are_the_packages_own(package: str) -> None:
    """Each lazy name resolves to its module's object, shown under the package, listed by `dir`."""
    code = (
        "import importlib, json, sys\n"
        f"package = importlib.import_module({package!r})\n"
        f"print(json.dumps(sorted(m for m in {OPTIONAL!r} if m in sys.modules)))\n"
    )
    assert json.loads(run_python(code)) == []  # importing the package loads none of them
    module: ModuleType = importlib.import_module(package)
    for name, source in LAZY[package].items():
        value = getattr(module, name)
        assert value is getattr(importlib.import_module(source), name)
        assert value.__module__ == package
        assert name in dir(module)
        assert name in module.__all__
        assert vars(module)[name] is value  # bound: the next access is a plain lookup
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'missing'"):
        _ = module.missing


def test_star_import_binds_the_lazy_names() -> None:
    """`from <package> import *` binds every name of `__all__`, the lazy ones included."""
    for package, names in LAZY.items():
        namespace: dict[str, object] = {}
        exec(f"from {package} import *", namespace)
        assert set(names) <= set(namespace)
        assert set(namespace) - {"__builtins__"} == set(sys.modules[package].__all__)
