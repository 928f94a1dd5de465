"""Integrations for servers and libraries that need code to deliver telemetry correctly.

Each module imports its library only when used, and the distro never imports them: they are
loaded by `opentelemetry-instrument` through the `opentelemetry_instrumentor` entry points (only
when their library is installed), or imported by the app (`structlog`, `loguru`). Most servers
and frameworks need nothing here: see the README's compatibility table.
"""
