"""`MetricSeriesConverter`: metric collections to entities, remembering each series (worker only).

The pipeline's converter for `metrics` payloads. A collection repeats every series the SDK
keeps (cumulative temporality: all of them, every time), so this converter remembers, per series
(one attribute set of one metric stream), what it already did:

- the attribute set's tags, sanitised and redacted once (redaction of a `FlextMetric` touches its
  tags only, so the pipeline skips it for these entities); a later point of the series costs a
  dict copy, not a sanitise-and-redact pass;
- the last point's value (a histogram: count, sum, min, max) and start time, so that an
  unchanged point is not converted again.

What the sinks get for a series, in time order:

- its first point, and every point whose value or start time differs from the point before;
- before such a change, the last unchanged point that was skipped (a copy of the previous entity
  at that point's time), so the stored series is exact wherever a value is taken to hold until
  the next point: charts, counter rates and the `threshold` rules read the same as with every
  point stored;
- an unchanged point at least every `REFRESH_S` seconds (of the points' own time), so every
  series that is still reported has points in any time window of the viewer (the smallest is 15
  minutes), and the newest stored point of an idle series is at most that old.

Only a point equal to its series' previous one is skipped: a delta point always starts a new
interval (its start time differs), so delta series are written in full; a NaN never equals
anything. When every series of a metric was skipped, a `MetricSample` (name and service) goes to
the rules instead, so a metric `absence` rule still sees that the metric is reported. Attribute
sets that are not a plain dict of str keys to str, int, float and bool values (sequences, which
the caller could mutate; other mappings) are not remembered: their points are converted and
redacted every time, as before.

A series is known by the identity of its attribute dict: the SDK keeps one dict per series for
the life of the series (`_ViewInstrumentMatch` copies the measurement's attributes once); the
converter holds a reference, so the identity cannot be reused while it is remembered. A stream
that reports far fewer series than it remembers forgets the others (writing their pending
skipped point first); at most `MAX_SERIES` series are remembered in all, beyond that the pending
skipped points are written and the memory starts afresh. A forked child starts afresh too.

Not written: the end of a skipped run that is still running when the process stops (the
series' newest stored point is then at most `REFRESH_S` old, with the same value).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from math import isfinite
from typing import Any, Final

from opentelemetry.sdk.metrics.export import (
    ExponentialHistogramDataPoint,
    Gauge,
    HistogramDataPoint,
    Metric,
    MetricsData,
    Sum,
)
from pydantic import BaseModel

from flext_observability._internal import fork
from flext_observability._internal.convert.metrics import (
    DataPoint,
    OnSkip,
    Times,
    metric_type_of,
    point_to_entity,
    valid_metric_name,
)
from flext_observability._internal.convert.sanitize import frozen_attributes, sanitize_attributes
from flext_observability._internal.convert.trace import resource_service_name
from flext_observability._internal.guard import guard
from flext_observability._internal.text import safe_str
from flext_observability.models import Entity, FlextMetric
from flext_observability.models._sources import new_entity_id
from flext_observability.models._types import MetricType
from flext_observability.rules._samples import MetricSample

__all__ = ["MAX_SERIES", "REFRESH_S", "MetricSeriesConverter", "redacts_tags_only"]

REFRESH_S: Final = 300.0
"""An unchanged series is written again after this many seconds (of its points' time)."""
MAX_SERIES: Final = 20_000
"""Series remembered at most (about 0.5 KiB each; the SDK keeps more per series itself)."""

_NUMBER_FIELDS: Final = {
    "metric_type",
    "tags",
    "start_time",
    "timestamp",
    "value",
    "name",
    "unit",
    "service_name",
}
"""What `model_validate` records as set for a number point (`id` is a default)."""
_HISTOGRAM_FIELDS: Final = {*_NUMBER_FIELDS, "histogram"}
_SPARE = 64
"""Series a stream may remember beyond twice what a collection reported, before it is pruned."""
_REDACT = guard("metric_series.redact", reraise=False)  # the worker reports, never dies

Redact = Callable[[Entity], Entity]
# The model's own slot descriptors: setting through them skips `object.__setattr__`'s lookup.
_new = object.__new__
_SLOTS = vars(BaseModel)
_set_dict = _SLOTS["__dict__"].__set__
_set_fields = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra = _SLOTS["__pydantic_extra__"].__set__
_set_private = _SLOTS["__pydantic_private__"].__set__


def redacts_tags_only(redact: Callable[..., object] | None) -> bool:
    """Whether `redact` is a `Redactor`'s own `redact_entity` (for a metric: its tags only).

    Only then may the redaction of a series' first point stand for every later point; any
    other callable is applied by the pipeline to every entity.
    """
    from flext_observability.redaction import Redactor  # noqa: PLC0415 - core, loaded anyway

    owner = getattr(redact, "__self__", None)
    return isinstance(owner, Redactor) and getattr(redact, "__func__", None) is (
        Redactor.redact_entity
    )


class _Series:
    """What the converter remembers of one series."""

    __slots__ = (
        "attrs",
        "fields",
        "hist",
        "pending",
        "seen",
        "sig",
        "start",
        "start_dt",
        "tags",
        "value",
        "written",
    )

    def __init__(self, attrs: object) -> None:
        self.attrs = attrs  # held: its identity is the key
        self.tags: dict[str, Any] | None = None  # sanitised and redacted; None: not yet
        self.fields: set[str] | None = None  # fields set of its points when redaction changed them
        self.sig: object = None  # the last written point's value (histogram: count, sum, ...)
        self.start: int | None = None
        self.start_dt: datetime | None = None  # `start` as a datetime (None: no start)
        self.written = 0  # time (ns) of the last written point; 0: none yet
        self.pending = 0  # time (ns) of the last skipped point since then; 0: none
        self.value: Any = None  # the last written entity's value and histogram data
        self.hist: Any = None
        self.seen = 0  # the last collection that reported it


def _signature(point: DataPoint) -> object:
    """What must be equal for a point to be unchanged (with its start time)."""
    if isinstance(point, HistogramDataPoint):
        return (point.count, point.sum, point.min, point.max, tuple(point.bucket_counts))
    if isinstance(point, ExponentialHistogramDataPoint):
        return (point.count, point.sum, point.min, point.max, point.zero_count)
    return point.value


Fields = tuple[str, str, "str | None", MetricType]
"""A metric's name, unit, service name and type, resolved once per metric."""


class _Collection:
    """One collection's shared state: its number, the output and the time memo."""

    __slots__ = ("number", "out", "times")

    def __init__(self, number: int) -> None:
        self.number = number
        self.out: list[FlextMetric | MetricSample] = []
        self.times = Times()


class MetricSeriesConverter:
    """Converts one collection (`MetricsData`) at a time; see the module docstring.

    Args:
        redact: a `Redactor`'s `redact_entity` (see `redacts_tags_only`), applied to the first
            point of each series; None: no redaction.
        on_skip: called with the metric name and the error for each point the model rejects.
        on_redaction_error: called once for each point dropped because redaction failed.
        refresh_s: see `REFRESH_S`.
        max_series: see `MAX_SERIES`.
    """

    def __init__(
        self,
        *,
        redact: Redact | None = None,
        on_skip: OnSkip | None = None,
        on_redaction_error: Callable[[], None] | None = None,
        refresh_s: float = REFRESH_S,
        max_series: int = MAX_SERIES,
    ) -> None:
        """Start with no series remembered."""
        self._redact = redact
        self._on_skip = on_skip
        self._on_redaction_error = on_redaction_error
        self._refresh_ns = int(refresh_s * 1e9)
        self._max_series = max_series
        self._streams: dict[tuple[Any, ...], dict[int, _Series]] = {}
        self._size = 0
        self._collections = 0
        fork.register(self, after_in_child=self._forget)

    def _forget(self) -> None:
        self._streams = {}
        self._size = 0

    @property
    def series_count(self) -> int:
        """How many series are remembered now."""
        return self._size

    def __call__(self, data: MetricsData) -> list[FlextMetric | MetricSample]:
        """Convert one collection: the entities to deliver and, per quiet metric, a sample."""
        self._collections += 1
        run = _Collection(self._collections)
        if self._size > self._max_series:
            self._overflow(run)
        for resource_metrics in data.resource_metrics:
            service = resource_service_name(resource_metrics.resource)
            for scope_metrics in resource_metrics.scope_metrics:
                scope = scope_metrics.scope
                scope_key = (scope.name, scope.version) if scope is not None else None
                for metric in scope_metrics.metrics:
                    self._metric(metric, service, scope_key, run)
        return run.out

    def _overflow(self, run: _Collection) -> None:
        """Too many series: write every pending skipped point, then remember nothing."""
        for (service, _scope, name, unit, metric_type, *_kind), stream in self._streams.items():
            fields: Fields = (name, unit, service, metric_type)
            run.out.extend(
                _again(series, fields, run) for series in stream.values() if series.pending
            )
        self._forget()

    def _stream(self, metric: Metric, service: str | None, scope_key: object) -> _Stream | None:
        """The metric's remembered series and resolved fields; None when its type is unknown."""
        name = safe_str(metric.name)
        try:
            metric_type = metric_type_of(metric)
        except TypeError as exc:
            if self._on_skip is not None:
                self._on_skip(name, exc)
            return None
        unit = safe_str(metric.unit) if metric.unit else ""
        data = metric.data
        temporality = getattr(data, "aggregation_temporality", None)
        key = (service, scope_key, name, unit, metric_type, type(data), temporality)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = {}
        fast = isinstance(data, Sum | Gauge) and valid_metric_name(name)
        return stream, (name, unit, service, metric_type), fast

    def _metric(  # noqa: C901, PLR0912, PLR0915 - the per-point hot loop, inline on purpose
        self, metric: Metric, service: str | None, scope_key: object, run: _Collection
    ) -> None:
        """Convert the points of one metric that changed (see the module docstring)."""
        resolved = self._stream(metric, service, scope_key)
        if resolved is None:
            return
        stream, fields, fast = resolved
        name, unit, service, metric_type = fields
        number = isinstance(metric.data, Sum | Gauge)
        out = run.out
        times = run.times
        refresh_ns = self._refresh_ns
        get = stream.get
        before = len(out)
        skipped = 0
        stamp_ns: int | None = None
        stamp = None
        number_now = run.number
        points = metric.data.data_points
        for point in points:
            try:
                attrs = point.attributes
                series = get(id(attrs))
                if series is None or series.attrs is not attrs:
                    series = self._new_series(stream, attrs)
                series.seen = number_now
                sig: Any = point.value if number else _signature(point)  # type: ignore[union-attr]
                start = point.start_time_unix_nano
                now = point.time_unix_nano
                if (
                    series.written
                    and start == series.start
                    and sig == series.sig
                    and type(sig) is type(series.sig)
                ):
                    if now - series.written < refresh_ns:
                        series.pending = now  # unchanged: skipped
                        skipped += 1
                        continue
                elif series.pending:  # changed after a skipped run: the run's last point first
                    out.append(_again(series, fields, run))
                series.pending = 0
                if start != series.start or not series.written:
                    series.start = start
                    series.start_dt = times(start) if start else None
                tags = series.tags
                kind = type(sig)
                if fast and tags is not None and (kind is int or (kind is float and isfinite(sig))):
                    if now != stamp_ns:  # a collection's points share their time
                        stamp_ns, stamp = now, times(now)
                    entity = _new(FlextMetric)  # `_trusted`, inlined: the per-point path
                    _set_dict(
                        entity,
                        {
                            "id": new_entity_id(),
                            "timestamp": stamp,
                            "service_name": service,
                            "name": name,
                            "value": sig,
                            "unit": unit,
                            "tags": tags.copy(),
                            "metric_type": metric_type,
                            "start_time": series.start_dt,
                            "histogram": None,
                        },
                    )
                    _set_fields(entity, series.fields or _NUMBER_FIELDS)
                    _set_extra(entity, None)
                    _set_private(entity, None)
                    series.value = sig
                    series.hist = None
                else:
                    converted = self._convert(point, series, fields, run)
                    if converted is None:
                        series.written = 0  # not written: the next point is converted again
                        continue
                    entity = converted
                    series.value = entity.value
                    series.hist = entity.histogram
                out.append(entity)
                series.sig = sig
                series.written = now or 1
            except Exception as exc:  # noqa: BLE001 - one bad point never loses the others
                if self._on_skip is not None:
                    self._on_skip(name, exc)
        if len(stream) > 2 * len(points) + _SPARE:
            self._prune(stream, fields, run)
        if skipped and len(out) == before:
            out.append(MetricSample(name, service))

    def _prune(self, stream: dict[int, _Series], fields: Fields, run: _Collection) -> None:
        """Forget the series this collection did not report (their last skipped point first).

        A cumulative collection reports every series, so this only trims delta streams with
        many idle series, and attribute dicts that are not kept across collections.
        """
        for key, series in list(stream.items()):
            if series.seen != run.number:
                if series.pending:
                    run.out.append(_again(series, fields, run))
                del stream[key]
                self._size -= 1

    def _new_series(self, stream: dict[int, _Series], attrs: Any) -> _Series:
        """A series seen for the first time (remembered unless its attributes could change)."""
        series = _Series(attrs)
        if frozen_attributes(attrs):  # otherwise converted in full every time
            stream[id(attrs)] = series
            self._size += 1
            if self._redact is None:
                series.tags = sanitize_attributes(attrs)
        return series

    def _convert(
        self, point: DataPoint, series: _Series, fields: Fields, run: _Collection
    ) -> FlextMetric | None:
        """The point's entity the general way, redacted; None when redaction failed.

        Raises when the model rejects the point.
        """
        name, unit, service, metric_type = fields
        tags = series.tags
        entity = point_to_entity(
            point,
            metric_type,
            name=name,
            unit=unit,
            service_name=service,
            times=run.times,
            tags=tags.copy() if tags is not None else None,
        )
        redact = self._redact
        if tags is not None or redact is None:
            if series.fields is not None:
                _set_fields(entity, series.fields)
            return entity
        with _REDACT:
            redacted = redact(entity)
            if not isinstance(redacted, FlextMetric):
                msg = f"redaction returned {type(redacted).__name__}, not FlextMetric"
                raise TypeError(msg)
            series.tags = dict(redacted.tags)  # the series' later points reuse them
            if redacted is not entity:  # rebuilt: its later points record what it records
                series.fields = redacted.__pydantic_fields_set__
            return redacted
        # Never deliver a point we could not scrub: drop it and count.
        if self._on_redaction_error is not None:
            self._on_redaction_error()
        return None


_Stream = tuple[dict[int, _Series], Fields, bool]


def _again(series: _Series, fields: Fields, run: _Collection) -> FlextMetric:
    """The last written point of `series` again, at the time of its last skipped point."""
    name, unit, service, metric_type = fields
    times = run.times
    return _trusted(
        {
            "id": new_entity_id(),
            "timestamp": times(series.pending),
            "service_name": service,
            "name": name,
            "value": series.value,
            "unit": unit,
            "tags": dict(series.tags or {}),
            "metric_type": metric_type,
            "start_time": series.start_dt,
            "histogram": series.hist,
        },
        series.fields or (_HISTOGRAM_FIELDS if series.hist is not None else _NUMBER_FIELDS),
    )


def _trusted(values: dict[str, Any], fields_set: set[str]) -> FlextMetric:
    """`models._base.trusted(FlextMetric, values, fields_set)`, inlined for the per-point path.

    `fields_set` is shared by the entities of a kind, as the span converter's events share
    theirs: a frozen model never adds to it (`model_copy` copies it first).
    """
    instance: FlextMetric = _new(FlextMetric)
    _set_dict(instance, values)
    _set_fields(instance, fields_set)
    _set_extra(instance, None)
    _set_private(instance, None)
    return instance
