"""The one severity table: stdlib level numbers, OTel severity numbers and texts, `LogLevel`.

Every conversion between them (the logging bridge, the converters, `emit`, alert log events)
reads `SEVERITIES`. OTel severity numbers are plain ints here (the OTel log data model fixes
them: TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24), so this module
imports no OpenTelemetry; callers wrap them in `SeverityNumber` where the SDK wants one.
"""

from __future__ import annotations

import logging
from typing import Final, NamedTuple

from flext_observability.models._types import AlertSeverity, LogLevel

__all__ = [
    "SEVERITIES",
    "Severity",
    "level_from_levelno",
    "level_from_severity",
    "severity_of_alert",
    "severity_of_level",
    "severity_of_levelno",
]


class Severity(NamedTuple):
    """One level as each side names it."""

    levelno: int
    """The stdlib level number."""
    number: int
    """The first OTel severity number of the level's range."""
    text: str
    """The OTel severity text."""
    level: LogLevel


SEVERITIES: Final[tuple[Severity, ...]] = (
    Severity(logging.DEBUG, 5, "DEBUG", LogLevel.DEBUG),
    Severity(logging.INFO, 9, "INFO", LogLevel.INFO),
    Severity(logging.WARNING, 13, "WARN", LogLevel.WARNING),
    Severity(logging.ERROR, 17, "ERROR", LogLevel.ERROR),
    Severity(logging.CRITICAL, 21, "FATAL", LogLevel.CRITICAL),
)
_TRACE, _MAX_NUMBER = 1, 24
_BY_LEVEL = {row.level: row for row in SEVERITIES}
_BY_TEXT: dict[str, LogLevel] = {
    "trace": LogLevel.DEBUG,
    **{row.text.lower(): row.level for row in SEVERITIES},
    **{row.level.value: row.level for row in SEVERITIES},
}


def severity_of_level(level: LogLevel) -> Severity:
    """Return the row of `level`."""
    return _BY_LEVEL[level]


def severity_of_alert(severity: AlertSeverity) -> Severity:
    """Return the row of an alert's severity (named as the log levels are)."""
    return _BY_LEVEL[LogLevel(severity.value)]


def severity_of_levelno(levelno: int) -> int:
    """Map a stdlib level number to an OTel severity number; below DEBUG is TRACE, 0 unset.

    Within a range it steps as OTel's logging handler does: `WARNING + 1` is WARN2.
    """
    for row in reversed(SEVERITIES):
        if levelno >= row.levelno:
            return min(row.number + min(levelno - row.levelno, 3), _MAX_NUMBER)
    return _TRACE if levelno > 0 else 0


def level_from_levelno(levelno: object) -> LogLevel:
    """Map a stdlib level number to a `LogLevel` (a non-number maps to info).

    The highest level at or below `levelno`, except that anything above DEBUG is at least info:
    a custom level between DEBUG and INFO is not debug noise.
    """
    if not isinstance(levelno, int | float):
        return LogLevel.INFO
    for row in reversed(SEVERITIES[1:]):
        if levelno >= row.levelno:
            return row.level
    return LogLevel.DEBUG if levelno <= logging.DEBUG else LogLevel.INFO


def level_from_severity(number: object, text: object) -> LogLevel:
    """Map an OTel severity number (or, when unspecified, the severity text) to a `LogLevel`."""
    value: object = getattr(number, "value", number)  # a SeverityNumber or a plain int
    if type(value) is int and value > 0:
        for row in reversed(SEVERITIES):
            if value >= row.number:
                return row.level
        return LogLevel.DEBUG  # TRACE 1-4
    if isinstance(text, str):
        return _BY_TEXT.get(text.strip().lower().rstrip("1234"), LogLevel.INFO)
    return LogLevel.INFO
