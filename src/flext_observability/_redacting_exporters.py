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
and reported through `_guard`; the rest of the batch goes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, Status

from flext_observability._guard import is_strict, report_internal_error
from flext_observability._redaction_rules import fix_surrogates
from flext_observability.redaction import MARKER, Redactor

__all__ = ["RedactingLogRecordExporter", "RedactingMetricExporter", "RedactingSpanExporter"]

T = TypeVar("T")

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_MAX_DEPTH = 8
_MAX_REPR = 1000
_PLAIN = frozenset({bool, float, bytes})


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
        batch = _each(spans, self._span, "redaction.export.span")
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
        attributes = _attributes(self._redactor, span.attributes or {}, span.dropped_attributes)
        events = _events(self._redactor, span.events, span.dropped_events)
        links = _links(self._redactor, span.links, span.dropped_links)
        status = span.status
        if status.description:
            description = self._redactor.redact_text(status.description)
            if description != status.description:
                status = Status(status.status_code, description)
        name = fix_surrogates(span.name)
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
                else _bounded(span.attributes or {}, span.dropped_attributes)
            ),
            events=(
                events
                if events is not None
                else _bounded_list(list(span.events), span.dropped_events)
            ),
            links=(
                links if links is not None else _bounded_list(list(span.links), span.dropped_links)
            ),
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )


class RedactingLogRecordExporter(LogRecordExporter):
    """Pass redacted copies of the log records (body and attributes) to `exporter`."""

    def __init__(self, exporter: LogRecordExporter, *, redactor: Redactor | None = None) -> None:
        """Wrap `exporter`; `redactor` defaults to `Redactor()`."""
        self._exporter = exporter
        self._redactor = redactor if redactor is not None else Redactor()

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        """Redact the batch item by item and export what could be redacted."""
        records = _each(batch, self._record, "redaction.export.log")
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
        record = readable.log_record
        body = _value(self._redactor, None, record.body, 0)
        attributes = _attributes(
            self._redactor, record.attributes or {}, readable.dropped_attributes
        )
        if body is record.body and attributes is None:
            return readable
        copy = _shallow_copy(record)
        copy.body = body
        if attributes is not None:
            copy.attributes = attributes
        return dataclasses.replace(readable, log_record=copy)


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

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Redact every data point and export the result."""
        try:
            data = self._metrics_data(metrics_data)
        except Exception as exc:
            if is_strict():
                raise
            report_internal_error("redaction.export.metrics", exc)
            return MetricExportResult.FAILURE
        return self._exporter.export(data, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown(timeout_millis=timeout_millis, **kwargs)

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
        points = _each(metric.data.data_points, self._point, "redaction.export.metric_point")
        if points is None:
            points = []
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
        attributes = _attributes(self._redactor, point.attributes or {}, 0)
        if attributes is not None:
            update["attributes"] = dict(attributes)
        exemplars: list[Any] = []
        for exemplar in point.exemplars:
            filtered = _attributes(self._redactor, exemplar.filtered_attributes or {}, 0)
            if filtered is not None:
                exemplar = dataclasses.replace(exemplar, filtered_attributes=dict(filtered))  # noqa: PLW2901 - rebinding is the point
                update["exemplars"] = exemplars
            exemplars.append(exemplar)
        return dataclasses.replace(point, **update) if update else point


# -- shared helpers ---------------------------------------------------------------------------


def _each(items: Sequence[T], fn: Callable[[T], T], site: str) -> list[T] | None:
    """Apply `fn` to every item, dropping (and reporting) the items it fails on.

    Returns None only if the batch itself cannot be iterated (the caller reports failure).
    """
    try:
        iterator = list(items)
    except Exception as exc:
        if is_strict():
            raise
        report_internal_error(site, exc)
        return None
    out: list[T] = []
    for item in iterator:
        try:
            out.append(fn(item))
        except Exception as exc:
            # Never export what could not be scrubbed; one bad item must not sink the batch.
            if is_strict():
                raise
            report_internal_error(site, exc)
    return out


def _attributes(
    redactor: Redactor, attributes: Mapping[str, Any], dropped: int
) -> BoundedAttributes | None:
    """Return redacted, encodable attributes (keeping the dropped count), or None if clean."""
    out: dict[str, Any] | None = None
    for key, value in attributes.items():
        name = fix_surrogates(key if type(key) is str else str(key))
        new = _value(redactor, name, value, 0)
        if new is not value or name is not key:
            if out is None:
                out = dict(attributes)
            if name is not key:
                del out[key]
            out[name] = new
    return None if out is None else _bounded(out, dropped)


def _bounded(attributes: Mapping[str, Any], dropped: int) -> BoundedAttributes:
    bounded = BoundedAttributes(maxlen=None, attributes=attributes, immutable=True)
    bounded.dropped = dropped
    return bounded


def _events(redactor: Redactor, events: Sequence[Event], dropped: int) -> BoundedList[Any] | None:
    out: list[Event] | None = None
    for index, event in enumerate(events):
        attributes = _attributes(redactor, event.attributes or {}, event.dropped_attributes)
        name = fix_surrogates(event.name)
        if attributes is not None or name is not event.name:
            if out is None:
                out = list(events)
            out[index] = Event(
                name, attributes if attributes is not None else event.attributes, event.timestamp
            )
    return None if out is None else _bounded_list(out, dropped)


def _links(redactor: Redactor, links: Sequence[Link], dropped: int) -> BoundedList[Any] | None:
    out: list[Link] | None = None
    for index, link in enumerate(links):
        attributes = _attributes(redactor, link.attributes or {}, link.dropped_attributes)
        if attributes is not None:
            if out is None:
                out = list(links)
            out[index] = Link(link.context, attributes)
    return None if out is None else _bounded_list(out, dropped)


def _bounded_list(items: list[Any], dropped: int) -> BoundedList[Any]:
    bounded = BoundedList.from_seq(None, items)
    bounded.dropped = dropped
    return bounded


def _value(redactor: Redactor, key: str | None, value: Any, depth: int) -> Any:
    """Return `value` redacted as stored under `key`, and made encodable for OTLP."""
    if key is not None and value is not None and redactor.is_sensitive(key):
        return MARKER
    kind = type(value)
    if kind is str:
        return redactor.redact_text(value)
    if kind is int:
        # OTLP's int_value is int64; the encoder would fail the whole batch on a bigger one.
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if kind in _PLAIN or value is None:
        return value
    return _container(redactor, value, depth)


def _container(redactor: Redactor, value: Any, depth: int) -> Any:
    if depth >= _MAX_DEPTH:
        return redactor.redact_text(_safe_repr(value))
    if isinstance(value, Mapping):
        pairs = [
            (fix_surrogates(str(k)), _value(redactor, str(k), v, depth + 1))
            for k, v in value.items()
        ]
        if all(new is old for (_, new), old in zip(pairs, value.values())):  # noqa: B905 - same length
            return value
        return dict(pairs)
    if isinstance(value, list | tuple):
        items = [_value(redactor, None, item, depth + 1) for item in value]
        if all(new is old for new, old in zip(items, value)):  # noqa: B905 - same length
            return value
        return items
    return redactor.redact_text(_safe_repr(value))


def _safe_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - user objects may raise anything from __repr__
        return f"<{type(value).__qualname__} object>"
    return fix_surrogates(text[:_MAX_REPR])


def _shallow_copy(record: Any) -> Any:
    """Copy an API `LogRecord` (a plain object) without re-running its constructor."""
    copy = object.__new__(type(record))
    copy.__dict__.update(record.__dict__)
    return copy
