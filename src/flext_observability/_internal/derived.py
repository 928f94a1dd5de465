"""Metrics derived before sampling, and the one noise policy.

How every span is seen although only some are exported:

- `RecordAllSampler` wraps the configured sampler. A span the sampler drops becomes a
  *record-only* span (`Decision.RECORD_ONLY`: recording, sampled flag unset), so span processors
  see its end; exporters' `BatchSpanProcessor`s skip it, as they skip every unsampled span. An
  excluded span (`NoisePolicy`) is dropped outright, and so are the local children of a dropped
  span.
- `EntitySpanProcessor.on_end` queues a sampled span as before (`span`: it becomes a
  `FlextTrace`), and an unsampled one as `span_stat`: on the pipeline worker it only feeds the
  derived histogram and the in-process span rules (a `SpanSample`), never the store.
- An unsampled span that failed, or took at least the slow threshold (`NoisePolicy.notable`), is
  queued as a `span` anyway: it becomes an entity and the export tap sends it (`as_sampled`: a
  copy with the sampled flag set; `_internal/export_lane.py`).

On the pipeline worker, `DerivedMetrics` records `flext.span.duration` (histogram, seconds;
`span.name`, `span.kind`, `status`) for every span and `flext.log.records` (counter; `logger`,
`level`) for every log record. The application thread's extra work is the record-only span
itself and one queue append.

Cardinality: `span.name` is the span name for spans carrying `http.route` (instrumentations name
them by route template); a server span with an HTTP method and no route (an unmatched path)
becomes the method alone, so unmatched paths collapse into one series per method. Every stream
is further bounded by `_internal.cardinality` (2000 series, then one overflow series).
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from flext_observability._internal import fork, span_durations
from flext_observability._internal.convert.trace import resource_service_name, span_attributes
from flext_observability._internal.guard import guard
from flext_observability.rules._samples import SpanSample
from flext_observability.settings._settings import DEFAULT_EXCLUDE

__all__ = [
    "DEFAULT_EXCLUDE",
    "SPAN_DURATION_BUCKETS",
    "DerivedMetrics",
    "NoisePolicy",
    "RecordAllSampler",
    "as_sampled",
    "span_label",
]


SPAN_DURATION_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
"""Bucket bounds of `flext.span.duration` (s): those of `http.server.request.duration`."""

_PATH_KEYS = ("url.path", "http.target", "http.route")
_METHOD_KEYS = ("http.request.method", "http.method")
_KIND = {kind: kind.name.lower() for kind in SpanKind}
_STATUS = {StatusCode.UNSET: "unset", StatusCode.OK: "ok", StatusCode.ERROR: "error"}
_NOT_RECORDED = SamplingResult(Decision.DROP)
_SCOPE = "flext_observability.derived"
_DURATION_NAME = "flext.span.duration"
_DURATION_DESCRIPTION = "Duration of every span, recorded before sampling."


class NoisePolicy:
    """What is excluded from every signal, and which unsampled spans are kept anyway.

    Args:
        exclude: Globs matched (case-sensitively) against URL paths (query stripped), span
            names and logger names.
        slow_ms: An unsampled span lasting at least this long is exported anyway.
    """

    def __init__(
        self, exclude: Sequence[str] = DEFAULT_EXCLUDE, *, slow_ms: float = 1000.0
    ) -> None:
        """Keep the globs: plain names in a set, the others in one regex (`fnmatchcase`'s)."""
        self.exclude = tuple(pattern for pattern in exclude if pattern)
        self.slow_ns = int(slow_ms * 1_000_000)
        # Asked for every span start on the application thread, with URL paths that rarely
        # repeat: one set lookup, and one match of the globs' union (fnmatch's own translation),
        # instead of a match per glob.
        globs = [pattern for pattern in self.exclude if any(c in pattern for c in "*?[")]
        self._plain = frozenset(self.exclude) - frozenset(globs)
        self._globs = (
            re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in globs)).match
            if globs
            else None
        )

    def excluded(self, name: str) -> bool:
        """Whether a path, span name or logger name matches an exclusion glob."""
        if name in self._plain:
            return True
        globs = self._globs
        return globs is not None and globs(name) is not None

    def excluded_span(self, name: str, attributes: Attributes) -> bool:
        """Whether a span (by name, or by its URL path / route attribute) is excluded."""
        if not self.exclude:
            return False
        plain, globs = self._plain, self._globs  # `excluded`, inlined: every span start
        if name in plain or (globs is not None and globs(name) is not None):
            return True
        if attributes:
            for key in _PATH_KEYS:
                value = attributes.get(key)
                if isinstance(value, str):
                    path = value.partition("?")[0] if "?" in value else value
                    if path in plain or (globs is not None and globs(path) is not None):
                        return True
        return False

    def notable(self, span: ReadableSpan) -> bool:
        """Whether a span failed or was slow (kept whatever the sampling decision)."""
        if span.status.status_code is StatusCode.ERROR:
            return True
        start, end = span.start_time, span.end_time
        return start is not None and end is not None and end - start >= self.slow_ns


_SAMPLER_GUARD = guard("RecordAllSampler")  # one instance: this runs at every span start


class RecordAllSampler(Sampler):
    """Turns the wrapped sampler's drops into record-only spans; drops excluded spans."""

    def __init__(self, inner: Sampler, policy: NoisePolicy) -> None:
        """Wrap `inner`."""
        self._inner = inner
        self._policy = policy

    def should_sample(  # noqa: PLR0917 - the Sampler interface
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        """Ask the wrapped sampler; a drop becomes RECORD_ONLY unless the span is excluded.

        Our own step failing falls back to the wrapped sampler's decision (reported once).
        """
        excluded = False
        with _SAMPLER_GUARD:
            parent = trace.get_current_span(parent_context)
            if isinstance(parent, trace.NonRecordingSpan):
                context = parent.get_span_context()
                if context.is_valid and not context.is_remote:
                    return _NOT_RECORDED  # the child of an excluded (dropped) span
            excluded = self._policy.excluded_span(name, attributes)
        if excluded:
            return _NOT_RECORDED
        result = self._inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )
        if result.decision is Decision.DROP:
            return SamplingResult(Decision.RECORD_ONLY, result.attributes, result.trace_state)
        return result

    def get_description(self) -> str:
        """Describe the wrapped sampler."""
        return f"RecordAll{{{self._inner.get_description()}}}"


def as_sampled(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` whose context says sampled (a notable unsampled span, exported)."""
    context = span.context
    assert context is not None
    flags = TraceFlags(context.trace_flags | TraceFlags.SAMPLED)
    sampled = SpanContext(
        context.trace_id, context.span_id, context.is_remote, flags, context.trace_state
    )
    return ReadableSpan(
        name=span.name,
        context=sampled,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def span_label(span: ReadableSpan) -> str:
    """The `span.name` label: the span name, or the HTTP method for a route-less server span."""
    attributes = span_attributes(span)
    if span.kind is SpanKind.SERVER and not attributes.get("http.route"):
        for key in _METHOD_KEYS:
            method = attributes.get(key)
            if isinstance(method, str) and method:
                return method
    return span.name or "unnamed"


class DerivedMetrics:
    """Records the derived instruments on the pipeline worker (no-ops until `bind`)."""

    def __init__(self, policy: NoisePolicy) -> None:
        """Start unbound: spans still become samples for the rules."""
        self.policy = policy
        self._duration: Histogram | None = None
        self._durations: span_durations.SpanDurations | None = None
        self._records: Counter | None = None
        self._log_counts: dict[tuple[str, str], int] = {}
        self._log_lock = threading.Lock()
        fork.register(self, after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        """A forked child counts its own records (the parent adds what it had counted)."""
        self._log_lock = threading.Lock()
        self._log_counts = {}

    def bind(
        self,
        provider: MeterProvider,
        readers: Sequence[MetricReader] | None = None,
        resource: Resource | None = None,
    ) -> None:
        """Create the instruments on `provider`.

        `readers` (every reader of a provider setup built) and its `resource`: the durations are
        then aggregated here and handed to each reader (`SpanDurations`) when they can take
        them, else recorded through the SDK histogram.
        """
        meter = provider.get_meter(_SCOPE)
        if (
            readers is not None
            and resource is not None
            and span_durations.usable(provider, readers)
        ):
            durations = span_durations.SpanDurations(
                _DURATION_NAME,
                _DURATION_DESCRIPTION,
                "s",
                SPAN_DURATION_BUCKETS,
                InstrumentationScope(_SCOPE),
                resource,
            )
            for reader in readers:
                durations.attach(reader)
            self._durations = durations
        else:
            self._duration = meter.create_histogram(
                _DURATION_NAME,
                unit="s",
                description=_DURATION_DESCRIPTION,
                explicit_bucket_boundaries_advisory=SPAN_DURATION_BUCKETS,
            )
        self._records = meter.create_counter(
            "flext.log.records",
            unit="{record}",
            description="Log records, by logger and level.",
        )

    def span(self, span: ReadableSpan) -> SpanSample | None:
        """Record one ended span; return its sample for the rules (None when excluded)."""
        recorded = self._record_span(span)
        if recorded is None:
            return None
        label, status, seconds = recorded
        context = span.context
        return SpanSample(
            operation_name=label,
            service_name=resource_service_name(span.resource),
            error=status == "error",
            duration_ms=seconds * 1000,
            trace_id=format(context.trace_id, "032x") if context else "",
            span_id=format(context.span_id, "016x") if context else "",
        )

    def recorded(self, span: ReadableSpan) -> bool:
        """Record one ended span that becomes an entity; False when it is excluded.

        `span` without its sample: a sampled span reaches the rules as its entity.
        """
        return self._record_span(span) is not None

    def _record_span(self, span: ReadableSpan) -> tuple[str, str, float] | None:
        """Record the duration; (label, status, seconds), or None when the span is excluded."""
        if self.policy.excluded_span(span.name, span_attributes(span)):
            return None
        start, end = span.start_time, span.end_time
        seconds = max(end - start, 0) / 1e9 if start is not None and end is not None else 0.0
        label = span_label(span)
        status = _STATUS.get(span.status.status_code, "unset")
        if self._durations is not None:
            self._durations.record((label, _KIND[span.kind], status), seconds)
        elif self._duration is not None:
            self._duration.record(
                seconds, {"span.name": label, "span.kind": _KIND[span.kind], "status": status}
            )
        return label, status, seconds

    def log(self, logger: str, level: str) -> bool:
        """Count one log record; False when its logger is excluded (the record is dropped).

        Counted here and added to `flext.log.records` by `flush_counts`, once per logger and
        level per batch: one SDK measurement costs more than converting the record.
        """
        if self.policy.excluded(logger):
            return False
        if self._records is not None:
            key = (logger, level)
            with self._log_lock:
                self._log_counts[key] = self._log_counts.get(key, 0) + 1
        return True

    def flush_counts(self) -> None:
        """Add the log records counted since the last call to `flext.log.records`."""
        records = self._records
        with self._log_lock:
            counts, self._log_counts = self._log_counts, {}
        if records is None:
            return
        for (logger, level), count in counts.items():
            records.add(count, {"logger": logger, "level": level})


SpanKindOfPayload = Literal["span", "span_with_baggage", "span_stat"]
"""The pipeline payload kinds that carry a span."""


def span_converters(
    derived: DerivedMetrics,
    to_entity: Callable[[ReadableSpan, Any], Iterable[Any]],
) -> dict[SpanKindOfPayload, Callable[[Any], Iterable[Any]]]:
    """Converters for `span`, `span_with_baggage` and `span_stat` that also record the metric."""

    def sampled(span: ReadableSpan) -> Iterable[Any]:
        return to_entity(span, None) if derived.recorded(span) else ()

    def with_baggage(item: tuple[ReadableSpan, dict[str, str]]) -> Iterable[Any]:
        return to_entity(item[0], item[1]) if derived.recorded(item[0]) else ()

    def stat(span: ReadableSpan) -> Iterable[Any]:
        sample = derived.span(span)
        return (sample,) if sample is not None else ()

    return {"span": sampled, "span_with_baggage": with_baggage, "span_stat": stat}
