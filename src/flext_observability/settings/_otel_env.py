"""Every `OTEL_*` variable the SDK, the exporters and the instrumentation read, validated.

The variables are enumerated from the packages themselves (`opentelemetry.environment_variables`,
`opentelemetry.sdk.environment_variables`, `opentelemetry.instrumentation.environment_variables`
and the constants the installed OTLP/Prometheus exporter modules import), never listed by hand.
Each one gets a parser from the shared settings parsers (`_parse`), chosen by its name: the
settings table's own parser when a setting reads the variable, else a rule on the name's shape.

`validate_otel_environment()` judges every variable that is set. An invalid value is reported
once (variable, value, what is allowed, the fallback) and *removed from the process
environment*, so no later reader — the SDK, an exporter, an instrumentation, a child process —
sees it and every reader falls back to its default. `setup()` also passes the validated values
explicitly to the SDK objects it builds (limits, batch processors, exporters, exemplar filter),
so the SDK never re-reads raw environment for them.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from flext_observability.settings import _parse as p
from flext_observability.settings._parse import Feedback, Invalid, Parser
from flext_observability.settings._sources import ResourceKey

__all__ = [
    "BEFORE_OUR_CODE",
    "EXPORTER_VARIABLE_MODULES",
    "OtelEnvironment",
    "otel_parser",
    "otel_variables",
    "validate_otel_environment",
]

_VARIABLE_MODULES = (
    "opentelemetry.environment_variables",
    "opentelemetry.sdk.environment_variables",
    "opentelemetry.instrumentation.environment_variables",
)
"""Modules whose `OTEL_*` string constants name the variables OpenTelemetry reads."""

EXPORTER_VARIABLE_MODULES = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.prometheus",
)
"""The exporters' modules: today they name no variable beyond `_VARIABLE_MODULES` (a test checks
it). They are not imported at runtime: importing them loads grpc and protobuf (≈ 100 ms and
several MiB at every start, even with no exporter configured)."""


@functools.cache
def otel_variables(modules: tuple[str, ...] = _VARIABLE_MODULES) -> tuple[str, ...]:
    """Return every `OTEL_*` variable named by `modules` (default: API, SDK, instrumentation)."""
    names: set[str] = set()
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an optional exporter that is not installed
            continue
        for attr in dir(module):
            value = getattr(module, attr, None)
            if attr.startswith("OTEL_") and isinstance(value, str) and value.startswith("OTEL_"):
                names.add(value)
    return tuple(sorted(names))


BEFORE_OUR_CODE = ("OTEL_PROPAGATORS", "OTEL_PYTHON_CONFIGURATOR", "OTEL_PYTHON_DISTRO")
"""Variables `opentelemetry-instrument` acts on before any distro runs: an invalid one stops the
launcher (`OTEL_PROPAGATORS`) or skips our configurator; only `doctor` can flag them."""


# --- parsers for the variables no setting reads ---------------------------------------------


def _entry_point_names(group: str, *, extra: tuple[str, ...] = (), many: bool = False) -> Parser:
    """Names of installed entry points in `group` (or one of `extra`)."""

    def parse(raw: object, _fb: Feedback) -> tuple[str, ...]:
        items = [item.strip() for item in p.text_of(raw).split(",")] if many else [p.text_of(raw)]
        names = tuple(dict.fromkeys(item for item in items if item))
        installed = p.installed_entry_points(group)
        unknown = [name for name in names if name not in installed and name not in extra]
        if not names or unknown:
            raise Invalid(f"not installed: {', '.join(map(repr, unknown))}" if unknown else "")
        return names

    shown = f"{', '.join(extra)}, or " if extra else ""
    what = "comma-separated names" if many else "the name"
    return Parser(f"{shown}{what} of installed '{group}' entry points", parse)


def _readable_file(raw: object, _fb: Feedback) -> Path:
    path = Path(p.text_of(raw))
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise Invalid(exc.strerror or type(exc).__name__) from None
    return path


READABLE_FILE = Parser("the path of a readable file", _readable_file)
SIZE = p.SIZE
COUNT = p.COUNT_LIMIT
MILLIS = p.POSITIVE_MS
LOG_LEVEL = p._choice_parser(("debug", "info", "warn", "warning", "error", "critical"))  # noqa: SLF001
EXEMPLAR_FILTER = p._choice_parser(("always_on", "always_off", "trace_based"))  # noqa: SLF001
TEMPORALITY = p._choice_parser(("cumulative", "delta", "lowmemory"))  # noqa: SLF001
HISTOGRAM = p._choice_parser(  # noqa: SLF001
    ("explicit_bucket_histogram", "base2_exponential_bucket_histogram")
)
GEVENT_PATCH = p._choice_parser(("patch_all",))  # noqa: SLF001

_EXACT: dict[str, Parser] = {
    "OTEL_PROPAGATORS": _entry_point_names("opentelemetry_propagator", extra=("none",), many=True),
    "OTEL_PYTHON_CONTEXT": _entry_point_names("opentelemetry_context"),
    "OTEL_PYTHON_ID_GENERATOR": _entry_point_names("opentelemetry_id_generator"),
    "OTEL_PYTHON_TRACER_PROVIDER": _entry_point_names("opentelemetry_tracer_provider"),
    "OTEL_PYTHON_METER_PROVIDER": _entry_point_names("opentelemetry_meter_provider"),
    "OTEL_PYTHON_DISTRO": _entry_point_names("opentelemetry_distro"),
    "OTEL_PYTHON_CONFIGURATOR": _entry_point_names("opentelemetry_configurator"),
    "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": _entry_point_names(
        "opentelemetry_resource_detector", many=True
    ),
    "OTEL_PYTHON_AUTO_INSTRUMENTATION_EXPERIMENTAL_GEVENT_PATCH": GEVENT_PATCH,
    "OTEL_LOG_LEVEL": LOG_LEVEL,
    "OTEL_METRICS_EXEMPLAR_FILTER": EXEMPLAR_FILTER,
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": TEMPORALITY,
    "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": HISTOGRAM,
    "OTEL_EXPORTER_PROMETHEUS_HOST": p.TEXT,
    "OTEL_EXPORTER_PROMETHEUS_PORT": p.PORT,
    "OTEL_SDK_DISABLED": p.BOOL,
    "OTEL_CONFIG_FILE": READABLE_FILE,
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": p.NAMES,
    "OTEL_SEMCONV_STABILITY_OPT_IN": p.NAMES,
}

_BY_SUFFIX: tuple[tuple[str, Parser], ...] = (
    ("_COUNT_LIMIT", COUNT),
    ("_LENGTH_LIMIT", COUNT),
    ("_MAX_QUEUE_SIZE", SIZE),
    ("_MAX_EXPORT_BATCH_SIZE", SIZE),
    ("_SCHEDULE_DELAY", MILLIS),
    ("_EXPORT_TIMEOUT", MILLIS),
    ("_TIMEOUT", MILLIS),
    ("_ENDPOINT", p.URL),
    ("_HEADERS", p.SECRET_PAIRS),
    ("_PROTOCOL", p.PROTOCOL),
    ("_COMPRESSION", p.COMPRESSION),
    ("_INSECURE", p.BOOL),
    ("_ENABLED", p.BOOL),
    ("_CERTIFICATE", READABLE_FILE),
    ("_CLIENT_KEY", READABLE_FILE),
    ("_CONFIGURATOR", p.TEXT),
)


def _settings_parsers() -> dict[str, tuple[Parser, bool]]:
    """The parser (and secrecy) of each variable a setting reads (settings warn about those)."""
    from flext_observability.settings._settings import _table  # noqa: PLC0415 - import cycle

    out: dict[str, tuple[Parser, bool]] = {}
    for spec in _table().values():
        for ref in spec.env:
            if not isinstance(ref, ResourceKey):
                out.setdefault(ref, (spec.setting.parser, spec.setting.secret))
    return out


def otel_parser(name: str) -> Parser | None:
    """Return the parser that judges variable `name`, or None when nothing classifies it."""
    owned = _settings_parsers().get(name)
    if owned is not None:
        return owned[0]
    if name in _EXACT:
        return _EXACT[name]
    for suffix, parser in _BY_SUFFIX:
        if name.endswith(suffix):
            return parser
    return None


# --- cross-variable rules -------------------------------------------------------------------

_BATCH_DEFAULTS = {"BSP": (2048, 512), "BLRP": (2048, 512)}


def _batch_rule(values: Mapping[str, object], prefix: str) -> list[tuple[str, str]]:
    """`max_export_batch_size` must not exceed `max_queue_size` (the SDK raises otherwise)."""
    queue_default, batch_default = _BATCH_DEFAULTS[prefix]
    queue = values.get(f"OTEL_{prefix}_MAX_QUEUE_SIZE", queue_default)
    batch = values.get(f"OTEL_{prefix}_MAX_EXPORT_BATCH_SIZE", batch_default)
    if isinstance(queue, int) and isinstance(batch, int) and batch > queue:
        return [
            (
                f"OTEL_{prefix}_MAX_EXPORT_BATCH_SIZE",
                f"at most OTEL_{prefix}_MAX_QUEUE_SIZE ({queue})",
            )
        ]
    return []


# --- validation -----------------------------------------------------------------------------


@dataclass
class OtelEnvironment:
    """The outcome of `validate_otel_environment`.

    `values` holds each valid variable's parsed value; `invalid` the variables that were
    rejected (and removed from the environment); `problems` one message each.
    """

    values: dict[str, object] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def get(self, name: str, default: object = None) -> object:
        """The validated value of `name`, or `default` when it is unset or invalid."""
        return self.values.get(name, default)


_UNKNOWN_PREFIXES_IGNORED = ("OTEL_PYTHON_", "OTEL_INSTRUMENTATION_")
"""Instrumentation-specific families: names there are not judged as typos."""


_MAX_SHOWN = 200


def _shown(value: str, *, secret: bool) -> str:
    if secret:
        return "'***'"
    text = repr(p.mask_url(value))
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


@dataclass
class _Judge:
    """Collects the verdicts of one validation run."""

    env: MutableMapping[str, str]
    scrub: bool
    on_problem: Callable[[str], None] | None
    owned: Mapping[str, tuple[Parser, bool]]
    out: OtelEnvironment = field(default_factory=OtelEnvironment)

    def say(self, message: str) -> None:
        self.out.problems.append(message)
        if self.on_problem is not None:
            self.on_problem(message)

    def reject(self, name: str, raw: str, expected: str) -> None:
        said = name in self.owned and not expected.startswith("at most")
        secret = self.owned.get(name, (None, False))[1] or name.endswith("_HEADERS")
        self.out.invalid[name] = raw
        self.out.values.pop(name, None)
        if not said:
            shown = _shown(raw, secret=secret)
            self.say(f"{name}={shown} is invalid: expected {expected}; using the default")
        if self.scrub:
            self.env.pop(name, None)

    def judge(self, name: str) -> None:
        raw = self.env.get(name)
        parser = otel_parser(name)
        if raw is None or not raw.strip() or parser is None:
            return
        try:
            self.out.values[name] = parser(raw, Feedback())
        except Exception as exc:  # noqa: BLE001 - any parser failure means 'invalid value'
            detail = f" ({exc})" if isinstance(exc, Invalid) and str(exc) else ""
            self.reject(name, raw, parser.expected + detail)

    def typo(self, name: str, known: tuple[str, ...]) -> None:
        if name.startswith(_UNKNOWN_PREFIXES_IGNORED) or name in self.owned:
            return
        matches = difflib.get_close_matches(name, known, n=1, cutoff=0.85)
        if matches:
            self.say(f"{name} is not a known variable (did you mean {matches[0]}?); ignored")


def validate_otel_environment(
    environ: MutableMapping[str, str] | None = None,
    *,
    scrub: bool = True,
    on_problem: Callable[[str], None] | None = None,
) -> OtelEnvironment:
    """Judge every known `OTEL_*` variable set in `environ` (default: `os.environ`).

    An invalid value gets one problem message (`VAR='value' is invalid: expected ...; using the
    default`) passed to `on_problem`, unless a setting reads that variable (the settings
    already said it), and is deleted from `environ` when `scrub` is true. An `OTEL_*` name
    that is not known but close to a known one is reported as a probable typo.
    """
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    judge = _Judge(env, scrub, on_problem, _settings_parsers())
    known = otel_variables()
    for name in known:
        judge.judge(name)
    for prefix in _BATCH_DEFAULTS:
        for name, expected in _batch_rule(judge.out.values, prefix):
            judge.reject(name, env.get(name, ""), expected)
    for name in sorted(n for n in env if n.startswith("OTEL_") and n not in known):
        judge.typo(name, known)
    return judge.out
