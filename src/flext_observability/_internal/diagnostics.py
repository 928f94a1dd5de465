"""Diagnostics that are seen: our warnings and the SDK's reach stderr, one line each, rate-limited.

Python prints a warning nobody handles through its "last resort" handler. Once `setup()` puts the
logging bridge on the root logger that handler goes quiet, and the bridge never captures our own
loggers or the SDK's (it must not recurse), so their warnings — a store that cannot open, a queue
that drops, a probe port that is taken, an exporter that fails — would vanish.

`install()` attaches one `DiagnosticsHandler` to the `flext_observability` and `opentelemetry`
loggers. It prints a record only when nothing else would: no handler other than ours on the
record's way to the root (the app configured no logging for it). Each record becomes one line
(`flext-observability: WARNING <logger>: <message>`, control characters escaped, exception
summarised), at most one per message template per `interval` seconds and `burst` lines per
interval overall; what was held back is counted and said on the next line printed. Configuration
problems (logger `flext_observability.settings`) are exempt: each is already said once per
process, and every one of them matters. The level is
the `diagnostics_level` setting (`FLEXT_OBSERVABILITY_DIAGNOSTICS_LEVEL`, default WARNING).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from flext_observability._internal.text import escape_control

__all__ = ["DIAGNOSED_LOGGERS", "DiagnosticsHandler", "install", "set_level"]

DIAGNOSED_LOGGERS = ("flext_observability", "opentelemetry")
_MAX_LINE = 2000
_MAX_KEYS = 1024
_ONCE_LOGGER = "flext_observability.settings"


class DiagnosticsHandler(logging.Handler):
    """Prints our and the SDK's records to stderr when the app has no handler for them."""

    def __init__(
        self,
        level: int = logging.WARNING,
        *,
        interval: float = 60.0,
        burst: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Print records at `level` and above, rate-limited per `interval` seconds."""
        super().__init__(level)
        self._interval = interval
        self._burst = burst
        self._clock = clock
        self._state = threading.Lock()
        self._last: dict[tuple[str, object], float] = {}
        self._window_start = clock()
        self._in_window = 0
        self._held = 0

    def handle(self, record: logging.LogRecord) -> bool:
        """Skip the handler lock: `emit` takes its own, short one."""
        if record.levelno < self.level or not self.filter(record):
            return False
        self.emit(record)
        return True

    def _allowed(self, record: logging.LogRecord) -> tuple[bool, int]:
        if record.name == _ONCE_LOGGER:
            return True, 0  # configuration problems: already said once per process, each one
        now = self._clock()
        key = (record.name, record.msg)
        with self._state:
            if now - self._window_start >= self._interval:
                self._window_start, self._in_window = now, 0
            last = self._last.get(key)
            if (last is not None and now - last < self._interval) or (
                self._in_window >= self._burst
            ):
                self._held += 1
                return False, 0
            if len(self._last) >= _MAX_KEYS:
                self._last.clear()
            self._last[key] = now
            self._in_window += 1
            held, self._held = self._held, 0
            return True, held

    def emit(self, record: logging.LogRecord) -> None:
        """Write one line to stderr, unless another handler takes the record or the rate is hit."""
        try:
            if _handled_elsewhere(record.name):
                return
            allowed, held = self._allowed(record)
            if not allowed:
                return
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                message = f"{message} ({type(exc).__name__}: {exc})"
            tail = f" ({held} similar lines held back)" if held else ""
            if not message.startswith("flext-observability"):
                message = f"flext-observability: {record.levelname} {record.name}: {message}"
            line = message
            stream = sys.stderr
            if stream is None:
                return
            stream.write(escape_control(line, _MAX_LINE) + tail + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - diagnostics must never break the host
            pass


def _handled_elsewhere(name: str) -> bool:
    """Whether a handler that is not ours sits on the record's way to the root."""
    logger: logging.Logger | None = logging.getLogger(name)
    while logger is not None:
        for handler in logger.handlers:
            if not isinstance(handler, DiagnosticsHandler) and not _is_bridge(handler):
                return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


def _is_bridge(handler: logging.Handler) -> bool:
    from flext_observability.logs import EntityLoggingHandler  # noqa: PLC0415 - import cycle

    return isinstance(handler, EntityLoggingHandler)


_lock = threading.Lock()
_handler: DiagnosticsHandler | None = None


def install(level: int = logging.WARNING) -> DiagnosticsHandler:
    """Attach the handler to our and the SDK's loggers (once per process); return it."""
    global _handler  # noqa: PLW0603 - one handler per process
    with _lock:
        if _handler is None:
            _handler = DiagnosticsHandler(level)
            for name in DIAGNOSED_LOGGERS:
                logging.getLogger(name).addHandler(_handler)
        _handler.setLevel(level)
        return _handler


def set_level(level: int) -> None:
    """Set the lowest level printed; lower our logger's level too when it would filter first."""
    handler = install(level)
    ours = logging.getLogger(DIAGNOSED_LOGGERS[0])
    if ours.getEffectiveLevel() > level:
        ours.setLevel(level)
    handler.setLevel(level)
