"""The test helper that runs the example shop survives a port taken before the shop binds it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import _shop
from _receivers import free_port

pytestmark = pytest.mark.slow


def test_the_shop_moves_to_another_port_when_its_port_was_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy port makes the first start fail; the helper retries on a fresh port."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = int(busy.getsockname()[1])
        ports: Iterator[int] = iter([taken, free_port()])
        monkeypatch.setattr(_shop, "free_port", lambda: next(ports))
        with _shop.Shop(tmp_path) as shop:
            assert shop.port != taken
            assert shop.get("/") == 200
