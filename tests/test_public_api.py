"""The public surface: a sorted, pinned `__all__`, star import, and an OTel-free core."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
from pathlib import Path

import flext_observability
from _helpers import run_python

# Pinned on purpose: a new public name must show up in review as a change to this list.
_PUBLIC_NAMES = [
    "AlertSeverity",
    "AlertStatus",
    "ConfigurationError",
    "ExceptionInfo",
    "FlextAlert",
    "FlextEntity",
    "FlextHealthCheck",
    "FlextLogEntry",
    "FlextMetric",
    "FlextObservability",
    "FlextObservabilityError",
    "FlextResult",
    "FlextTrace",
    "HealthStatus",
    "HistogramData",
    "InvalidTransitionError",
    "LogLevel",
    "MetricType",
    "RuleFieldError",
    "SpanEvent",
    "StoreError",
    "TraceKind",
    "TraceStatus",
    "UnwrapFailedError",
    "ValidationError",
    "__version__",
    "emit",
    "flext_create_alert",
    "flext_create_health_check",
    "flext_create_log_entry",
    "flext_create_metric",
    "flext_create_trace",
    "flext_monitor_function",
    "force_flush",
    "setup",
    "shutdown",
]

# Core modules that must never load OpenTelemetry (ARCHITECTURE "The one rule").
_CORE_MODULES = [
    "flext_observability.models",
    "flext_observability.result",
    "flext_observability.api",
    "flext_observability.exceptions",
    "flext_observability.settings",
    "flext_observability.rules",
    "flext_observability.health",
    "flext_observability.redaction",
    "flext_observability.sinks",
]


def test_all_is_sorted_and_pinned() -> None:
    """`__all__` is sorted and equals the pinned list of public names."""
    assert flext_observability.__all__ == sorted(flext_observability.__all__)
    assert flext_observability.__all__ == _PUBLIC_NAMES


def test_every_public_name_exists() -> None:
    """Every name in `__all__` is an attribute of the package."""
    missing = [name for name in _PUBLIC_NAMES if not hasattr(flext_observability, name)]
    assert missing == []


def test_star_import_exports_exactly_all() -> None:
    """`from flext_observability import *` binds exactly the names in `__all__`."""
    namespace: dict[str, object] = {}
    exec("from flext_observability import *", namespace)
    namespace.pop("__builtins__")
    assert sorted(namespace) == _PUBLIC_NAMES
    assert namespace["FlextResult"] is flext_observability.FlextResult


def test_core_modules_do_not_import_opentelemetry() -> None:
    """Importing the core modules in a fresh interpreter loads no opentelemetry* module."""
    present = [name for name in _CORE_MODULES if importlib.util.find_spec(name) is not None]
    assert present[:4] == _CORE_MODULES[:4]
    code = (
        "import importlib, json, sys\n"
        f"for name in {present!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('opentelemetry'))))\n"
    )
    assert json.loads(run_python(code)) == []


def test_version_matches_the_distribution() -> None:
    """`__version__` is the installed distribution's version."""
    assert flext_observability.__version__ == importlib.metadata.version("flext-observability")


_PUBLIC_MODULES = [
    "flext_observability",
    "flext_observability.api",
    "flext_observability.distro",
    "flext_observability.exceptions",
    "flext_observability.health",
    "flext_observability.logs",
    "flext_observability.models",
    "flext_observability.monitor",
    "flext_observability.pipeline",
    "flext_observability.processors",
    "flext_observability.readers",
    "flext_observability.redaction",
    "flext_observability.result",
    "flext_observability.rules",
    "flext_observability.settings",
    "flext_observability.sinks",
    "flext_observability.testing",
]


def _all_flext_classes() -> dict[str, list[type]]:
    """Every class defined anywhere in the package, by name."""
    import pkgutil  # noqa: PLC0415 - only this test walks the package

    classes: dict[str, list[type]] = {}
    for info in pkgutil.walk_packages(flext_observability.__path__, "flext_observability."):
        if ".cli" in info.name:  # the command line has no importable API
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__.startswith("flext_observability"):
                classes.setdefault(value.__name__, []).append(value)
    return classes


def _public_surface() -> tuple[set[int], list[tuple[str, str]]]:
    """Ids of every publicly exported object, and (owner, annotation) of every public signature."""
    import inspect  # noqa: PLC0415

    public: set[int] = set()
    annotations: list[tuple[str, str]] = []

    def add(owner: str, obj: object) -> None:
        try:
            found = inspect.get_annotations(obj)  # type: ignore[arg-type]
        except TypeError:
            return
        annotations.extend((owner, str(text)) for text in found.values())

    for module_name in _PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            public.add(id(obj))
            if inspect.isfunction(obj):
                add(f"{module_name}.{name}", obj)
            if not inspect.isclass(obj) or not obj.__module__.startswith("flext_observability"):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                target = member.fget if isinstance(member, property) else member
                target = getattr(target, "__func__", target)
                if inspect.isfunction(target):
                    add(f"{module_name}.{name}.{attr}", target)
            body = _class_node(obj)
            if body is None:
                continue
            annotations.extend(  # `self.attr: T = ...` in the class body
                (f"{module_name}.{name}.{node.target.attr}", ast.unparse(node.annotation))
                for node in ast.walk(body)
                if isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Attribute)
                and not node.target.attr.startswith("_")
            )
    return public, annotations


def _class_node(cls: type) -> ast.ClassDef | None:
    """The class's definition, from the file its methods were compiled from.

    Not `inspect.getsource`: a published class names its package as `__module__`, so inspect
    searches the package's `__init__.py` (and Python 3.13 returns whatever line there has the
    class's `__firstlineno__`).
    """
    for member in list(vars(cls).values()):
        function = member.fget if isinstance(member, property) else member
        code = getattr(getattr(function, "__func__", function), "__code__", None)
        if code is None or not code.co_filename.endswith(".py"):
            continue
        tree = ast.parse(Path(code.co_filename).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                return node
    return None


# Constructors users never call: `setup()` builds the handle from its private wiring.
_BUILT_BY_US = {"flext_observability.FlextObservability.__init__"}


def test_no_public_signature_exposes_a_private_type() -> None:
    """Every flext class named in a public signature or attribute is itself exported publicly."""
    import re  # noqa: PLC0415

    classes = _all_flext_classes()
    public, annotations = _public_surface()
    private: set[tuple[str, str]] = set()
    for owner, text in annotations:
        if owner in _BUILT_BY_US:
            continue
        for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
            defined = classes.get(word, [])
            if defined and not any(id(cls) in public for cls in defined):
                private.add((owner, word))
    assert sorted(private) == []


def test_exported_classes_name_their_public_module() -> None:
    """A class re-exported by a public subpackage presents that package as its module."""
    import inspect  # noqa: PLC0415

    wrong = []
    for module_name in _PUBLIC_MODULES[1:]:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and obj.__module__.startswith("flext_observability")
                and not hasattr(obj, "__pydantic_fields__")
                and "._" in obj.__module__
            ):
                wrong.append(f"{module_name}.{name} -> {obj.__module__}")
    assert wrong == []
