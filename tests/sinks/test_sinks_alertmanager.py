"""Alertmanager delivery: v2 alerts from in-process rules, deduplicated across processes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from _receivers import free_port, wait_for_port
from flext_observability.models import AlertSeverity, FlextAlert
from flext_observability.sinks.alertmanager import AlertmanagerSink, alertmanager_alerts

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
CHILD = Path(__file__).resolve().parent / "_alerting_process.py"


def _alert(**changes: Any) -> FlextAlert:
    base = FlextAlert(
        name="queue-backlog",
        message="queue.depth 50 > 10",
        severity=AlertSeverity.ERROR,
        labels={"team": "ops"},
        source="queue-backlog",
        fingerprint="fp1",
        service_name="svc",
        value=50,
        threshold=10,
    )
    return base.model_copy(update=changes)


def test_an_active_alert_has_the_labels_alertmanager_groups_by() -> None:
    """Labels: alertname, severity, service and the rule's labels; startsAt and no endsAt."""
    [item] = alertmanager_alerts(_alert())
    assert item["labels"] == {
        "alertname": "queue-backlog",
        "severity": "error",
        "service": "svc",
        "team": "ops",
    }
    assert item["annotations"]["summary"] == "queue.depth 50 > 10"
    assert item["startsAt"].endswith("Z")
    assert "endsAt" not in item


def test_a_resolution_sets_ends_at_and_an_escalation_ends_the_old_severity() -> None:
    """Resolved: same labels with endsAt; escalated: the old severity's alert ends."""
    alert = _alert()
    resolved = alert.resolve(at=datetime(2030, 1, 1, tzinfo=UTC)).value
    [item] = alertmanager_alerts(resolved)
    assert item["endsAt"] == "2030-01-01T00:00:00Z"
    assert item["labels"] == alertmanager_alerts(alert)[0]["labels"]
    escalated = _alert(severity=AlertSeverity.CRITICAL, details={"escalated_from": "error"})
    old, new = alertmanager_alerts(escalated)
    assert (old["labels"]["severity"], "endsAt" in old) == ("error", True)
    assert (new["labels"]["severity"], "endsAt" in new) == ("critical", False)


def test_the_url_is_masked_and_the_api_path_appended() -> None:
    """Credentials, path and query never show; alerts go to <base>/api/v2/alerts."""
    sink = AlertmanagerSink("http://am:s3cret@127.0.0.1:9093/prefix/?token=abcdef")
    try:
        assert repr(sink) == "AlertmanagerSink(url='http://127.0.0.1:9093/***')"
        assert sink._target.url == "http://127.0.0.1:9093/prefix/api/v2/alerts?token=abcdef"
    finally:
        sink.close(0)


def _get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.loads(response.read())


def _wait_alerts(port: int, predicate: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        alerts: list[dict[str, Any]] = _get(port, "/api/v2/alerts?active=true&silenced=true")
        if predicate(alerts) or time.monotonic() > deadline:
            return alerts
        time.sleep(0.2)


class _Receiver(BaseHTTPRequestHandler):
    """Collects Alertmanager's webhook notifications."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        """Keep the JSON body; answer 200."""
        length = int(self.headers.get("Content-Length", "0"))
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet."""


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """An HTTP server on loopback that records what Alertmanager notifies."""
    received: list[dict[str, Any]] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _wait_notification(notifications: list[dict[str, Any]], status: str) -> None:
    deadline = time.monotonic() + 30
    while not any(n["status"] == status for n in notifications):
        assert time.monotonic() < deadline, (status, notifications)
        time.sleep(0.2)


@pytest.fixture
def alertmanager(tmp_path: Path, receiver: tuple[int, list[dict[str, Any]]]) -> Iterator[int]:
    """A real Alertmanager on loopback (no clustering, temp storage) notifying `receiver`."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n"
        "  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: hook\n"
        "    webhook_configs:\n"
        f"      - url: http://127.0.0.1:{receiver[0]}/\n        send_resolved: true\n"
    )
    port = free_port()
    with (tmp_path / "alertmanager.log").open("wb") as log:
        process = subprocess.Popen(
            [
                ALERTMANAGER,
                f"--config.file={config}",
                f"--storage.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            wait_for_port(port, timeout=30)
            yield port
        finally:
            process.terminate()
            process.wait(30)


@pytest.mark.slow
@pytest.mark.skipif(not Path(ALERTMANAGER).exists(), reason="alertmanager is not installed")
def test_two_processes_give_one_alert_and_its_resolution(
    alertmanager: int, receiver: tuple[int, list[dict[str, Any]]]
) -> None:
    """Two processes fire the same rule: Alertmanager holds one alert; both resolve: it ends."""
    notifications = receiver[1]
    url = f"http://127.0.0.1:{alertmanager}"
    children = [
        subprocess.Popen(
            [sys.executable, str(CHILD), url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "fired", child.stderr
        alerts = _wait_alerts(alertmanager, lambda a: len(a) >= 1)
        assert len(alerts) == 1
        [alert] = alerts
        assert alert["labels"] == {
            "alertname": "queue-backlog",
            "severity": "critical",
            "service": "checkout-svc",
            "team": "ops",
        }
        assert alert["status"]["state"] == "active"
        groups = _get(alertmanager, "/api/v2/alerts/groups")
        assert sum(len(group["alerts"]) for group in groups) == 1
        _wait_notification(notifications, "firing")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("resolve\n")
            child.stdin.flush()
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "resolved"
            assert child.wait(30) == 0, child.stderr
        now = datetime.now(UTC)

        def ended(found: list[dict[str, Any]]) -> bool:
            return all(datetime.fromisoformat(a["endsAt"]) <= now for a in found)

        remaining = _wait_alerts(alertmanager, ended)
        assert ended(remaining), remaining
        _wait_notification(notifications, "resolved")
        firing = [n for n in notifications if n["status"] == "firing"]
        resolved = [n for n in notifications if n["status"] == "resolved"]
        assert [len(n["alerts"]) for n in firing] == [1]
        [[end]] = [n["alerts"] for n in resolved]
        assert end["labels"]["alertname"] == "queue-backlog"
        assert datetime.fromisoformat(end["endsAt"]) <= now
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait(10)
            for stream in (child.stdin, child.stdout, child.stderr):
                if stream is not None:
                    stream.close()


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1).filter(str.strip)


@given(name=_TEXT, message=_TEXT, labels=st.dictionaries(_TEXT, st.text(), max_size=4))
def test_hostile_alert_fields_survive_as_json(
    name: str, message: str, labels: dict[str, str]
) -> None:
    """Any name, message or label survives the v2 payload exactly (JSON, no injection)."""
    alert = _alert(name=name, message=message, labels=labels)
    sink = AlertmanagerSink("http://127.0.0.1:9/")
    try:
        [item] = json.loads(sink._payload(alert))
    finally:
        sink.close(0)
    assert item["labels"]["alertname"] == name
    assert item["annotations"]["summary"] == message
    assert {k: v for k, v in item["labels"].items() if k in labels} == {
        k: v for k, v in labels.items() if k not in {"alertname", "severity", "service"}
    }


def test_a_failed_delivery_warns_with_the_masked_url_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens: the drop is counted and the warning names the masked URL, no secret."""
    port = free_port()
    sink = AlertmanagerSink(
        f"http://am:s3cretpw@127.0.0.1:{port}/?token=t0ps3cret", max_retries=1, backoff_base=0.01
    )
    try:
        with caplog.at_level("WARNING", logger="flext_observability.webhook"):
            sink.write([_alert()])
            assert sink.flush(10)
    finally:
        sink.close(1)
    assert sink.dropped_by_reason == {"retries_exhausted": 1}
    assert sink.retries == 1
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith(f"Alertmanager http://127.0.0.1:{port}/*** failed (connection error")
    assert "s3cretpw" not in message
    assert "t0ps3cret" not in message
