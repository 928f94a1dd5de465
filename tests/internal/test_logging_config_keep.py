"""The logging bridge survives the app's logging configuration (fast, in-process)."""

from __future__ import annotations

import contextlib
import io
import logging
import logging.config
from collections.abc import Iterator

import pytest

from flext_observability._internal import logging_config


class _Bridge(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.closed = False

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.fixture
def bridge() -> Iterator[_Bridge]:
    """A bridge kept on the root logger, alone there during the test; root restored afterwards.

    Runs the test body with the root handlers of the moment (pytest's capture handlers of the
    call phase included) put back exactly afterwards, so pytest can remove its own.
    """
    handler = _Bridge()
    logging_config.keep_on_root(handler)
    try:
        yield handler
    finally:
        logging_config.release(handler)


@contextlib.contextmanager
def _alone(bridge: _Bridge) -> Iterator[logging.Logger]:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = [bridge]
    try:
        yield root
    finally:
        for extra in root.handlers:
            if extra is not bridge and extra not in saved_handlers:
                extra.close()
        root.handlers = saved_handlers
        root.setLevel(saved_level)


@pytest.mark.parametrize("force", [False, True])
def test_basic_config_after_setup_adds_the_console_and_keeps_the_bridge(
    bridge: _Bridge, force: bool
) -> None:
    """basicConfig() configures the console as without us; the bridge stays, open, once."""
    stream = io.StringIO()
    with _alone(bridge) as root:
        logging.basicConfig(stream=stream, format="%(message)s", level=logging.INFO, force=force)
        logging.getLogger("app.keep").info("hello")
        assert root.handlers.count(bridge) == 1
        assert len(root.handlers) == 2
    assert not bridge.closed
    assert stream.getvalue() == "hello\n"
    assert [r.getMessage() for r in bridge.records] == ["hello"]


def test_dict_config_keeps_the_bridge(bridge: _Bridge) -> None:
    """dictConfig() replaces the root handlers but not the bridge."""
    with _alone(bridge) as root:
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "root": {"level": "INFO", "handlers": []},
            }
        )
        assert root.handlers == [bridge]


def test_reattach_after_a_framework_reset_and_release(bridge: _Bridge) -> None:
    """A framework emptying the root handlers is undone by reattach(); released: no bridge."""
    with _alone(bridge) as root:
        root.handlers = []
        assert logging_config.reattach()
        assert root.handlers == [bridge]
        assert logging_config.reattach()
        assert root.handlers == [bridge]
        logging_config.release(bridge)
        root.handlers = []
        assert not logging_config.reattach()
        assert root.handlers == []


def test_a_failing_configuration_still_puts_the_bridge_back(bridge: _Bridge) -> None:
    """An invalid dictConfig raises as without us, and the bridge is back afterwards."""
    with _alone(bridge) as root:
        with pytest.raises(ValueError, match="version"):
            logging.config.dictConfig({"version": 99})
        assert root.handlers == [bridge]
