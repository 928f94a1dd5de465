"""Exporter wrappers that redact OpenTelemetry data on the export thread.

The standard export path (BatchSpanProcessor / BatchLogRecordProcessor / periodic metric reader
→ OTLP, console, ...) calls `export()` on the SDK's worker thread, so scrubbing inside the
wrapper costs the application thread nothing. Each wrapper hands the wrapped exporter redacted
copies (the SDK's objects are never mutated; a clean item is passed through as is):

- spans: attributes, events' attributes, links' attributes and the status description; the
  resource and scope are untouched;
- log records: body (strings, and nested lists/maps key by key) and attributes;
- metrics: data point and exemplar attributes (values under sensitive keys, URLs, secrets).

Items are also made encodable, because one bad value makes the OTLP encoder fail the whole
batch: lone surrogates become U+FFFD, ints outside int64 become strings, and a log body of a
foreign type becomes its (redacted) `repr`. An item that still cannot be processed is dropped
and reported through `_internal.guard`; the rest of the batch goes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from flext_observability._internal.convert.sanitize import frozen_attributes
from flext_observability._internal.convert.trace import span_attributes, span_events, span_links
from flext_observability._internal.guard import guard
from flext_observability._internal.text import fix_surrogates
from flext_observability.redaction import Redactor
from flext_observability.redaction._otel_data import (
    bounded,
    bounded_list,
    each,
    redact_any,
    redact_attrs,
    redact_events,
    redact_links,
    shallow_copy,
)

__all__ = [
    "RedactingLogRecordExporter",
    "RedactingMetricExporter",
    "RedactingSpanExporter",
    "redact_log_record",
    "redact_span",
]

_MAX_SERIES = 20_000
"""Attribute sets a metric exporter remembers the redaction of (then it starts afresh)."""


def redact_span(redactor: Redactor, span: ReadableSpan) -> ReadableSpan:
    """A redacted, encodable copy of `span` (the span itself when nothing had to change)."""
    attributes = redact_attrs(redactor, span_attributes(span), span.dropped_attributes)
    events = redact_events(redactor, span_events(span), span.dropped_events)
    links = redact_links(redactor, span_links(span), span.dropped_links)
    status = span.status
    if status.description:
        description = redactor.redact_text(status.description)
        if description != status.description:
            status = Status(status.status_code, description)
    name = fix_surrogates(span.name) if isinstance(span.name, str) else span.name
    if (
        attributes is None
        and events is None
        and links is None
        and status is span.status
        and name is span.name
    ):
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=(
            attributes
            if attributes is not None
            else bounded(span.attributes or {}, span.dropped_attributes)
        ),
        events=(
            events
            if events is not None
            else bounded_list(list(span_events(span)), span.dropped_events)
        ),
        links=(
            links if links is not None else bounded_list(list(span_links(span)), span.dropped_links)
        ),
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def redact_log_record(redactor: Redactor, readable: ReadableLogRecord) -> ReadableLogRecord:
    """A redacted, encodable copy of a log record: body and attributes (itself when clean)."""
    record = readable.log_record
    body = redact_any(redactor, None, record.body, 0)
    attributes = redact_attrs(redactor, record.attributes or {}, readable.dropped_attributes)
    if body is record.body and attributes is None:
        return readable
    copy = shallow_copy(record)
    copy.body = body
    if attributes is not None:
        copy.attributes = attributes
    return dataclasses.replace(readable, log_record=copy)


class RedactingSpanExporter(SpanExporter):
    """Pass redacted copies of the spans to `exporter`.

    Args:
        exporter: the exporter that sends the spans (OTLP, console, in-memory, ...).
        redactor: the rules; a default `Redactor()` when omitted.
    """

    def __init__(self, exporter: SpanExporter, *, redactor: Redactor | None = None) -> None:
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Redact the batch item by item and export what could be redacted."""
        batch = each(spans, self._span, "redaction.export.span")
        if batch is None:
            return SpanExportResult.FAILURE
        return self._exporter.export(batch) if batch else SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)

    def _span(self, span: ReadableSpan) -> ReadableSpan:
        return redact_span(self._redactor, span)


class RedactingLogRecordExporter(LogRecordExporter):
    """Pass redacted copies of the log records (body and attributes) to `exporter`."""

    def __init__(self, exporter: LogRecordExporter, *, redactor: Redactor | None = None) -> None:
        """Wrap `exporter`; `redactor` defaults to `Redactor()`."""
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Redact the batch item by item and export what could be redacted."""
        records = each(batch, self._record, "redaction.export.log")
        if records is None:
            return LogRecordExportResult.FAILURE
        return self._exporter.export(records) if records else LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()  # type: ignore[no-untyped-call] # unannotated in the SDK

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)

    def _record(self, readable: ReadableLogRecord) -> ReadableLogRecord:
        return redact_log_record(self._redactor, readable)


class RedactingMetricExporter(MetricExporter):
    """Pass metrics whose data point and exemplar attributes are redacted to `exporter`.

    The wrapped exporter's preferred temporality and aggregation are kept, so a periodic reader
    built on the wrapper behaves exactly as one built on `exporter`.
    """

    def __init__(self, exporter: MetricExporter, *, redactor: Redactor | None = None) -> None:
        """Wrap `exporter`; `redactor` defaults to `Redactor()`."""
        super().__init__(
            preferred_temporality=exporter._preferred_temporality,  # noqa: SLF001 - SDK contract
            preferred_aggregation=exporter._preferred_aggregation,  # noqa: SLF001 - same
        )
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()
        # A series' attribute dict (the SDK keeps one per series) -> its redaction (None: clean),
        # for dicts that cannot change (`frozen_attributes`): each collection repeats them.
        self._series: dict[int, tuple[Any, BoundedAttributes | None]] = {}

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Redact every data point and export the result."""
        data = None
        with guard("redaction.export.metrics"):
            data = self._metrics_data(metrics_data)
        if data is None:
            return MetricExportResult.FAILURE
        return self._exporter.export(data, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown(timeout_millis=timeout_millis, **kwargs)

    def _attributes(self, raw: Any) -> BoundedAttributes | None:
        """A point's redacted attributes (None: clean), remembered per series."""
        series = self._series
        known = series.get(id(raw))
        if known is not None and known[0] is raw:
            return known[1]
        attributes = redact_attrs(self._redactor, raw or {}, 0)
        if frozen_attributes(raw):
            if len(series) >= _MAX_SERIES:
                series.clear()
            series[id(raw)] = (raw, attributes)  # holds `raw`: its identity stays taken
        return attributes

    def _metrics_data(self, data: MetricsData) -> MetricsData:
        resources = []
        changed = False
        for resource_metrics in data.resource_metrics:
            scopes = []
            for scope_metrics in resource_metrics.scope_metrics:
                metrics = [self._metric(metric) for metric in scope_metrics.metrics]
                if any(new is not old for new, old in zip(metrics, scope_metrics.metrics)):  # noqa: B905 - same length by construction
                    scope_metrics = dataclasses.replace(scope_metrics, metrics=metrics)  # noqa: PLW2901 - rebinding the loop item is the point
                    changed = True
                scopes.append(scope_metrics)
            resources.append(dataclasses.replace(resource_metrics, scope_metrics=scopes))
        return dataclasses.replace(data, resource_metrics=resources) if changed else data

    def _metric(self, metric: Any) -> Any:
        points = each(metric.data.data_points, self._point, "redaction.export.metric_point") or []
        if len(points) == len(metric.data.data_points) and all(
            new is old
            for new, old in zip(points, metric.data.data_points)  # noqa: B905 - same length checked
        ):
            return metric
        return dataclasses.replace(
            metric, data=dataclasses.replace(metric.data, data_points=points)
        )

    def _point(self, point: Any) -> Any:
        update: dict[str, Any] = {}
        attributes = self._attributes(point.attributes)
        if attributes is not None:
            update["attributes"] = dict(attributes)
        exemplars: list[Any] = []
        for exemplar in point.exemplars:
            filtered = redact_attrs(self._redactor, exemplar.filtered_attributes or {}, 0)
            if filtered is not None:
                exemplar = dataclasses.replace(exemplar, filtered_attributes=dict(filtered))  # noqa: PLW2901 - rebinding is the point
                update["exemplars"] = exemplars
            exemplars.append(exemplar)
        return dataclasses.replace(point, **update) if update else point
