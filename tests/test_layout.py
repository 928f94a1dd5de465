"""The layout shows the architecture: capabilities as subpackages, one copy of each mechanism."""

from __future__ import annotations

import ast
import re
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_PACKAGE = _ROOT / "src" / "flext_observability"
_DOC = _ROOT / "docs" / "architecture.md"


def _modules() -> list[str]:
    """Every module of the package, as a path relative to the package folder."""
    return sorted(p.relative_to(_PACKAGE).as_posix() for p in _PACKAGE.rglob("*.py"))


def _definitions(name: str) -> list[str]:
    """Where a function, class or module-level name called `name` is defined."""
    found = []
    for module in _modules():
        tree = ast.parse((_PACKAGE / module).read_text(encoding="utf-8"))
        for node in tree.body:
            defined = (
                [node.name]
                if isinstance(node, ast.FunctionDef | ast.ClassDef)
                else [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
                + (
                    [node.target.id]
                    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    else []
                )
            )
            if name in defined:
                found.append(module)
    return found


def test_top_level_is_small_and_subpackages_name_the_capabilities() -> None:
    """At most 15 top-level modules; at least 6 subpackages, the capabilities among them."""
    top = sorted(p.name for p in _PACKAGE.glob("*.py"))
    packages = sorted(p.parent.name for p in _PACKAGE.glob("*/__init__.py"))
    assert len(top) <= 15, top
    assert len(packages) >= 6, packages
    assert {"models", "settings", "rules", "health", "redaction", "sinks", "cli"} <= set(packages)


def test_one_copy_of_each_mechanism() -> None:
    """Fork hooks, safe text, the time conversion and `Entity` are each defined in one place."""
    users_of_register_at_fork = [
        module
        for module in _modules()
        if "os.register_at_fork(" in (_PACKAGE / module).read_text(encoding="utf-8")
    ]
    assert users_of_register_at_fork == ["_internal/fork.py"]
    assert _definitions("safe_str") == ["_internal/text.py"]
    assert _definitions("safe_repr") == ["_internal/text.py"]
    assert _definitions("datetime_to_ns") == ["_internal/time.py"]
    assert _definitions("ns_to_datetime") == ["_internal/time.py"]
    assert _definitions("Entity") == ["models/__init__.py"]
    assert _definitions("SEVERITIES") == ["_internal/convert/severity.py"]


def test_no_hand_written_internal_error_blocks() -> None:
    """Internal errors go through the one guard: no `if is_strict(): raise` outside it."""
    pattern = re.compile(r"if is_strict\(\):\s*\n\s*raise\s*\n\s*report_internal_error")
    offenders = [
        module
        for module in _modules()
        if pattern.search((_PACKAGE / module).read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_architecture_doc_maps_every_module() -> None:
    """docs/architecture.md's module map names every module, and only modules that exist."""
    text = _DOC.read_text(encoding="utf-8")
    table = text[text.index("## Module map") :]
    mapped = set(re.findall(r"^\| `([^`]+\.py)` \|", table, flags=re.MULTILINE))
    assert sorted(mapped - set(_modules())) == []
    assert sorted(set(_modules()) - mapped) == []


def test_code_cites_only_documents_the_repository_holds() -> None:
    """Comments and docstrings cite no document outside the repository (the shared contract)."""
    cited = []
    for folder in ("src", "tests", "benchmarks", "examples"):
        for path in (_ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name != "test_layout.py" and re.search(r"\bSPEC §|\bRELIABILITY\b", text):
                cited.append(path.relative_to(_ROOT).as_posix())
    assert cited == []
