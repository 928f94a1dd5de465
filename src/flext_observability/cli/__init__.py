"""The `flext-observability` command line: configuration, diagnosis, running apps, store queries."""

from __future__ import annotations

from flext_observability.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
