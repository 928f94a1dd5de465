"""Which processes only supervise spawned servers (the distro sets nothing up there)."""

from __future__ import annotations

import pytest

from flext_observability._internal.supervisors import supervisor_kind

DJANGO = "the Django runserver autoreloader"
UVICORN = "the uvicorn supervisor"

CASES = [
    (["manage.py", "runserver"], {}, DJANGO),
    (["manage.py", "runserver", "0:8000"], {}, DJANGO),
    (["/usr/bin/django-admin", "runserver"], {}, DJANGO),
    (["manage.py", "runserver"], {"RUN_MAIN": "true"}, None),
    (["manage.py", "runserver", "--noreload"], {}, None),
    (["manage.py", "migrate"], {}, None),
    (["/venv/bin/uvicorn", "app:app", "--reload"], {}, UVICORN),
    (["/venv/bin/uvicorn", "app:app", "--workers", "2"], {}, UVICORN),
    (["/venv/bin/uvicorn", "app:app", "--workers=3"], {}, UVICORN),
    (["/venv/bin/uvicorn", "app:app"], {"WEB_CONCURRENCY": "4"}, UVICORN),
    (["/venv/lib/python3.11/site-packages/uvicorn/__main__.py", "a:a", "--reload"], {}, UVICORN),
    (["/venv/bin/uvicorn", "app:app"], {}, None),
    (["/venv/bin/uvicorn", "app:app", "--workers", "1"], {}, None),
    (["/venv/bin/uvicorn", "app:app", "--workers", "many"], {}, None),
    (["/venv/bin/uvicorn", "app:app", "--workers"], {}, None),
    (["/venv/bin/gunicorn", "-w", "4", "app:app", "--reload"], {}, None),
    (["-c", "--multiprocessing-fork"], {}, None),
    ([], {}, None),
]


@pytest.mark.parametrize(("argv", "environ", "expected"), CASES)
def test_supervisor_kind(argv: list[str], environ: dict[str, str], expected: str | None) -> None:
    """Reloader parents and spawning supervisors are named; serving processes are not."""
    assert supervisor_kind(argv, environ) == expected


@pytest.mark.parametrize(
    ("orig_argv", "expected"),
    [
        (
            ["python3", "-B", "-c", "from multiprocessing.resource_tracker import main;main(7)"],
            "multiprocessing's resource tracker",
        ),
        (["/usr/bin/python3", "-c", "print('from multiprocessing')"], None),
        (["/usr/bin/python3", "app.py"], None),
    ],
)
def test_the_resource_tracker_is_a_helper(orig_argv: list[str], expected: str | None) -> None:
    """Multiprocessing's resource tracker (spawned beside spawn workers) serves nothing."""
    assert supervisor_kind(["-c"], {}, orig_argv) == expected
