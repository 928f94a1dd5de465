"""An app that configures stdlib logging itself, before or after telemetry is set up.

Usage: `python logging_config_app.py WHEN HOW` where WHEN is `before` or `after` (`after` with
`setup()` calls; under opentelemetry-instrument telemetry is always set up first) and HOW is
`basic`, `force` (basicConfig(force=True)) or `dict` (dictConfig). It logs five records inside
a span and one outside, each once, to a console format the test recognises.
"""

from __future__ import annotations

import logging
import logging.config
import os
import sys

from opentelemetry import trace

FORMAT = "CONSOLE %(levelname)s %(message)s"


def configure(how: str) -> None:
    """Configure logging the way the app would."""
    if how == "basic":
        logging.basicConfig(level=logging.INFO, format=FORMAT)
    elif how == "force":
        logging.basicConfig(level=logging.INFO, format=FORMAT, force=True)
    else:
        logging.config.dictConfig(
            {
                "version": 1,
                "formatters": {"console": {"format": FORMAT}},
                "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "console"}},
                "root": {"level": "INFO", "handlers": ["console"]},
            }
        )


if __name__ == "__main__":
    when, how = sys.argv[1], sys.argv[2]
    calls_setup = bool(os.environ.get("APP_CALLS_SETUP"))
    if when == "before" or not calls_setup:
        configure(how)
    if calls_setup:
        from flext_observability import setup

        setup()
        if when == "after":
            configure(how)
    log = logging.getLogger("logging_config_app")
    with trace.get_tracer("logging_config_app").start_as_current_span("logged"):
        for number in range(5):
            log.info("inside %d", number)
    log.warning("outside")
