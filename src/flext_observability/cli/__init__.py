"""The `flext-observability` command line: configuration, diagnosis, running apps, store queries."""

from __future__ import annotations

from flext_observability._internal.exports import publish
from flext_observability.cli._main import build_parser, main

__all__ = ["build_parser", "main"]

publish(globals(), __all__)
