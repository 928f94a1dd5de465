"""`flext_monitor_function` against the real OpenTelemetry SDK."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from flext_observability._internal import guard as _guard
from flext_observability.exceptions import ConfigurationError
from flext_observability.monitor import flext_monitor_function
from flext_observability.testing import reset_opentelemetry_globals, strict_mode

MOD = __name__


@dataclass
class SdkEnds:
    """The in-memory ends of one real SDK setup."""

    spans: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def span_dicts(self) -> list[dict[str, Any]]:
        """Return every finished span as a plain dict."""
        return [span_dict(span) for span in self.spans.get_finished_spans()]

    def points(self) -> list[dict[str, Any]]:
        """Return our metric points as plain dicts, sorted by name and attributes."""
        return metric_points(self.reader)


def span_dict(span: ReadableSpan) -> dict[str, Any]:
    """Flatten the parts of a span the decorator controls."""
    return {
        "name": span.name,
        "kind": span.kind,
        "attributes": dict(span.attributes or {}),
        "status": (span.status.status_code, span.status.description),
        "events": [
            (event.name, (event.attributes or {}).get("exception.type")) for event in span.events
        ],
        "scope": span.instrumentation_scope.name if span.instrumentation_scope else None,
    }


def metric_points(reader: InMemoryMetricReader) -> list[dict[str, Any]]:
    """Collect the `flext_observability` scope's points: name, unit, attributes, count/value."""
    data = reader.get_metrics_data()
    out: list[dict[str, Any]] = []
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            if scope.scope.name != "flext_observability":
                continue
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if isinstance(point, HistogramDataPoint):
                        value: Any = ("count", point.count, point.sum >= 0)
                    else:
                        assert isinstance(point, NumberDataPoint)
                        value = ("value", point.value)
                    out.append(
                        {
                            "name": metric.name,
                            "unit": metric.unit,
                            "attributes": dict(point.attributes or {}),
                            "data": value,
                        }
                    )
    return sorted(out, key=lambda p: (p["name"], sorted(p["attributes"].items())))


def expected_points(function: str, calls: int, error: str | None = None) -> list[dict[str, Any]]:
    """The two points one function's `calls` calls with one outcome produce."""
    attrs: dict[str, Any] = {"code.function.name": function, "outcome": "success"}
    if error is not None:
        attrs = {**attrs, "outcome": "error", "error.type": error}
    return [
        {
            "name": "flext.function.calls",
            "unit": "{call}",
            "attributes": attrs,
            "data": ("value", calls),
        },
        {
            "name": "flext.function.duration",
            "unit": "s",
            "attributes": attrs,
            "data": ("count", calls, True),
        },
    ]


def ok_span(name: str, function: str, **extra: Any) -> dict[str, Any]:
    """The span of a successful call."""
    return {
        "name": name,
        "kind": trace.SpanKind.INTERNAL,
        "attributes": {**extra, "code.function.name": function},
        "status": (trace.StatusCode.UNSET, None),
        "events": [],
        "scope": "flext_observability",
    }


def error_span(name: str, function: str, error: str, description: str) -> dict[str, Any]:
    """The span of a call that raised."""
    return {
        "name": name,
        "kind": trace.SpanKind.INTERNAL,
        "attributes": {"code.function.name": function, "error.type": error},
        "status": (trace.StatusCode.ERROR, description),
        "events": [("exception", error)],
        "scope": "flext_observability",
    }


def make_capture() -> SdkEnds:
    """Build a real SDK setup with in-memory ends (not installed globally)."""
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    return SdkEnds(spans, reader, tracer_provider, MeterProvider(metric_readers=[reader]))


@pytest.fixture
def no_otel() -> Iterator[None]:
    """No providers set at all: the decorator sees only the API's proxies."""
    reset_opentelemetry_globals()
    _guard.reset_internal_errors()
    yield
    reset_opentelemetry_globals()


@pytest.fixture
def otel(no_otel: None) -> Iterator[SdkEnds]:
    """A real SDK installed as the global tracer and meter providers."""
    capture = make_capture()
    trace.set_tracer_provider(capture.tracer_provider)
    metrics.set_meter_provider(capture.meter_provider)
    yield capture
    capture.tracer_provider.shutdown()
    capture.meter_provider.shutdown()


class PaymentDeclinedError(Exception):
    """A user-defined error type."""


# --- sync functions -----------------------------------------------------------------------


def test_sync_success_records_span_and_metrics(otel: SdkEnds) -> None:
    """A sync call returns its result unchanged, with one span and one success point each."""
    sentinel = object()

    @flext_monitor_function
    def lookup(x: int) -> object:
        return sentinel if x == 1 else None

    assert lookup(1) is sentinel
    qual = "test_sync_success_records_span_and_metrics.<locals>.lookup"
    assert otel.span_dicts() == [ok_span(qual, f"{MOD}.{qual}")]
    assert otel.points() == expected_points(f"{MOD}.{qual}", 1)


def test_sync_error_reraises_same_exception(otel: SdkEnds) -> None:
    """The very exception object propagates with its traceback; span and metrics say error."""
    boom = PaymentDeclinedError("card 42 declined")

    @flext_monitor_function("pay")
    def pay() -> None:
        raise boom

    with pytest.raises(PaymentDeclinedError) as info:
        pay()
    assert info.value is boom
    assert boom.__context__ is None
    assert boom.__cause__ is None
    tb = boom.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code is pay.__wrapped__.__code__  # type: ignore[attr-defined]
    qual = "test_sync_error_reraises_same_exception.<locals>.pay"
    err = f"{MOD}.PaymentDeclinedError"
    assert otel.span_dicts() == [
        error_span("pay", f"{MOD}.{qual}", err, "PaymentDeclinedError: card 42 declined")
    ]
    assert otel.points() == expected_points(f"{MOD}.{qual}", 1, err)


def test_builtin_error_type_is_bare(otel: SdkEnds) -> None:
    """A builtin exception's `error.type` is its bare class name; both outcomes are counted."""

    @flext_monitor_function(name="parse")
    def parse(text: str) -> int:
        return int(text)

    assert parse("7") == 7
    assert parse("8") == 8
    with pytest.raises(ValueError, match="invalid literal"):
        parse("x")
    qual = f"{MOD}.test_builtin_error_type_is_bare.<locals>.parse"
    assert otel.points() == sorted(
        expected_points(qual, 2) + expected_points(qual, 1, "ValueError"),
        key=lambda p: (p["name"], sorted(p["attributes"].items())),
    )


# --- coroutines -----------------------------------------------------------------------------


def test_coroutine_success_and_error(otel: SdkEnds) -> None:
    """A coroutine's span covers the awaited body; result and exception pass through."""

    @flext_monitor_function
    async def fetch(fail: bool) -> str:
        await asyncio.sleep(0)
        if fail:
            raise PaymentDeclinedError("nope")
        return "body"

    assert inspect.iscoroutinefunction(fetch)
    assert asyncio.run(fetch(False)) == "body"
    boom: list[BaseException] = []

    async def failing() -> None:
        try:
            await fetch(True)
        except PaymentDeclinedError as exc:
            boom.append(exc)

    asyncio.run(failing())
    assert [type(exc) for exc in boom] == [PaymentDeclinedError]
    qual = "test_coroutine_success_and_error.<locals>.fetch"
    err = f"{MOD}.PaymentDeclinedError"
    assert otel.span_dicts() == [
        ok_span(qual, f"{MOD}.{qual}"),
        error_span(qual, f"{MOD}.{qual}", err, "PaymentDeclinedError: nope"),
    ]


def test_cancelled_coroutine_is_not_an_error(otel: SdkEnds) -> None:
    """`CancelledError` propagates unchanged and the call counts as a success."""

    @flext_monitor_function
    async def slow() -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        task = asyncio.create_task(slow())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    qual = "test_cancelled_coroutine_is_not_an_error.<locals>.slow"
    assert otel.span_dicts() == [ok_span(qual, f"{MOD}.{qual}")]
    assert otel.points() == expected_points(f"{MOD}.{qual}", 1)


# --- generators -----------------------------------------------------------------------------


def test_generator_span_covers_iteration_and_is_current_only_inside(otel: SdkEnds) -> None:
    """The span ends at exhaustion, is current inside the body only, and keeps the return value."""
    inside: list[bool] = []

    @flext_monitor_function
    def numbers() -> Iterator[int]:
        for i in range(3):
            inside.append(trace.get_current_span().get_span_context().is_valid)
            yield i

    def consume() -> Iterator[int]:
        return (yield from numbers())

    assert inspect.isgeneratorfunction(numbers)
    seen = []
    for item in numbers():
        seen.append(item)
        assert not trace.get_current_span().get_span_context().is_valid
        assert otel.span_dicts() == []
    assert seen == [0, 1, 2]
    assert inside == [True, True, True]
    assert list(consume()) == [0, 1, 2]
    qual = "test_generator_span_covers_iteration_and_is_current_only_inside.<locals>.numbers"
    assert otel.span_dicts() == [ok_span(qual, f"{MOD}.{qual}")] * 2


def test_generator_send_throw_return_and_close(otel: SdkEnds) -> None:
    """send/throw are forwarded, the return value survives, early close is a success."""

    @flext_monitor_function(name="echo")
    def echo() -> Any:
        received: list[str] = []
        try:
            while True:
                try:
                    value = yield len(received)
                except KeyError:
                    value = "thrown"
                if value == "stop":
                    return received
                received.append(value)
        finally:
            received.append("closed")

    gen = echo()
    assert next(gen) == 0
    assert gen.send("a") == 1
    assert gen.throw(KeyError("k")) == 2
    with pytest.raises(StopIteration) as stop:
        gen.send("stop")
    assert stop.value.value == ["a", "thrown", "closed"]

    early = echo()
    assert next(early) == 0
    early.close()
    func = f"{MOD}.test_generator_send_throw_return_and_close.<locals>.echo"
    assert otel.span_dicts() == [ok_span("echo", func), ok_span("echo", func)]
    assert otel.points() == expected_points(func, 2)


def test_generator_error_midway(otel: SdkEnds) -> None:
    """An exception raised mid-iteration propagates unchanged and marks the span as error."""
    boom = PaymentDeclinedError("third")

    @flext_monitor_function
    def items() -> Iterator[int]:
        yield 1
        raise boom

    it = items()
    assert next(it) == 1
    with pytest.raises(PaymentDeclinedError) as info:
        next(it)
    assert info.value is boom
    qual = "test_generator_error_midway.<locals>.items"
    err = f"{MOD}.PaymentDeclinedError"
    assert otel.span_dicts() == [
        error_span(qual, f"{MOD}.{qual}", err, "PaymentDeclinedError: third")
    ]


# --- async generators -------------------------------------------------------------------------


def test_async_generator_success_error_and_aclose(otel: SdkEnds) -> None:
    """Async generators: full iteration, error midway and early aclose are all recorded."""

    @flext_monitor_function
    async def ticks(fail: bool) -> AsyncGenerator[int, None]:
        for i in range(3):
            await asyncio.sleep(0)
            if fail and i == 1:
                raise PaymentDeclinedError("tick")
            yield i

    assert inspect.isasyncgenfunction(ticks)

    async def main() -> tuple[list[int], str, int]:
        full = [i async for i in ticks(False)]
        with pytest.raises(PaymentDeclinedError) as info:
            _ = [i async for i in ticks(True)]
        early = ticks(False)
        first = await anext(early)
        await early.aclose()
        return full, str(info.value), first

    assert asyncio.run(main()) == ([0, 1, 2], "tick", 0)
    qual = "test_async_generator_success_error_and_aclose.<locals>.ticks"
    err = f"{MOD}.PaymentDeclinedError"
    assert otel.span_dicts() == [
        ok_span(qual, f"{MOD}.{qual}"),
        error_span(qual, f"{MOD}.{qual}", err, "PaymentDeclinedError: tick"),
        ok_span(qual, f"{MOD}.{qual}"),
    ]


def test_async_generator_asend_and_athrow(otel: SdkEnds) -> None:
    """asend/athrow reach the wrapped async generator."""

    @flext_monitor_function
    async def acc() -> AsyncGenerator[int, int | None]:
        total = 0
        while True:
            try:
                total += (yield total) or 0
            except KeyError:
                total = -1

    async def main() -> list[int]:
        gen = acc()
        out = [await gen.asend(None), await gen.asend(5), await gen.athrow(KeyError("x"))]
        await gen.aclose()
        return out

    assert asyncio.run(main()) == [0, 5, -1]
    assert len(otel.span_dicts()) == 1


# --- forms, methods, metadata -------------------------------------------------------------------


def test_decorator_forms_and_attributes(otel: SdkEnds) -> None:
    """Bare, called, named and keyword forms name the span; attributes go on the span only."""

    @flext_monitor_function
    def bare() -> int:
        return 1

    @flext_monitor_function()
    def called() -> int:
        return 2

    @flext_monitor_function("named")
    def positional() -> int:
        return 3

    @flext_monitor_function(name="kw", attributes={"tier": "gold", "ids": [1, 2]})
    def keyword() -> int:
        return 4

    assert [bare(), called(), positional(), keyword()] == [1, 2, 3, 4]
    prefix = f"{MOD}.test_decorator_forms_and_attributes.<locals>."
    local = "test_decorator_forms_and_attributes.<locals>."
    assert otel.span_dicts() == [
        ok_span(f"{local}bare", f"{prefix}bare"),
        ok_span(f"{local}called", f"{prefix}called"),
        ok_span("named", f"{prefix}positional"),
        ok_span("kw", f"{prefix}keyword", tier="gold", ids=(1, 2)),
    ]
    assert [p["attributes"]["code.function.name"] for p in otel.points()][:4] == [
        f"{prefix}bare",
        f"{prefix}called",
        f"{prefix}keyword",
        f"{prefix}positional",
    ]


class Shop:
    """Methods decorated in every supported order."""

    def __init__(self) -> None:
        """Hold a price."""
        self.price = 10

    @flext_monitor_function
    def total(self, n: int) -> int:
        """Multiply."""
        return self.price * n

    @staticmethod
    @flext_monitor_function
    def static_under(x: int) -> int:
        """Static, decorator under."""
        return x + 1

    @flext_monitor_function
    @staticmethod
    def static_over(x: int) -> int:
        """Static, decorator over."""
        return x + 2

    @classmethod
    @flext_monitor_function
    def class_under(cls, x: int) -> str:
        """Class method, decorator under."""
        return f"{cls.__name__}{x}"

    @flext_monitor_function
    @classmethod
    def class_over(cls, x: int) -> str:
        """Class method, decorator over."""
        return f"{cls.__name__}-{x}"


def test_methods_static_and_class_methods(otel: SdkEnds) -> None:
    """Methods work in both decorator orders and spans carry the class-qualified name."""
    shop = Shop()
    assert shop.total(3) == 30
    assert Shop.static_under(1) == 2
    assert shop.static_over(1) == 3
    assert Shop.class_under(4) == "Shop4"
    assert shop.class_over(5) == "Shop-5"
    names = ["total", "static_under", "static_over", "class_under", "class_over"]
    assert otel.span_dicts() == [ok_span(f"Shop.{n}", f"{MOD}.Shop.{n}") for n in names]


def test_signature_and_metadata_preserved(no_otel: None) -> None:
    """functools.wraps keeps name, doc, module, signature, annotations and __wrapped__."""

    def original(a: int, /, b: str = "x", *args: int, c: float, **kw: bool) -> str:
        """Say something."""
        return f"{a}{b}{args}{c}{kw}"

    wrapped = flext_monitor_function(original)
    assert (wrapped.__name__, wrapped.__qualname__, wrapped.__doc__, wrapped.__module__) == (
        original.__name__,
        original.__qualname__,
        original.__doc__,
        original.__module__,
    )
    assert inspect.signature(wrapped) == inspect.signature(original)
    assert wrapped.__wrapped__ is original  # type: ignore[attr-defined]
    assert wrapped(1, "y", 2, c=0.5, d=True) == original(1, "y", 2, c=0.5, d=True)
    assert not inspect.iscoroutinefunction(wrapped)
    assert not inspect.isgeneratorfunction(wrapped)


# --- without setup, late setup, injected providers, internal failures ---------------------------


def test_works_without_any_setup(no_otel: None) -> None:
    """With no provider set at all, results and exceptions pass through untouched."""
    boom = PaymentDeclinedError("x")

    @flext_monitor_function
    def ok() -> str:
        return "fine"

    @flext_monitor_function
    def bad() -> None:
        raise boom

    assert ok() == "fine"
    with pytest.raises(PaymentDeclinedError) as info:
        bad()
    assert info.value is boom
    assert _guard.internal_error_counts() == {}


def test_instruments_created_before_setup_record_after(no_otel: None) -> None:
    """Calls before the providers are set are no-ops; the same proxies record once they are."""

    @flext_monitor_function("late")
    def work() -> int:
        return 5

    assert work() == 5  # creates the cached proxy tracer and instruments
    capture = make_capture()
    trace.set_tracer_provider(capture.tracer_provider)
    metrics.set_meter_provider(capture.meter_provider)
    try:
        assert work() == 5
        func = f"{MOD}.test_instruments_created_before_setup_record_after.<locals>.work"
        assert capture.span_dicts() == [ok_span("late", func)]
        assert capture.points() == expected_points(func, 1)
    finally:
        capture.tracer_provider.shutdown()
        capture.meter_provider.shutdown()


def test_injected_providers(otel: SdkEnds) -> None:
    """tracer_provider=/meter_provider= record there and not into the global providers."""
    own = make_capture()

    @flext_monitor_function(tracer_provider=own.tracer_provider, meter_provider=own.meter_provider)
    def isolated() -> int:
        return 9

    assert isolated() == 9
    func = f"{MOD}.test_injected_providers.<locals>.isolated"
    assert own.span_dicts() == [ok_span("test_injected_providers.<locals>.isolated", func)]
    assert own.points() == expected_points(func, 1)
    assert otel.span_dicts() == []
    assert otel.points() == []
    own.tracer_provider.shutdown()
    own.meter_provider.shutdown()


class BrokenTracerProvider(trace.TracerProvider):
    """A provider whose tracers cannot start spans."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        """Return a tracer that raises."""
        return BrokenTracer()


class BrokenTracer(trace.NoOpTracer):
    """Raises on every span start."""

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        """Fail."""
        raise RuntimeError("provider exploded")


def test_broken_provider_never_escapes(no_otel: None) -> None:
    """Our failures are reported once, the call still runs, the user's error still propagates."""
    provider = BrokenTracerProvider()
    boom = PaymentDeclinedError("mine")

    @flext_monitor_function(tracer_provider=provider)
    def ok() -> int:
        return 1

    @flext_monitor_function(tracer_provider=provider)
    def bad() -> None:
        raise boom

    assert ok() == 1
    with pytest.raises(PaymentDeclinedError) as info:
        bad()
    assert info.value is boom
    assert _guard.internal_error_counts() == {"monitor": 2}


class Unprintable(Exception):  # noqa: N818 - named for what it does in the test
    """An exception whose str() raises."""

    def __str__(self) -> str:
        """Refuse."""
        raise RuntimeError("no str for you")


@given(
    result=st.one_of(st.none(), st.integers(), st.floats(), st.text(), st.binary()),
    fail=st.booleans(),
)
def test_results_and_exceptions_pass_through(result: object, fail: bool) -> None:
    """Any result is returned as-is; any exception (even unprintable) propagates as-is."""
    capture = make_capture()
    boom = Unprintable()

    @flext_monitor_function(
        tracer_provider=capture.tracer_provider, meter_provider=capture.meter_provider
    )
    def fn() -> object:
        if fail:
            raise boom
        return result

    try:
        if fail:
            with pytest.raises(Unprintable) as info:
                fn()
            assert info.value is boom
            statuses = [s["status"] for s in capture.span_dicts()]
            assert statuses == [(trace.StatusCode.ERROR, "Unprintable: <unprintable>")]
        else:
            assert fn() is result
    finally:
        capture.tracer_provider.shutdown()
        capture.meter_provider.shutdown()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": ""}, "name: expected a non-empty string, got ''"),
        ({"name": 3}, "name: expected a non-empty string, got 3"),
        ({"attributes": ["a"]}, "attributes: expected a mapping"),
        ({"attributes": {"": 1}}, "got '': 1"),
        ({"attributes": {"k": None}}, "got 'k': None"),
        ({"attributes": {"k": [object]}}, "got 'k': [<class 'object'>]"),
    ],
)
def test_bad_configuration_raises(kwargs: dict[str, Any], fragment: str) -> None:
    """Bad name/attributes fail fast with ConfigurationError naming the value."""
    with pytest.raises(ConfigurationError, match="flext_monitor_function") as info:
        flext_monitor_function(**kwargs)
    assert fragment in str(info.value)


def test_not_callable_and_name_twice_raise() -> None:
    """Decorating a non-callable, or naming twice, is a ConfigurationError."""
    with pytest.raises(ConfigurationError, match="expected a function or method"):
        flext_monitor_function(42)  # type: ignore[call-overload]
    with pytest.raises(ConfigurationError, match="name given twice"):
        flext_monitor_function("a", name="b")  # type: ignore[call-overload]


def test_nested_calls_form_parent_child(otel: SdkEnds) -> None:
    """A monitored function called inside another is its child span."""

    @flext_monitor_function("inner")
    def inner() -> int:
        return 1

    @flext_monitor_function("outer")
    def outer() -> int:
        return inner() + 1

    assert outer() == 2
    spans = {s.name: s for s in otel.spans.get_finished_spans()}
    assert spans["inner"].parent is not None
    assert spans["inner"].parent.span_id == spans["outer"].context.span_id


@pytest.mark.usefixtures("no_otel")
def test_strict_mode_raises_internal_errors() -> None:
    """In strict mode our own failure is raised (before the body runs), never silently lost."""
    calls: list[int] = []

    @flext_monitor_function(tracer_provider=BrokenTracerProvider())
    def ok() -> int:
        calls.append(1)
        return 1

    with strict_mode(), pytest.raises(RuntimeError, match="provider exploded"):
        ok()
    assert calls == []
    assert ok() == 1
