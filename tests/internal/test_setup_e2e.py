"""End to end through setup(): the embedded store and real OTLP (gRPC and HTTP) to rotel."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace

from _receivers import Rotel
from flext_observability import testing
from flext_observability._internal import setup as _setup
from flext_observability._internal.setup import FlextObservability
from flext_observability.logs import EntityLoggingHandler
from flext_observability.models import FlextLogEntry, FlextMetric, FlextTrace
from flext_observability.sinks.memory import MemorySink
from flext_observability.sinks.store import SQLiteStore

pytestmark = pytest.mark.slow

Start = Callable[..., FlextObservability]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Run setup() with the given settings; shut down and reset globals afterwards."""

    def _start(**overrides: Any) -> FlextObservability:
        defaults: dict[str, Any] = {
            "store_path": tmp_path / "telemetry.db",
            "health_enabled": False,
            "metric_export_interval_ms": 3_600_000,
            "service_name": "e2e-shop",
        }
        defaults.update(overrides)
        return _setup.setup(**defaults)

    yield _start
    testing.release()


@pytest.fixture
def rotel(tmp_path: Path) -> Iterator[Rotel]:
    """A real rotel OTLP receiver on loopback."""
    receiver = Rotel(tmp_path)
    yield receiver
    receiver.stop()


def _produce(tag: str) -> None:
    tracer = trace.get_tracer("e2e")
    with (
        tracer.start_as_current_span(f"parent-{tag}"),
        tracer.start_as_current_span(f"child-{tag}", attributes={"order.id": 7}),
    ):
        logging.getLogger("shop").warning("order %s shipped", tag)
    counter = metrics.get_meter("e2e").create_counter(f"orders_{tag}_total", unit="{order}")
    counter.add(3, {"region": "eu"})


def test_spans_metrics_and_logs_arrive_in_the_store(start: Start, tmp_path: Path) -> None:
    """Every signal lands in SQLite as entities with the service name and trace links."""
    obs = start()
    tag = uuid.uuid4().hex[:8]
    _produce(tag)
    assert obs.force_flush(10)
    store = SQLiteStore.open_readonly(tmp_path / "telemetry.db")
    try:
        spans = store.query("traces", name=f"child-{tag}")
        parent = store.query("traces", name=f"parent-{tag}")
        logs = store.query("logs", level="warning")
        points = store.query("metrics", name=f"orders_{tag}_total")
    finally:
        store.close()
    assert len(spans) == 1
    assert len(parent) == 1
    child, root = spans[0], parent[0]
    assert isinstance(child, FlextTrace)
    assert isinstance(root, FlextTrace)
    assert (child.trace_id, child.parent_span_id, child.service_name) == (
        root.trace_id,
        root.span_id,
        "e2e-shop",
    )
    assert child.attributes == {"order.id": 7}
    shop_logs = [e for e in logs if isinstance(e, FlextLogEntry) and e.logger_name == "shop"]
    assert [(e.message, e.trace_id, e.span_id) for e in shop_logs] == [
        (f"order {tag} shipped", child.trace_id, child.span_id)
    ]
    assert [
        (p.value, p.tags, p.metric_type.value, p.unit, p.service_name)
        for p in points
        if isinstance(p, FlextMetric)
    ] == [(3, {"region": "eu"}, "counter", "{order}", "e2e-shop")]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_otlp_export_reaches_a_real_rotel_receiver(
    start: Start, rotel: Rotel, protocol: str
) -> None:
    """Spans, metrics and logs go over real OTLP to rotel, with our resource."""
    endpoint = rotel.grpc_endpoint if protocol == "grpc" else rotel.http_endpoint
    obs = start(otlp_endpoint=endpoint, otlp_protocol=protocol, store_enabled=False)
    tag = uuid.uuid4().hex[:8]
    _produce(tag)
    assert obs.force_flush(15)
    rotel.wait_for(
        f"parent-{tag}",
        f"child-{tag}",
        f"orders_{tag}_total",
        f"order {tag} shipped",
        "service.name: Str(e2e-shop)",
    )


def test_a_canary_secret_never_reaches_the_store_or_the_otlp_bytes(
    start: Start, rotel: Rotel, tmp_path: Path
) -> None:
    """Redaction is on by default: attribute, log message and URL secrets are scrubbed."""
    canary = "CANARY" + uuid.uuid4().hex
    obs = start(otlp_endpoint=rotel.http_endpoint, otlp_protocol="http/protobuf")
    tracer = trace.get_tracer("e2e")
    with tracer.start_as_current_span(
        "login",
        attributes={
            "password": canary,
            "http.url": f"https://alice:{canary}@example.test/cb?api_key={canary}&page=2",
        },
    ):
        logging.getLogger("auth").warning("login with token=%s done", canary)
    assert obs.force_flush(15)
    output = rotel.wait_for("login", "done")
    assert canary not in output
    assert "REDACTED" in output
    db_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("telemetry.db*"))
    assert canary.encode() not in db_bytes
    store = SQLiteStore.open_readonly(tmp_path / "telemetry.db")
    try:
        login = store.query("traces", name="login")
    finally:
        store.close()
    assert len(login) == 1
    assert isinstance(login[0], FlextTrace)
    assert canary not in login[0].model_dump_json()


def test_the_logging_bridge_survives_hostile_records(start: Start) -> None:
    """Bad % args, a raising __str__, a lone surrogate and a huge message never raise."""

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no str for you")

        __repr__ = __str__

    obs = start(store_enabled=False, sinks=[sink := MemorySink()])
    root = logging.getLogger()
    # Only our bridge: pytest's own capture handlers would raise on the bad records. They are
    # taken off and put back here, not by swapping the list: `start`'s teardown (our shutdown)
    # may run before a monkeypatch is undone, and the old list would then bring back the bridge
    # of a shut-down setup, which every later setup in this process would find and keep.
    others = [h for h in root.handlers if not isinstance(h, EntityLoggingHandler)]
    for handler in others:
        root.removeHandler(handler)
    try:
        log = logging.getLogger("hostile")
        log.error("bad format %d", "not a number")
        log.error("two args %s", 1, 2)  # noqa: PLE1205 - a bad call on purpose
        log.error(Hostile())
        log.error("lone surrogate \udc80 here")
        log.error("x" * 3_000_000)
        log.error("after the storm")
    finally:
        for handler in others:
            root.addHandler(handler)
    assert obs.force_flush(10)
    messages = [e.message for e in sink.of_type(FlextLogEntry) if e.logger_name == "hostile"]
    assert len(messages) == 6
    assert messages[-1] == "after the storm"
    assert "\udc80" not in messages[3]
    assert all(isinstance(m, str) for m in messages)
