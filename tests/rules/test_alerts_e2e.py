"""Alerts end to end under opentelemetry-instrument: failing checkouts fire, then resolve.

The example shop runs with a rules file and a webhook URL pointing at a real HTTP receiver on
loopback. Failing `/checkout` calls drive the `checkout` error ratio over its threshold: the
receiver gets exactly one activation; once the window has no failures, exactly one resolution.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from _shop import Shop
from flext_observability.models import AlertStatus, FlextAlert
from flext_observability.sinks.store import SQLiteStore

pytestmark = pytest.mark.slow

RULES = """
[[rules]]
name = "checkout-errors"
kind = "error_ratio"
operation = "checkout"
window = "3s"
threshold = 0.3
min_count = 3
severity = "error"
"""


class Receiver(ThreadingHTTPServer):
    """Collects webhook POST bodies."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []
        self.lock = threading.Lock()

    def alerts(self) -> list[FlextAlert]:
        with self.lock:
            return [FlextAlert.model_validate_json(body) for body in self.bodies]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[FlextAlert]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            alerts = self.alerts()
            if len(alerts) >= count:
                return alerts
            time.sleep(0.1)
        msg = f"expected {count} notifications, got {self.alerts()}"
        raise AssertionError(msg)


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.bodies.append(body)
            self.server.content_types.append(self.headers["Content-Type"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on 127.0.0.1."""
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_failing_checkouts_fire_one_alert_and_later_one_resolution(
    tmp_path: Path, receiver: Receiver
) -> None:
    """Exactly one activation, then exactly one resolution, as webhook JSON and in the store."""
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    env = {
        "FLEXT_OBSERVABILITY_ALERT_RULES": str(rules),
        "FLEXT_OBSERVABILITY_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{receiver.server_port}/hook",
    }
    with Shop(tmp_path, env) as shop:
        for _ in range(5):
            assert shop.get("/checkout?fail=1") == 500
        fired = receiver.wait_for(1)
        assert [(a.name, a.status, a.severity.value, a.source) for a in fired] == [
            ("checkout-errors", AlertStatus.ACTIVE, "error", "checkout-errors")
        ]
        assert fired[0].value is not None
        assert fired[0].value > 0.3
        assert fired[0].threshold == 0.3
        for _ in range(3):
            assert shop.get("/checkout") == 200
        both = receiver.wait_for(2)
        time.sleep(1.5)  # nothing more may arrive: deduplicated while active, resolved once
        notifications = receiver.alerts()
    assert [(a.status, a.fingerprint) for a in notifications] == [
        (AlertStatus.ACTIVE, fired[0].fingerprint),
        (AlertStatus.RESOLVED, fired[0].fingerprint),
    ]
    assert both[1].resolved_at is not None
    assert receiver.content_types == ["application/json", "application/json"]
    store = SQLiteStore.open_readonly(shop.store)
    try:
        stored = store.query("alerts")
    finally:
        store.close()
    assert [(a.name, a.status) for a in stored if isinstance(a, FlextAlert)] == [
        ("checkout-errors", AlertStatus.ACTIVE),
        ("checkout-errors", AlertStatus.RESOLVED),
    ]
