"""Failure paths of redaction and the exporter wrappers: fail closed, count, keep going."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import Exemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from _helpers import RecordingMetricExporter
from flext_observability._internal.guard import (
    internal_error_counts,
    reset_internal_errors,
)
from flext_observability.models import FlextLogEntry, LogLevel
from flext_observability.redaction import MARKER, Redactor
from flext_observability.redaction import _redactor as redaction
from flext_observability.redaction._exporters import (
    RedactingLogRecordExporter,
    RedactingMetricExporter,
    RedactingSpanExporter,
)
from flext_observability.redaction._otel_data import redact_any
from flext_observability.testing import strict_mode


@pytest.fixture(autouse=True)
def _fresh_counts() -> Iterator[None]:
    """Each test starts and ends with no internal errors counted (conftest resets strict mode)."""
    reset_internal_errors()
    yield
    reset_internal_errors()


class _Unlistable:
    def __iter__(self) -> Iterator[Any]:
        raise RuntimeError("cannot iterate")

    def __len__(self) -> int:
        return 1


def test_unreadable_batches_fail_without_exporting() -> None:
    """A batch that cannot even be iterated is reported and exported as a failure."""
    spans = InMemorySpanExporter()
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # unannotated in the SDK
    assert RedactingSpanExporter(spans).export(_Unlistable()) is SpanExportResult.FAILURE  # type: ignore[arg-type]
    assert RedactingLogRecordExporter(logs).export(_Unlistable()) is (  # type: ignore[arg-type]
        LogRecordExportResult.FAILURE
    )
    metrics = RedactingMetricExporter(RecordingMetricExporter())
    assert metrics.export(None) is MetricExportResult.FAILURE  # type: ignore[arg-type]
    assert (spans.get_finished_spans(), logs.get_finished_logs()) == ((), ())
    assert internal_error_counts() == {
        "redaction.export.span": 1,
        "redaction.export.log": 1,
        "redaction.export.metrics": 1,
    }


@pytest.mark.usefixtures("flext_strict")
def test_strict_mode_raises() -> None:
    """In strict mode internal errors are raised instead of being swallowed."""
    with pytest.raises(RuntimeError, match="cannot iterate"):
        RedactingSpanExporter(InMemorySpanExporter()).export(_Unlistable())  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        RedactingMetricExporter(RecordingMetricExporter()).export(None)  # type: ignore[arg-type]


def test_strict_mode_raises_from_the_redactor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The redactor's fail-closed paths re-raise in strict mode too."""

    def broken(*_args: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(redaction, "redact_url", broken)
    monkeypatch.setattr(redaction, "redact_entity_fields", broken)
    entry = FlextLogEntry(message="m")
    assert Redactor().redact_url("https://u:p@h/") == "REDACTED"
    with strict_mode():
        with pytest.raises(RuntimeError, match="boom"):
            Redactor().redact_url("https://u:p@h/")
        with pytest.raises(RuntimeError, match="boom"):
            Redactor().redact_entity(entry)


def _data(points: list[Any]) -> MetricsData:
    metric = Metric(
        name="c",
        description=None,
        unit=None,
        data=Sum(
            data_points=points,
            aggregation_temporality=AggregationTemporality.CUMULATIVE,
            is_monotonic=True,
        ),
    )
    scope = ScopeMetrics(scope=InstrumentationScope("s"), metrics=[metric], schema_url="")
    return MetricsData(
        resource_metrics=[
            ResourceMetrics(resource=Resource.create({}), scope_metrics=[scope], schema_url="")
        ]
    )


def test_metric_exemplars_and_poisoned_points() -> None:
    """Exemplar attributes are scrubbed; a point that cannot be processed is dropped alone."""
    exemplar = Exemplar({"api_key": "k", "route": "/x"}, 1.0, 10)
    clean_exemplar = Exemplar({"route": "/y"}, 2.0, 11)
    point = NumberDataPoint({"route": "/x"}, 0, 1, 5, exemplars=[clean_exemplar, exemplar])
    capture = RecordingMetricExporter()
    clean = _data([NumberDataPoint({"route": "/z"}, 0, 1, 1)])
    wrapper = RedactingMetricExporter(capture)
    assert wrapper.export(clean) is MetricExportResult.SUCCESS
    assert capture.batches[-1] is clean
    wrapper.export(_data([point, object()]))
    (exported,) = capture.batches[-1].resource_metrics[0].scope_metrics[0].metrics
    (new_point,) = exported.data.data_points
    assert new_point.attributes == {"route": "/x"}
    assert [e.filtered_attributes for e in new_point.exemplars] == [
        {"route": "/y"},
        {"api_key": MARKER, "route": "/x"},
    ]
    assert new_point.exemplars[0] is clean_exemplar
    assert internal_error_counts() == {"redaction.export.metric_point": 1}
    assert wrapper.force_flush(10) is True
    wrapper.shutdown()


def test_otel_values_deep_and_foreign() -> None:
    """Deep nesting is rendered as redacted text; foreign objects become their repr."""
    redactor = Redactor()
    deep: Any = "password=x"
    for _ in range(10):
        deep = {"k": deep}
    rendered = redact_any(redactor, None, deep, 0)
    assert "password=x" not in repr(rendered)

    class Opaque:
        def __repr__(self) -> str:
            return "Opaque(token=abc)"

    # An unquoted value runs to the next delimiter, closing bracket included (fail safe).
    assert redact_any(redactor, None, [Opaque()], 0) == [f"Opaque(token={MARKER}"]
    same = {"a": [1, "b"], "c": None}
    assert redact_any(redactor, None, same, 0) is same
    assert redact_any(redactor, None, {"k\ud800": 1}, 0) == {"k\ufffd": 1}
    assert redact_any(redactor, "password", {"nested": 1}, 0) == MARKER


def test_poisoned_span_status_is_dropped_not_exported() -> None:
    """A span whose redaction raises midway is dropped; nothing partial is exported."""

    class Poisoned(ReadableSpan):
        @property
        def status(self) -> Any:
            raise RuntimeError("status")

    memory = InMemorySpanExporter()
    RedactingSpanExporter(memory).export([Poisoned(name="x", attributes={"token": "t"})])
    assert memory.get_finished_spans() == ()
    assert internal_error_counts() == {"redaction.export.span": 1}


def test_key_cache_is_bounded() -> None:
    """The key decision cache is cleared when full, so memory stays bounded."""
    redactor = Redactor()
    for index in range(5000):
        redactor.is_sensitive(f"key{index}")
    assert len(redactor._key_cache) <= 4096
    assert redactor.is_sensitive("password")


def test_invalid_entity_falls_back_to_a_plain_copy() -> None:
    """An entity that was never valid (model_construct) is still scrubbed, via a plain copy."""
    entry = FlextLogEntry.model_construct(
        message="password=x", level=LogLevel.INFO, trace_id="not-hex", context={}
    )
    redacted = Redactor().redact_entity(entry)
    assert (redacted.message, redacted.trace_id) == (f"password={MARKER}", "not-hex")


def test_non_string_text_is_returned_unchanged() -> None:
    """Non-str input to the text entry points is returned as is, never raising."""
    redactor = Redactor()
    assert redactor.redact_text(42) == 42  # type: ignore[arg-type,comparison-overlap]
    assert redactor.redact_url(None) is None  # type: ignore[arg-type]
