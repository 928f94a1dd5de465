"""MemorySink and CallbackSink: ordering, bounds, filtering and error isolation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from flext_observability._internal import guard as _guard
from flext_observability.exceptions import ConfigurationError
from flext_observability.models import FlextHealthCheck, FlextLogEntry, FlextMetric, FlextTrace
from flext_observability.sinks import CallbackSink, Entity, MemorySink, Sink


@pytest.fixture(autouse=True)
def _reset_guard() -> Iterator[None]:
    """Start and end every test with no internal errors counted (conftest resets strict mode)."""
    _guard.reset_internal_errors()
    yield
    _guard.reset_internal_errors()


T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _metric(i: int) -> FlextMetric:
    return FlextMetric(name=f"m{i}", value=i, id=f"m{i}", timestamp=T0)


def test_sinks_satisfy_the_protocol() -> None:
    """Both sinks are runtime instances of the Sink protocol."""
    assert isinstance(MemorySink(), Sink)
    assert isinstance(CallbackSink(print), Sink)


def test_memory_sink_keeps_arrival_order_and_filters_by_type() -> None:
    """Entities come back in arrival order; of_type returns only that class."""
    sink = MemorySink()
    span = FlextTrace(operation_name="op", trace_id="a" * 32, span_id="b" * 16, start_time=T0)
    log = FlextLogEntry(message="hello", id="log")
    sink.write([_metric(1), span])
    sink.write([log, _metric(2)])
    assert sink.entities == [_metric(1), span, log, _metric(2)]
    assert sink.of_type(FlextMetric) == [_metric(1), _metric(2)]
    assert sink.of_type(FlextTrace) == [span]
    assert sink.of_type(FlextHealthCheck) == []
    assert len(sink) == 4
    assert sink.flush(0.1) is True
    sink.clear()
    assert (sink.entities, sink.dropped) == ([], 0)


def test_memory_sink_bound_drops_oldest_and_counts() -> None:
    """With max_items the newest entities stay and every eviction is counted."""
    sink = MemorySink(max_items=3)
    sink.write([_metric(i) for i in range(2)])
    sink.write([_metric(i) for i in range(2, 7)])
    assert sink.entities == [_metric(4), _metric(5), _metric(6)]
    assert (sink.max_items, sink.dropped) == (3, 4)


def test_memory_sink_ignores_and_counts_writes_after_close() -> None:
    """After close the kept entities stay readable and new ones are counted as dropped."""
    sink = MemorySink()
    sink.write([_metric(1)])
    sink.close()
    sink.write([_metric(2), _metric(3)])
    assert (sink.entities, sink.dropped) == ([_metric(1)], 2)


@pytest.mark.parametrize("bad", [0, -1, True])
def test_memory_sink_rejects_a_bad_bound(bad: int) -> None:
    """A non-positive bound is a ConfigurationError naming the setting."""
    with pytest.raises(ConfigurationError, match="max_items"):
        MemorySink(max_items=bad)


def test_memory_sink_is_thread_safe() -> None:
    """Concurrent writers lose nothing and each writer's order is preserved."""
    sink = MemorySink()
    barrier = threading.Barrier(8)

    def writer(k: int) -> None:
        barrier.wait()
        for i in range(100):
            sink.write([FlextMetric(name=f"w{k}", value=i, id=f"{k}-{i}")])

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_writer = {
        k: [m.value for m in sink.of_type(FlextMetric) if m.name == f"w{k}"] for k in range(8)
    }
    assert per_writer == {k: list(range(100)) for k in range(8)}


def test_callback_sink_calls_fn_per_entity_with_kind_filter() -> None:
    """Only the wanted kinds reach fn, in order; kinds accepts a class or an iterable."""
    seen: list[Entity] = []
    log = FlextLogEntry(message="x", id="log")
    span = FlextTrace(operation_name="op", trace_id="a" * 32, span_id="b" * 16, start_time=T0)
    everything = CallbackSink(seen.append)
    everything.write([_metric(1), log, span])
    assert seen == [_metric(1), log, span]
    seen.clear()
    only_metrics = CallbackSink(seen.append, kinds=FlextMetric)
    only_metrics.write([_metric(1), log, _metric(2)])
    assert seen == [_metric(1), _metric(2)]
    seen.clear()
    two = CallbackSink(seen.append, kinds=[FlextLogEntry, FlextTrace])
    two.write([_metric(1), log, span])
    assert (seen, two.kinds) == ([log, span], (FlextLogEntry, FlextTrace))


def test_callback_sink_isolates_a_raising_fn(caplog: pytest.LogCaptureFixture) -> None:
    """A raising fn is reported once, counted, and the rest of the batch still arrives."""
    seen: list[object] = []

    def fn(entity: Entity) -> None:
        if isinstance(entity, FlextMetric) and entity.value == 2:
            raise RuntimeError("boom")
        seen.append(entity.id)

    sink = CallbackSink(fn)
    with caplog.at_level("DEBUG", logger="flext_observability"):
        sink.write([_metric(1), _metric(2), _metric(3)])
        sink.write([_metric(2)])
    assert seen == ["m1", "m3"]
    assert sink.errors == 2
    assert _guard.internal_error_counts() == {"sinks.callback": 2}
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelname == "WARNING" and "sinks.callback" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "sinks.callback" in warnings[0]
    assert "RuntimeError: boom" in warnings[0]


@pytest.mark.usefixtures("flext_strict")
def test_callback_sink_reraises_in_strict_mode() -> None:
    """Strict mode makes a raising fn loud."""

    def fn(entity: Entity) -> None:
        raise ValueError(entity.id)

    with pytest.raises(ValueError, match="m1"):
        CallbackSink(fn).write([_metric(1)])


def test_callback_sink_stops_after_close() -> None:
    """After close fn is no longer called."""
    seen: list[Entity] = []
    sink = CallbackSink(seen.append)
    assert sink.flush() is True
    sink.close()
    sink.write([_metric(1)])
    assert seen == []


@pytest.mark.parametrize("kinds", [[], ["traces"], 3])
def test_callback_sink_rejects_bad_configuration(kinds: object) -> None:
    """Bad kinds are a ConfigurationError naming the argument."""
    with pytest.raises(ConfigurationError, match="kinds"):
        CallbackSink(print, kinds=kinds)  # type: ignore[arg-type]  # deliberately wrong


def test_callback_sink_rejects_a_non_callable() -> None:
    """Fn must be callable."""
    with pytest.raises(ConfigurationError, match="fn"):
        CallbackSink("nope")  # type: ignore[arg-type]  # deliberately wrong
