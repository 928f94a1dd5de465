"""An app logging through structlog or loguru with our integration configured.

Usage: `python structured_logging_app.py LIBRARY` with LIBRARY `structlog` (structlog's own
printer), `structlog-stdlib` (structlog routed through stdlib logging) or `loguru`. It logs three
records inside a `structured` span and one outside it, and prints the span's trace id.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from opentelemetry import trace

from flext_observability.integrations import loguru as flext_loguru
from flext_observability.integrations import structlog as flext_structlog


def _default_trace_id(record: logging.LogRecord) -> bool:
    if not hasattr(record, "trace_id"):
        record.trace_id = "none"
    return True


def _structlog(through_stdlib: bool) -> object:
    import structlog  # noqa: PLC0415 - only in this mode

    processors: list[Any] = [
        structlog.processors.add_log_level,
        flext_structlog.add_trace_context,
        flext_structlog.FlextStructlogProcessor(),
        structlog.processors.KeyValueRenderer(key_order=["event", "trace_id", "span_id"]),
    ]
    if through_stdlib:
        # structlog's documented stdlib route: the event becomes the message, the other keys
        # `extra` fields (so our bridge, which captures stdlib records, stores them as context).
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(logging.Formatter("STDLIB %(message)s trace=%(trace_id)s"))
        console.addFilter(_default_trace_id)
        logging.basicConfig(level=logging.INFO, handlers=[console])
        structlog.configure(
            processors=[*processors[1:3], structlog.stdlib.render_to_log_kwargs],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
        )
    else:
        structlog.configure(processors=processors)
    return structlog.get_logger("structured")


def _loguru() -> object:
    from loguru import logger  # noqa: PLC0415 - only in this mode

    logger.remove()
    logger.configure(patcher=flext_loguru.add_trace_context)
    logger.add(
        sys.stdout,
        format="LOGURU {message} trace={extra[trace_id]}",
        level="INFO",
        filter=lambda record: "trace_id" in record["extra"],
    )
    logger.add(
        sys.stdout,
        format="LOGURU {message} trace=none",
        level="INFO",
        filter=lambda record: "trace_id" not in record["extra"],
    )
    logger.add(flext_loguru.flext_sink, level="INFO")
    return logger


if __name__ == "__main__":
    library = sys.argv[1]
    if os.environ.get("APP_CALLS_SETUP"):
        from flext_observability import setup

        setup()
    log: Any = _loguru() if library == "loguru" else _structlog(library == "structlog-stdlib")
    with trace.get_tracer("structured_logging_app").start_as_current_span("structured") as span:
        for number in range(3):
            message = f"inside {number}"  # identical text for both libraries' formatting
            log.info(message, user="ada")
        sys.stdout.write(f"TRACE {span.get_span_context().trace_id:032x}\n")
    log.warning("outside")
