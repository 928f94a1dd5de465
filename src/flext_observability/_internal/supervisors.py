"""Processes that only supervise the serving ones: the distro sets no telemetry up there.

A reloader parent (Django's `runserver` autoreloader) or a supervisor that *spawns* its workers
as fresh interpreters (`uvicorn --reload`, `uvicorn --workers N`) serves nothing: its children
run `opentelemetry-instrument`'s start-up again and set telemetry up themselves. Setting it up in
the parent too would only add a phantom instance of the service (our own metrics, health
results) beside the real ones. Servers that *fork* their workers (gunicorn, Celery prefork) are
not listed: their workers inherit the master's setup.

Detection looks only at the command line and the variables the servers themselves set for their
children (`RUN_MAIN=true` in Django's serving child). multiprocessing's resource tracker (a
helper process spawned beside spawn-context workers) is skipped the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath

__all__ = ["supervisor_kind"]

_RESOURCE_TRACKER = "from multiprocessing.resource_tracker import main"


def _option(argv: Sequence[str], name: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.partition("=")[2]
    return None


def _uvicorn_workers(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    value = _option(argv, "--workers") or environ.get("WEB_CONCURRENCY") or "1"
    try:
        return int(value)
    except ValueError:
        return 1


def supervisor_kind(
    argv: Sequence[str], environ: Mapping[str, str], orig_argv: Sequence[str] = ()
) -> str | None:
    """Name the supervisor this process is, or None when it may serve (the usual case).

    `orig_argv` is the interpreter's own command line (`sys.orig_argv`): multiprocessing starts
    its resource tracker as `python -c "from multiprocessing.resource_tracker import main; ..."`
    (with a spawn context, as uvicorn's supervisor uses), which serves nothing either.
    """
    if any(arg.startswith(_RESOURCE_TRACKER) for arg in orig_argv[1:]):
        return "multiprocessing's resource tracker"
    if not argv:
        return None
    args = list(argv[1:])
    if "runserver" in args and "--noreload" not in args and environ.get("RUN_MAIN") != "true":
        return "the Django runserver autoreloader"
    program = PurePath(argv[0])
    is_uvicorn = program.name == "uvicorn" or program.parent.name == "uvicorn"
    if is_uvicorn and ("--reload" in args or _uvicorn_workers(args, environ) > 1):
        return "the uvicorn supervisor"
    return None
