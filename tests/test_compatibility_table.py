"""The README's compatibility table and the tests that verify it stay in step.

Every test id the table names must exist (file, test function, and parameter when given), and
every test module under `tests/integrations/` must be named by a row.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
START, END = "<!-- compatibility-table -->", "<!-- /compatibility-table -->"
TEST_ID = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?(?:\[([\w-]+)\])?`")


def _rows() -> list[list[str]]:
    text = README.read_text()
    assert START in text, "the README lost its compatibility table"
    table = text.split(START, 1)[1].split(END, 1)[0]
    lines = [line for line in table.strip().splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def test_every_row_names_tests_that_exist() -> None:
    """Each row has versions, a claim and at least one test id; each id resolves."""
    rows = _rows()
    assert len(rows) >= 7
    for row in rows:
        assert len(row) == 4, row
        name, versions, verified, tests = row
        assert name
        assert re.search(r"\d", versions), row
        assert verified
        ids = TEST_ID.findall(tests)
        assert ids, row
        for file, function, parameter in ids:
            path = REPO / file
            assert path.is_file(), file
            if function:
                assert function in _test_functions(path), f"{file}::{function}"
            if parameter:
                assert f'"{parameter}"' in path.read_text(), f"{file}::{function}[{parameter}]"


def test_every_server_and_integration_test_module_is_in_the_table() -> None:
    """A new server/integration test module needs its row (or its place in one)."""
    named = {file for row in _rows() for file, _, _ in TEST_ID.findall(row[3])}
    modules = {
        str(path.relative_to(REPO)) for path in (REPO / "tests" / "integrations").glob("test_*.py")
    }
    assert modules <= named, sorted(modules - named)
