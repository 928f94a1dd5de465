"""The README's examples run.

Every fenced block opened with ```` ```python ```` is executed, in order, in one namespace, so a
later block may use names from an earlier one. A block opened with ```` ```python no-run ````
is shown but not executed (use it for code that needs a network, a collector or secrets).
A failing block is reported with the README line where it starts.
"""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_OPEN = re.compile(r"^```python(?:\s+(?P<info>\S.*))?$")


@dataclass(frozen=True)
class Block:
    """One ```python fenced block of a markdown file."""

    line: int  # 1-based line of the first code line
    code: str
    run: bool


def python_blocks(text: str) -> list[Block]:
    """Return the ```python blocks of `text`; blocks marked `no-run` have run=False."""
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _OPEN.match(lines[index].strip())
        index += 1
        if match is None:
            continue
        start = index
        while index < len(lines) and lines[index].strip() != "```":
            index += 1
        if index == len(lines):
            msg = f"unclosed ```python block opened at line {start}"
            raise ValueError(msg)
        run = "no-run" not in (match.group("info") or "").split()
        blocks.append(Block(line=start + 1, code="\n".join(lines[start:index]), run=run))
        index += 1
    return blocks


def run_blocks(blocks: list[Block], filename: str) -> dict[str, object]:
    """Execute the runnable blocks in one namespace; fail naming the first failing block."""
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for block in blocks:
        if not block.run:
            continue
        # Pad with blank lines so tracebacks show the README's own line numbers.
        source = "\n" * (block.line - 1) + block.code
        failure = ""
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, filename, "exec"), namespace)
        except Exception:  # noqa: BLE001 - reported as a test failure with the block's line
            failure = traceback.format_exc()
        if failure:
            pytest.fail(
                f"{filename}: the python block at line {block.line} failed:\n{failure}",
                pytrace=False,
            )
    return namespace


def test_readme_python_blocks_run() -> None:
    """Every runnable ```python block of README.md executes without error, in order."""
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert sum(block.run for block in blocks) >= 4
    run_blocks(blocks, str(README))


_SAMPLE = """\
text
```python
x = 1
```
```python no-run
raise SystemExit
```
```sh
make test
```
```python
assert x == 1
y = x + 1
```
"""


def test_block_extraction_keeps_order_lines_and_no_run_marker() -> None:
    """Blocks come out in order with their first code line; `no-run` blocks are marked."""
    assert python_blocks(_SAMPLE) == [
        Block(line=3, code="x = 1", run=True),
        Block(line=6, code="raise SystemExit", run=False),
        Block(line=12, code="assert x == 1\ny = x + 1", run=True),
    ]


def test_blocks_share_a_namespace_and_skip_no_run() -> None:
    """Later blocks see earlier names and no-run blocks are not executed."""
    namespace = run_blocks(python_blocks(_SAMPLE), "sample.md")
    assert (namespace["x"], namespace["y"]) == (1, 2)


def test_failing_block_is_reported_with_its_line() -> None:
    """A failing block fails the test with the file and the block's starting line."""
    blocks = python_blocks("intro\n\n```python\nok = 1\n\nraise ValueError('boom')\n```\n")
    with pytest.raises(pytest.fail.Exception) as info:
        run_blocks(blocks, "doc.md")
    message = str(info.value)
    assert message.startswith("doc.md: the python block at line 4 failed:")
    assert 'File "doc.md", line 6' in message
    assert message.rstrip().endswith("ValueError: boom")


def test_unclosed_block_is_an_error() -> None:
    """An unclosed ```python fence is reported rather than silently ignored."""
    with pytest.raises(ValueError, match="unclosed ```python block opened at line 1"):
        python_blocks("```python\nx = 1\n")
