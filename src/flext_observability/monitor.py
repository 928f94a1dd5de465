"""`flext_monitor_function`: a span and two metrics around every call.

Decisions:

- The span is named after the function's `__qualname__` (or the given name), kind INTERNAL,
  with attribute `code.function.name` = the fully qualified `module.qualname` (the stable
  semantic convention; the deprecated `code.namespace` is not written) plus the `attributes=`
  given at decoration time. Those extra attributes go on the span only; the metrics carry
  exactly `code.function.name`, `outcome` and, on errors, `error.type`, which keeps their
  cardinality bounded by the number of functions.
- `error.type` is the exception class's module-qualified name (`ValueError`,
  `myapp.errors.PaymentDeclined`), the same form as the span's `exception.type` event.
- Only `Exception` subclasses are errors, as in OpenTelemetry's own `use_span`:
  `GeneratorExit`, `KeyboardInterrupt`, `SystemExit` and `asyncio.CancelledError` propagate
  unchanged and the call is recorded with `outcome="success"` and an unset span status (a
  cancelled request is not a failing function, and must not feed error-ratio alerts).
- Generators and async generators: the span starts at the first `next()`/`anext()` and ends when
  the generator is exhausted, closed or raises; it is the current span only while the
  generator's own code runs (never leaks into the consumer between items), and the duration
  covers the whole iteration, consumer time included.
- A sync function that merely *returns* an awaitable is measured as a sync call.
- With `tracer_provider=`/`meter_provider=` the function records into those providers;
  otherwise into the global ones, through the API proxies, so decorating (and calling) before
  `setup()` is fine and costs only the API no-ops until then.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar, cast, overload

from opentelemetry import context as context_api
from opentelemetry import metrics, trace
from opentelemetry.util.types import AttributeValue

from flext_observability._internal.monitor import CallSite
from flext_observability.exceptions import ConfigurationError

__all__ = ["flext_monitor_function"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_SCALARS = (str, bool, int, float)

attach = context_api.attach
detach = context_api.detach


@overload
def flext_monitor_function(func: classmethod[T, P, R], /) -> classmethod[T, P, R]: ...
@overload
def flext_monitor_function(func: staticmethod[P, R], /) -> staticmethod[P, R]: ...
@overload
def flext_monitor_function(func: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def flext_monitor_function(
    name: str | None = None,
    /,
    *,
    attributes: Mapping[str, AttributeValue] | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Callable[[F], F]: ...
@overload
def flext_monitor_function(
    *,
    name: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Callable[[F], F]: ...
def flext_monitor_function(
    func: Any = None,
    /,
    *,
    name: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Any:
    """Monitor a function: one span and two metric recordings per call.

    Use bare (`@flext_monitor_function`), called (`@flext_monitor_function()`), with a span
    name (`@flext_monitor_function("checkout")`) or keywords (`name=`, `attributes=`,
    `tracer_provider=`, `meter_provider=`). Works on functions, coroutines, generators, async
    generators and methods, under or over `@staticmethod`/`@classmethod`. The result and any
    exception of the wrapped function pass through unchanged.

    Raises:
        ConfigurationError: `name` is empty or not a string, or `attributes` is not a mapping
            of non-empty string keys to OpenTelemetry attribute values.
    """
    if isinstance(func, str) or func is None:
        if func is not None and name is not None:
            raise ConfigurationError(
                "flext_monitor_function: name given twice (positionally and as name=); "
                "expected one of them"
            )
        span_name = _check_name(func if func is not None else name)
        extra = _check_attributes(attributes)
        return lambda target: _decorate(target, span_name, extra, tracer_provider, meter_provider)
    return _decorate(
        func, _check_name(name), _check_attributes(attributes), tracer_provider, meter_provider
    )


def _check_name(name: object) -> str | None:
    if name is None or (isinstance(name, str) and name.strip()):
        return name
    raise ConfigurationError(
        f"flext_monitor_function name: expected a non-empty string, got {name!r}"
    )


def _check_attributes(attributes: object) -> dict[str, AttributeValue]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise ConfigurationError(
            f"flext_monitor_function attributes: expected a mapping, got {type(attributes)!r}"
        )
    checked: dict[str, AttributeValue] = {}
    for key, value in attributes.items():
        ok_value = isinstance(value, _SCALARS) or (
            isinstance(value, Sequence)
            and not isinstance(value, str | bytes)
            and all(isinstance(item, _SCALARS) for item in value)
        )
        if not (isinstance(key, str) and key and ok_value):
            raise ConfigurationError(
                f"flext_monitor_function attributes: expected non-empty string keys with str, "
                f"bool, int or float values (or sequences of them), got {key!r}: {value!r}"
            )
        checked[key] = (
            tuple(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
        )
    return checked


def _decorate(
    func: Any,
    name: str | None,
    attributes: dict[str, AttributeValue],
    tracer_provider: trace.TracerProvider | None,
    meter_provider: metrics.MeterProvider | None,
) -> Any:
    if isinstance(func, staticmethod | classmethod):
        inner = _decorate(func.__func__, name, attributes, tracer_provider, meter_provider)
        return type(func)(inner)
    if not callable(func):
        raise ConfigurationError(
            f"flext_monitor_function: expected a function or method to decorate, got {func!r}"
        )
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    qualname = qualname or type(func).__qualname__
    module = getattr(func, "__module__", None)
    site = CallSite(
        span_name=name or qualname,
        function_name=f"{module}.{qualname}" if module else qualname,
        attributes=attributes,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
    )
    if inspect.isasyncgenfunction(func):
        return _wrap_async_generator(func, site)
    if inspect.iscoroutinefunction(func):
        return _wrap_coroutine(func, site)
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(func, site)
    return _wrap_sync(func, site)


def _wrap_sync(func: Callable[P, R], site: CallSite) -> Callable[P, R]:
    @functools.wraps(func)
    def monitored(*args: P.args, **kwargs: P.kwargs) -> R:
        started = site.start()
        token = attach(started.context)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            site.finish(started, exc)
            raise
        detach(token)
        site.finish(started, None)
        return result

    return monitored


def _wrap_coroutine(
    func: Callable[P, Coroutine[Any, Any, R]], site: CallSite
) -> Callable[P, Coroutine[Any, Any, R]]:
    @functools.wraps(func)
    async def monitored(*args: P.args, **kwargs: P.kwargs) -> R:
        started = site.start()
        token = attach(started.context)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            site.finish(started, exc)
            raise
        detach(token)
        site.finish(started, None)
        return result

    return monitored


def _wrap_generator(
    func: Callable[P, Generator[T, Any, R]], site: CallSite
) -> Callable[P, Generator[T, Any, R]]:
    @functools.wraps(func)
    def monitored(*args: P.args, **kwargs: P.kwargs) -> Generator[T, Any, R]:
        # `yield from` with the span made current only while the wrapped generator runs
        # (PEP 380 semantics spelled out: send, throw and close are forwarded).
        started = site.start()
        raised: BaseException | None = None
        try:
            token = attach(started.context)
            try:
                gen = func(*args, **kwargs)
            finally:
                detach(token)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                token = attach(started.context)
                try:
                    item = gen.send(to_send) if to_throw is None else gen.throw(to_throw)
                except StopIteration as stop:
                    return cast("R", stop.value)
                finally:
                    detach(token)
                to_send, to_throw = None, None
                try:
                    to_send = yield item
                except GeneratorExit:
                    token = attach(started.context)
                    try:
                        gen.close()
                    finally:
                        detach(token)
                    raise
                except BaseException as exc:  # noqa: BLE001 - forwarded into the generator
                    to_throw = exc
        except BaseException as exc:
            raised = exc
            raise
        finally:
            site.finish(started, raised)

    return monitored


def _wrap_async_generator(
    func: Callable[P, AsyncGenerator[T, Any]], site: CallSite
) -> Callable[P, AsyncGenerator[T, Any]]:
    @functools.wraps(func)
    async def monitored(*args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[T, Any]:
        started = site.start()
        raised: BaseException | None = None
        try:
            token = attach(started.context)
            try:
                agen = func(*args, **kwargs)
            finally:
                detach(token)
            to_send: Any = None
            to_throw: BaseException | None = None
            while True:
                token = attach(started.context)
                try:
                    if to_throw is None:
                        item = await agen.asend(to_send)
                    else:
                        item = await agen.athrow(to_throw)
                except StopAsyncIteration:
                    return
                finally:
                    detach(token)
                to_send, to_throw = None, None
                try:
                    to_send = yield item
                except GeneratorExit:
                    token = attach(started.context)
                    try:
                        await agen.aclose()
                    finally:
                        detach(token)
                    raise
                except BaseException as exc:  # noqa: BLE001 - forwarded into the generator
                    to_throw = exc
        except BaseException as exc:
            raised = exc
            raise
        finally:
            site.finish(started, raised)

    return monitored
