"""One queue and one worker feed both the span exporters and the sinks (`_internal/export_lane`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry import baggage, context, trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    Sampler,
    SamplingResult,
)

from flext_observability import setup
from flext_observability._internal.export_lane import ExportLane, SpanExportTap
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability.models import FlextTrace
from flext_observability.processors import EntitySpanProcessor
from flext_observability.redaction import MARKER, Redactor
from flext_observability.sinks import MemorySink

CANARY = "canary-s3cr3t-0xfeedface"


class GatedExporter(InMemorySpanExporter):
    """Keeps every batch; blocks in `export` until released; notes the suppression flag."""

    def __init__(self) -> None:
        """Open gate, no batches yet."""
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.batch_sizes: list[int] = []
        self.suppressed: list[bool] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Wait for the gate, then keep the batch."""
        self.gate.wait(10)
        self.batch_sizes.append(len(spans))
        self.suppressed.append(bool(context.get_value(_SUPPRESS_INSTRUMENTATION_KEY)))
        return super().export(spans)


class ExplodingExporter(SpanExporter):
    """Raises on every export (a broken exporter)."""

    def __init__(self) -> None:
        """Count the calls."""
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Fail loudly."""
        self.calls += 1
        raise ConnectionError("collector unreachable")


class RecordOnly(Sampler):
    """Records every span without sampling it (exported by nobody, still an entity)."""

    def should_sample(self, *args: object, **kwargs: object) -> SamplingResult:
        """Record, do not sample."""
        return SamplingResult(Decision.RECORD_ONLY)

    def get_description(self) -> str:
        """Its name."""
        return "RecordOnly"


def _spans(count: int) -> list[ReadableSpan]:
    """`count` finished SDK spans."""
    recorder = InMemorySpanExporter()
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(recorder))
    for index in range(count):
        with provider.get_tracer("t").start_as_current_span(f"op{index}"):
            pass
    return list(recorder.get_finished_spans())


def test_lane_exports_in_batches_with_instrumentation_suppressed() -> None:
    """A lane exports what it is offered in `batch_size` pieces, instrumentation suppressed."""
    drops: list[tuple[int, str]] = []
    exporter = GatedExporter()
    lane = ExportLane(exporter, on_drop=lambda n, r: drops.append((n, r)), batch_size=4)
    lane.offer(_spans(10))
    assert lane.flush(10)
    assert exporter.batch_sizes == [4, 4, 2]
    assert exporter.suppressed == [True, True, True]
    lane.shutdown(5)
    assert exporter._stopped
    assert drops == []


def test_a_full_lane_drops_and_counts_and_shutdown_counts_the_rest() -> None:
    """Beyond `max_queue` waiting spans a batch is cut; what is left at shutdown is counted."""
    drops: list[tuple[int, str]] = []
    exporter = GatedExporter()
    exporter.gate.clear()  # the exporter hangs: nothing leaves the lane
    lane = ExportLane(exporter, on_drop=lambda n, r: drops.append((n, r)), max_queue=5)
    lane.offer(_spans(1))  # taken by the thread, which then blocks in export()
    while not lane._busy:
        threading.Event().wait(0.01)
    lane.offer(_spans(3))
    lane.offer(_spans(4))  # only 2 fit
    assert drops == [(2, "export_queue_full")]
    assert not lane.flush(0.2)  # still blocked
    exporter.gate.set()
    lane.shutdown(10)
    assert exporter.batch_sizes == [1, 5]  # the waiting batches went out together
    lane.offer(_spans(2))
    assert drops == [(2, "export_queue_full"), (2, "shutdown")]


def _until(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_a_schedule_delay_gathers_items_until_it_passes() -> None:
    """With a schedule delay, items wait for `batch_size` of them, or until the delay passed."""
    exporter = GatedExporter()
    lane = ExportLane(exporter, on_drop=lambda _n, _r: None, batch_size=10, schedule_delay=0.4)
    started = time.monotonic()
    lane.offer(_spans(3))
    lane.offer(_spans(2))
    time.sleep(0.15)
    assert exporter.batch_sizes == []  # within the delay: still gathering
    assert _until(lambda: exporter.batch_sizes == [5])
    assert time.monotonic() - started >= 0.4
    lane.offer(_spans(6))
    lane.offer(_spans(6))  # 12 waiting: a full batch is due at once, the rest waits
    assert _until(lambda: exporter.batch_sizes[:2] == [5, 6])
    lane.shutdown(5)  # exports what is left
    assert sum(exporter.batch_sizes) == 17


def test_a_flush_exports_at_once_whatever_the_delay() -> None:
    """`flush()` does not wait for the schedule delay (an hour here)."""
    exporter = GatedExporter()
    lane = ExportLane(exporter, on_drop=lambda _n, _r: None, schedule_delay=3600)
    lane.offer(_spans(2))
    started = time.monotonic()
    assert lane.flush(10)
    assert exporter.batch_sizes == [2]
    assert time.monotonic() - started < 5
    lane.offer(_spans(1))
    lane.shutdown(10)
    assert exporter.batch_sizes == [2, 1]


def test_a_raising_exporter_loses_its_batch_only() -> None:
    """An exporter that raises is reported; the lane keeps exporting later batches."""
    exporter = ExplodingExporter()
    lane = ExportLane(exporter, on_drop=lambda _n, _r: None)
    lane.offer(_spans(2))
    lane.offer(_spans(2))
    assert lane.flush(10)
    assert exporter.calls == 2
    lane.shutdown(5)


@dataclass
class Fused:
    """A provider whose only span processor feeds both an exporter and a sink."""

    provider: TracerProvider
    pipeline: Pipeline
    exporter: InMemorySpanExporter
    sink: MemorySink


@pytest.fixture
def fused() -> Iterator[Fused]:
    """Provider -> EntitySpanProcessor(export=tap) -> pipeline (redaction on) -> memory."""
    redactor = Redactor()
    sink = MemorySink()
    exporter = InMemorySpanExporter()
    pipeline = build_pipeline(sinks=[sink], redact=redactor.redact_entity)
    drops: list[tuple[int, str]] = []
    tap = SpanExportTap([exporter], redactor=redactor, on_drop=lambda n, r: drops.append((n, r)))
    provider = TracerProvider(sampler=ALWAYS_ON, shutdown_on_exit=False)
    provider.add_span_processor(EntitySpanProcessor(pipeline, export=tap, shutdown_timeout=5))
    yield Fused(provider, pipeline, exporter, sink)
    provider.shutdown()
    pipeline.shutdown(5)
    assert drops == []


def test_exported_span_and_entity_share_one_redaction(fused: Fused) -> None:
    """The exporter and the sink both get the span scrubbed; baggage is scrubbed too."""
    tracer = fused.provider.get_tracer("shop")
    token = context.attach(baggage.set_baggage("cart", f"token={CANARY}"))
    try:
        with tracer.start_as_current_span("checkout") as span:
            span.set_attribute("db.password", CANARY)
            span.set_attribute("http.url", f"https://u:{CANARY}@shop.example/?q=1")
            span.set_attribute("http.route", "/checkout")
    finally:
        context.detach(token)
    assert fused.provider.force_flush(10_000)
    (exported,) = fused.exporter.get_finished_spans()
    (entity,) = fused.sink.of_type(FlextTrace)
    assert exported.attributes is not None
    assert dict(exported.attributes) == entity.attributes
    assert entity.attributes["db.password"] == MARKER
    assert entity.attributes["http.route"] == "/checkout"
    assert CANARY not in repr(dict(exported.attributes))
    assert CANARY not in entity.model_dump_json()
    assert entity.context == {"cart": "token=[REDACTED]"}
    assert [s.name for s in fused.exporter.get_finished_spans()] == ["checkout"]


def test_unsampled_spans_are_exported_only_when_notable() -> None:
    """Recorded, unsampled spans: a notable one is exported (as sampled) and stored."""
    sink = MemorySink()
    exporter = InMemorySpanExporter()
    pipeline = build_pipeline(sinks=[sink])
    tap = SpanExportTap([exporter], redactor=Redactor(), on_drop=lambda _n, _r: None)
    provider = TracerProvider(sampler=RecordOnly(), shutdown_on_exit=False)
    provider.add_span_processor(
        EntitySpanProcessor(pipeline, export=tap, notable=lambda span: span.name == "slow")
    )
    for name in ("quiet", "slow"):
        with provider.get_tracer("t").start_as_current_span(name):
            pass
    assert provider.force_flush(10_000)
    (exported,) = exporter.get_finished_spans()
    assert exported.name == "slow"
    assert exported.context is not None
    assert exported.context.trace_flags.sampled
    assert [e.operation_name for e in sink.of_type(FlextTrace)] == ["slow"]
    provider.shutdown()
    pipeline.shutdown(5)


def test_shutdown_exports_what_ended_before_it(fused: Fused) -> None:
    """Spans ended before the provider shuts down reach the exporter, which is then stopped."""
    tracer = fused.provider.get_tracer("shop")
    for index in range(50):
        with tracer.start_as_current_span(f"op{index}"):
            pass
    fused.provider.shutdown()
    assert len(fused.exporter.get_finished_spans()) == 50
    assert fused.exporter._stopped


def test_sampler_off_exports_and_stores_nothing() -> None:
    """With every span dropped by the sampler, neither the exporter nor the sink sees one."""
    sink = MemorySink()
    exporter = InMemorySpanExporter()
    pipeline = build_pipeline(sinks=[sink])
    tap = SpanExportTap([exporter], redactor=Redactor(), on_drop=lambda _n, _r: None)
    provider = TracerProvider(sampler=ALWAYS_OFF, shutdown_on_exit=False)
    provider.add_span_processor(EntitySpanProcessor(pipeline, export=tap))
    with provider.get_tracer("t").start_as_current_span("never"):
        pass
    assert provider.force_flush(10_000)
    assert (exporter.get_finished_spans(), sink.entities) == ((), [])
    provider.shutdown()
    pipeline.shutdown(5)
    assert trace.get_tracer_provider() is not provider


@pytest.mark.usefixtures("clean_globals")
def test_setup_builds_one_span_processor_for_export_and_entities(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """With a span exporter, setup adds no BatchSpanProcessor: one processor does both."""
    handle = setup(
        service_name="shop",
        store_path=tmp_path / "t.db",
        traces_exporter=("console",),
        metrics_exporter=(),
        logs_exporter=(),
    )
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    processors = provider._active_span_processor._span_processors
    assert [p for p in processors if isinstance(p, BatchSpanProcessor)] == []
    assert len([p for p in processors if isinstance(p, EntitySpanProcessor)]) == 1
    with provider.get_tracer("shop").start_as_current_span("checkout") as span:
        span.set_attribute("api_key", CANARY)
    assert handle.force_flush(10)
    printed = capfd.readouterr().out
    assert '"name": "checkout"' in printed
    assert CANARY not in printed
    assert handle.store is not None
    traces = handle.store.query("traces")
    assert [t.operation_name for t in traces if isinstance(t, FlextTrace)] == ["checkout"]
    assert len(traces) == 1


FORK_APP = textwrap.dedent(
    """
    import os
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from flext_observability._internal.pipeline import build_pipeline
    from flext_observability.pipeline import SpanExportTap
    from flext_observability.processors import EntitySpanProcessor

    exporter = InMemorySpanExporter()
    tap = SpanExportTap([exporter], redactor=None, on_drop=lambda n, r: None)
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(EntitySpanProcessor(build_pipeline(), export=tap))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("parent"):
        pass
    assert provider.force_flush(10_000)
    pid = os.fork()
    if pid == 0:
        exporter.clear()
        with tracer.start_as_current_span("child"):
            pass
        ok = provider.force_flush(10_000)
        names = [span.name for span in exporter.get_finished_spans()]
        os._exit(0 if ok and names == ["child"] else 3)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), [s.name for s in exporter.get_finished_spans()])
    """
)


@pytest.mark.slow
def test_a_fork_child_exports_its_own_spans_through_a_fresh_lane(tmp_path: Path) -> None:
    """After fork the child's lane starts anew: it exports the child's span, never the parent's."""
    script = tmp_path / "fork_lane.py"
    script.write_text(FORK_APP)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "0 ['parent']", result.stderr
