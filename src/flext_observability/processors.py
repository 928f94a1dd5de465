"""`EntitySpanProcessor`: finished spans become `FlextTrace` entities, off the hot path.

`on_end` only appends the span to the entity pipeline's bounded queue; conversion, redaction,
alert rules and sinks run on the pipeline's worker. A span that was recorded but not sampled
(`setup()` records every span, see `_internal.derived`) is queued as a `span_stat`: it feeds the
derived metrics and the alert rules but never becomes an entity, unless `notable` keeps it.
Usable on its own with a hand-built `TracerProvider`::

    provider.add_span_processor(EntitySpanProcessor(sinks=[MemorySink()]))

Given `export` (a `SpanExportTap`, as `setup()` builds when it owns the TracerProvider), it is
also the export path: the pipeline's worker redacts each batch of spans once and hands the
sampled ones to the exporters, so no `BatchSpanProcessor` is needed (see
`_internal/export_lane.py`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from opentelemetry import baggage
from opentelemetry.context import Context, get_current
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from flext_observability._internal.export_lane import SpanExportTap
from flext_observability._internal.guard import guard
from flext_observability._internal.pipeline import Pipeline, build_pipeline
from flext_observability.sinks._base import Sink

__all__ = ["EntitySpanProcessor"]

# The key under which the Baggage API keeps its entries in a Context (private in the API, stable
# since 1.0). Reading it directly is one dict lookup per span start, where `baggage.get_all`
# also builds a MappingProxy every time; if it ever disappears, `get_all` is used instead.
_BAGGAGE_KEY: str | None = getattr(baggage, "_BAGGAGE_KEY", None)


class EntitySpanProcessor(SpanProcessor):
    """Maps every ended span to a `FlextTrace` delivered to the pipeline's sinks.

    Args:
        pipeline: a shared pipeline (as `setup()` builds); when omitted the processor owns one.
        sinks: sinks for an owned pipeline.
        capture_baggage: copy the parent context's baggage into the entity's `context`.
        notable: unsampled spans for which this returns True become entities anyway (failed or
            slow spans); the others only feed the derived metrics and the rules.
        export: the span exporters' tap; the processor owns it (flushes and shuts it down).
        shutdown_timeout: seconds `shutdown()` gives the pipeline and the exporters.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        sinks: Sequence[Sink] = (),
        capture_baggage: bool = True,
        notable: Callable[[ReadableSpan], bool] | None = None,
        export: SpanExportTap | None = None,
        shutdown_timeout: float = 5.0,
    ) -> None:
        """Attach to `pipeline`, or build and own one that delivers to `sinks`."""
        self._owned = pipeline is None
        self._pipeline = pipeline if pipeline is not None else build_pipeline(sinks=sinks)
        self._export = export
        self._shutdown_timeout = shutdown_timeout
        if export is not None:
            self._pipeline.set_span_tap(export)
        self._pipeline.start()
        self._capture_baggage = capture_baggage
        self._baggage: dict[int, dict[str, str]] = {}
        self._notable = notable
        self._detached = False

    def detach(self) -> None:
        """Stop queueing spans: `setup()` shut down, the provider is the application's.

        The SDK cannot remove a span processor, and the application's own processors carry on
        exporting; ours must then neither queue into a stopped pipeline nor warn about it.
        """
        self._detached = True

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline this processor feeds."""
        return self._pipeline

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Remember the parent's baggage, if any (one dict lookup when there is none)."""
        if not self._capture_baggage:
            return
        context = parent_context if parent_context is not None else get_current()
        if _BAGGAGE_KEY is not None and not context.get(_BAGGAGE_KEY):
            return  # the common case, no baggage: one dict lookup, no guarded call
        self._remember_baggage(span, context)

    # The guards of the per-span hooks are decorators: on the application thread, one call
    # (a `with` block costs two).
    @guard("EntitySpanProcessor.on_start")
    def _remember_baggage(self, span: Span, parent_context: Context | None) -> None:
        context = parent_context if parent_context is not None else get_current()
        entries = (
            context.get(_BAGGAGE_KEY) if _BAGGAGE_KEY is not None else baggage.get_all(context)
        )
        if entries and isinstance(entries, Mapping):
            span_id = span.get_span_context().span_id
            self._baggage[span_id] = {str(k): str(v) for k, v in entries.items()}

    @guard("EntitySpanProcessor.on_end")
    def on_end(self, span: ReadableSpan) -> None:
        """Queue the span for conversion; never blocks, never raises."""
        if self._detached:
            return
        context = span.context
        if context is not None and context.trace_flags.sampled and not self._baggage:
            self._pipeline.submit("span", span)  # the common case, first
            return
        if not (context is not None and context.trace_flags.sampled) and not (
            self._notable is not None and self._notable(span)
        ):  # recorded but not sampled: the derived metric and the rules only
            if self._baggage and context is not None:
                self._baggage.pop(context.span_id, None)
            self._pipeline.submit("span_stat", span)
            return
        if self._baggage:
            extra = self._baggage.pop(context.span_id, None) if context else None
            if extra is not None:
                self._pipeline.submit("span_with_baggage", (span, extra))
                return
        self._pipeline.submit("span", span)

    def shutdown(self) -> None:
        """Export what ended, stop the exporters; shut an owned pipeline down.

        A shared pipeline is shut down by its owner; it is only flushed here, so every span
        ended so far has reached the exporters before they stop.
        """
        deadline = time.monotonic() + self._shutdown_timeout
        try:
            if self._owned:
                self._pipeline.shutdown(self._shutdown_timeout)  # drains through the tap
            elif self._export is not None:
                self._pipeline.flush(self._shutdown_timeout)
            if self._export is not None:
                self._pipeline.set_span_tap(None)
                self._export.shutdown(max(0.0, deadline - time.monotonic()))
        finally:
            # Spans ending from now on are ignored, as the SDK's own processors do after their
            # shutdown (OpenTelemetry keeps a shut-down provider global: the app goes on).
            self.detach()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Deliver (and export) every span ended so far; False if the timeout expired."""
        deadline = time.monotonic() + timeout_millis / 1000
        ok = self._pipeline.flush(timeout_millis / 1000)
        if self._export is not None:
            ok = self._export.flush(max(0.0, deadline - time.monotonic())) and ok
        return ok
