"""Machinery behind `flext_monitor_function`: per-function call sites and their instruments.

A `CallSite` is built once per decorated function. It precomputes the span name and every
attribute dict, so a call costs one `start_span`, one context attach/detach, two
`perf_counter_ns` reads, one `span.end()` and two metric recordings.

Our own failures (a broken provider, a raising `__str__`) never reach the caller: they go to
the internal-error guard; only in strict mode are they re-raised, and never while the wrapped
function's own exception is in flight (that exception is always the one that propagates).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from time import perf_counter_ns
from typing import Final

from opentelemetry import context as context_api
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from flext_observability._internal.guard import guard
from flext_observability._internal.text import safe_str

__all__ = [
    "SCOPE",
    "CallSite",
    "Started",
    "Telemetry",
    "error_type_name",
    "reset_instruments",
]

SCOPE: Final = "flext_observability"
"""Instrumentation scope name of our tracer and meter (the package name)."""

DURATION_NAME: Final = "flext.function.duration"
CALLS_NAME: Final = "flext.function.calls"
_MAX_ERROR_TYPES: Final = 64  # per function; beyond this the attribute dict is built per call
_GUARD = guard("monitor")
# While the wrapped function's own exception is in flight, ours is only reported, even in
# strict mode: the user's exception is always the one that propagates.
_QUIET_GUARD = guard("monitor", reraise=False)


DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
"""Bucket bounds of `flext.function.duration`, in seconds (semantic-conventions durations)."""


class CallTally:
    """Counts calls per attribute set for the asynchronous `flext.function.calls` counter.

    The SDK's synchronous `Counter.add` costs several microseconds per call (attribute cleaning,
    hashing, locking); a locked dict increment costs a fraction of that, and the observable
    counter reports the same monotonic sum at each collection. Keys are bounded: a function
    name, an outcome and an error type.
    """

    __slots__ = ("_attributes", "_counts", "_lock")

    def __init__(self) -> None:
        """Start with no calls."""
        self._lock = threading.Lock()
        self._counts: dict[tuple[object, ...], int] = {}
        self._attributes: dict[tuple[object, ...], dict[str, AttributeValue]] = {}

    def add(self, attributes: dict[str, AttributeValue]) -> None:
        """Count one call with these (precomputed) attributes."""
        key = (
            attributes["code.function.name"],
            attributes["outcome"],
            attributes.get("error.type"),
        )
        with self._lock:
            count = self._counts.get(key)
            if count is None:
                self._attributes[key] = attributes
                self._counts[key] = 1
            else:
                self._counts[key] = count + 1

    def observe(self, _options: metrics.CallbackOptions) -> list[metrics.Observation]:
        """Report the cumulative count of every attribute set."""
        with self._lock:
            return [
                metrics.Observation(count, self._attributes[key])
                for key, count in self._counts.items()
            ]


@dataclass(frozen=True, slots=True)
class Telemetry:
    """The tracer, the duration histogram and the call tally decorated functions record into."""

    tracer: trace.Tracer
    duration: metrics.Histogram
    calls: CallTally

    @classmethod
    def build(
        cls,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
    ) -> Telemetry:
        """Create the tracer and instruments (from the global API proxies when `None`)."""
        tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, meter_provider=meter_provider)
        calls = CallTally()
        meter.create_observable_counter(
            CALLS_NAME,
            callbacks=[calls.observe],
            unit="{call}",
            description="Number of monitored function calls.",
        )
        return cls(
            tracer=tracer,
            duration=meter.create_histogram(
                DURATION_NAME,
                unit="s",
                description="Duration of monitored function calls.",
                # Seconds, not the SDK's millisecond-shaped defaults (semconv duration buckets).
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            ),
            calls=calls,
        )


_global_lock = threading.Lock()
_global: Telemetry | None = None


def _global_telemetry() -> Telemetry:
    # The API's proxy tracer and proxy instruments forward to the real providers once
    # `set_tracer_provider` / `set_meter_provider` run, so one lazily built set serves both
    # before and after setup.
    global _global  # noqa: PLW0603 - the one process-wide cache of proxy instruments
    current = _global
    if current is None:
        with _global_lock:
            if _global is None:
                _global = Telemetry.build(None, None)
            current = _global
    return current


def reset_instruments() -> None:
    """Forget the cached global tracer and instruments (tests that reset OTel's globals)."""
    global _global  # noqa: PLW0603 - see _global_telemetry
    with _global_lock:
        _global = None


def error_type_name(exc_type: type[BaseException]) -> str:
    """Return the `error.type` value: the class's module-qualified name (builtins bare).

    The same form the SDK writes as `exception.type` on the span's exception event.
    """
    module = getattr(exc_type, "__module__", None)
    qualname = getattr(exc_type, "__qualname__", exc_type.__name__)
    return f"{module}.{qualname}" if module and module != "builtins" else qualname


@dataclass(slots=True)
class Started:
    """One call in progress: its span, the context it runs in, and its start time.

    `failed` marks a call whose span could not be started: it runs in the caller's context
    and records nothing.
    """

    span: trace.Span
    context: Context
    start_ns: int
    failed: bool = False


class CallSite:
    """Everything precomputed for one decorated function."""

    __slots__ = (
        "_error_attrs",
        "_meter_provider",
        "_ok_attrs",
        "_span_attrs",
        "_telemetry",
        "_tracer_provider",
        "function_name",
        "span_name",
    )

    def __init__(
        self,
        *,
        span_name: str,
        function_name: str,
        attributes: Mapping[str, AttributeValue],
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
    ) -> None:
        """Precompute names and attribute dicts; instruments are created on first call."""
        self.span_name = span_name
        self.function_name = function_name
        self._span_attrs: dict[str, AttributeValue] = {
            **attributes,
            "code.function.name": function_name,
        }
        self._ok_attrs: dict[str, AttributeValue] = {
            "code.function.name": function_name,
            "outcome": "success",
        }
        self._error_attrs: dict[type[BaseException], dict[str, AttributeValue]] = {}
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._telemetry: Telemetry | None = None

    def telemetry(self) -> Telemetry:
        """Return this site's tracer and instruments (the shared global set by default)."""
        if self._tracer_provider is None and self._meter_provider is None:
            return _global_telemetry()
        if self._telemetry is None:
            self._telemetry = Telemetry.build(self._tracer_provider, self._meter_provider)
        return self._telemetry

    def start(self) -> Started:
        """Start the span (the caller makes `Started.context` current around the body)."""
        with _GUARD:
            span = self.telemetry().tracer.start_span(
                self.span_name, kind=SpanKind.INTERNAL, attributes=self._span_attrs
            )
            return Started(span, trace.set_span_in_context(span), perf_counter_ns())
        return Started(trace.INVALID_SPAN, context_api.get_current(), 0, failed=True)

    def finish(self, started: Started, exc: BaseException | None) -> None:
        """End the span and record both metrics; `exc` is what the call raised, if anything.

        Only `Exception` subclasses are errors (as in OTel's `use_span`): `GeneratorExit`,
        `KeyboardInterrupt`, `SystemExit` and `asyncio.CancelledError` end the call as a
        success. Never raises while `exc` is an error in flight.
        """
        if started.failed:
            return
        elapsed = (perf_counter_ns() - started.start_ns) / 1e9
        with _QUIET_GUARD if isinstance(exc, Exception) else _GUARD:
            attrs = self._ok_attrs
            if isinstance(exc, Exception):
                attrs = self._error_attrs_for(type(exc))
                _mark_error(started.span, exc, attrs["error.type"])
            started.span.end()
            tel = self.telemetry()
            tel.duration.record(elapsed, attrs)
            # Count a call only when the histogram really records it: before a MeterProvider
            # is set, the API's proxy instrument has no real instrument and drops the
            # measurement, so the two metrics always agree.
            if getattr(tel.duration, "_real_instrument", tel.duration) is not None:
                tel.calls.add(attrs)

    def _error_attrs_for(self, exc_type: type[BaseException]) -> dict[str, AttributeValue]:
        attrs = self._error_attrs.get(exc_type)
        if attrs is None:
            attrs = {
                "code.function.name": self.function_name,
                "outcome": "error",
                "error.type": error_type_name(exc_type),
            }
            if len(self._error_attrs) < _MAX_ERROR_TYPES:
                self._error_attrs[exc_type] = attrs
        return attrs


def _mark_error(span: trace.Span, exc: Exception, error_type: AttributeValue) -> None:
    """Set error status and attributes and record the exception event; never raises.

    Runs while the user's exception is in flight, so even in strict mode a failure here is only
    reported: the user's exception is always the one that propagates.
    """
    with _QUIET_GUARD:  # e.g. a raising __str__ loses only the event
        if span.is_recording():
            span.set_attribute("error.type", error_type)
            message = safe_str(exc, fallback="<unprintable>")
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {message}"))
            span.record_exception(exc)
