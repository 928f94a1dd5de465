"""Export alert rules as a Prometheus rule file: one alerting rule per rule.

Pure text, no OpenTelemetry: every rule kind becomes a PromQL expression over the metric names
the OpenTelemetry Prometheus exporters (the Python `PrometheusMetricReader` and the collector's
`prometheus` exporter) make of ours: dots become underscores, units become suffixes, counters
end in `_total`, histograms expose `_bucket`/`_count`/`_sum`.

| kind | expression (per `job`, i.e. per service behind a collector) |
|---|---|
| `threshold` | the metric's series compared to the threshold |
| `error_ratio` | error / all `flext_span_duration_seconds_count` rates, with `min_count` |
| `latency` | `histogram_quantile` over `flext_span_duration_seconds_bucket`, with `min_count` |
| `log_rate` | `increase(flext_log_records_total[window])` at or above the level |
| `health` | `flext_health_status` at the status or worse (`consecutive` runs become `for`) |
| `absence` | `absent_over_time(...)` of the metric, or no span of the operation |

Globs become anchored regular expressions. A `service` other than `*` joins `target_info`
(which carries `service_name` with both exporters). Labels are the rule's labels plus
`severity` (and `rule`, the rule name); annotations carry a summary and a description. Strings
are written as JSON strings, which YAML reads as double-quoted scalars, so no rule field can
break the document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

from flext_observability.models._types import LogLevel
from flext_observability.rules._kinds import (
    AbsenceRule,
    AlertRule,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    SpanRule,
    ThresholdRule,
)
from flext_observability.rules._windows import format_seconds, is_glob

__all__ = [
    "LOG_RECORDS",
    "SPAN_DURATION",
    "glob_to_regex",
    "metric_selector_name",
    "prometheus_rule_file",
    "rule_expression",
]

SPAN_DURATION = "flext_span_duration_seconds"
"""Prometheus name of the derived histogram `flext.span.duration` (s)."""
LOG_RECORDS = "flext_log_records_total"
"""Prometheus name of the derived counter `flext.log.records`."""
HEALTH_STATUS = "flext_health_status"
_DEFAULT_GROUP = "flext-observability"
_REGEX_SPECIAL = re.compile(r"[.^$+{}()|\\]")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_:]")
_LABEL_CHARS = re.compile(r"[^A-Za-z0-9_]")
# Characters YAML does not allow raw in a document, reads as line breaks (NEL, U+2028/9) or as
# a byte-order mark: written as escapes.
_NON_PRINTABLE = re.compile(
    r"[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_BMP_MAX = 0xFFFF
_UNHEALTHY, _DEGRADED = 0.0, 0.5  # flext.health.status values (healthy 1, unknown -1)


def glob_to_regex(pattern: str, *, metric_name: bool = False) -> str:
    """Translate an `fnmatch` glob to a (Prometheus-anchored) RE2 regular expression.

    With `metric_name`, characters that are not valid in a Prometheus metric name become `_`,
    as the exporters do to OpenTelemetry names.
    """
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := pattern.find("]", index + 1)) != -1:
            body = pattern[index:end]
            index = end + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
        elif metric_name and _NAME_CHARS.match(char):
            out.append("_")
        else:
            out.append(_REGEX_SPECIAL.sub(lambda m: "\\" + m.group(), char))
    return "".join(out)


def metric_selector_name(pattern: str) -> str:
    """The `__name__` matchers of a metric name or glob (any unit suffix, `_total` allowed)."""
    base = glob_to_regex(pattern, metric_name=True)
    return (
        f"__name__=~{_q(f'{base}(_[a-z]+)?(_total)?')}, __name__!~{_q('.*_(bucket|count|created)')}"
    )


def _q(text: str) -> str:
    """A double-quoted string valid in YAML and in PromQL (JSON escapes, non-printables too)."""
    return _NON_PRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= _BMP_MAX else f"\\U{code:08x}"


def _label(name: str) -> str:
    """An OpenTelemetry attribute key as the exporters turn it into a Prometheus label."""
    label = _LABEL_CHARS.sub("_", name)
    return f"_{label}" if label[:1].isdigit() else label


def _matcher(label: str, pattern: str) -> str | None:
    if pattern == "*":
        return None
    if is_glob(pattern):
        return f"{label}=~{_q(glob_to_regex(pattern))}"
    return f"{label}={_q(pattern)}"


def _selector(name: str, *matchers: str | None) -> str:
    inner = ", ".join(m for m in matchers if m)
    return f"{name}{{{inner}}}" if inner else name


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.12g}"


def _range(seconds: float) -> str:
    """A PromQL duration (whole milliseconds, at least 1ms)."""
    millis = max(round(seconds * 1000), 1)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis % size == 0:
            return f"{millis // size}{unit}"
    return f"{millis}ms"


def _service_join(rule: SpanRule, expr: str, by: str) -> str:
    """Restrict a per-`job` expression to the services matching `rule.service`."""
    matcher = _matcher("service_name", rule.service)
    if matcher is None:
        return expr
    info = _selector("target_info", matcher)
    return f"({expr}) and on ({by}) group by ({by}) ({info})"


def _span_rule_expression(rule: ErrorRatioRule | LatencyRule) -> str:
    operation = _matcher("span_name", rule.operation)
    window = _range(rule.window_s)
    count = _selector(f"{SPAN_DURATION}_count", operation)
    enough = f"sum by (job, instance) (increase({count}[{window}])) >= {rule.min_count}"
    if isinstance(rule, ErrorRatioRule):
        errors = _selector(f"{SPAN_DURATION}_count", operation, 'status="error"')
        ratio = (
            f"sum by (job, instance) (rate({errors}[{window}])) / "
            f"sum by (job, instance) (rate({count}[{window}]))"
        )
        core = f"({ratio}) > {_number(rule.threshold)} and ({enough})"
    else:
        bucket = _selector(f"{SPAN_DURATION}_bucket", operation)
        quantile = (
            f"histogram_quantile({_number(rule.percentile / 100)}, "
            f"sum by (job, instance, le) (rate({bucket}[{window}])))"
        )
        core = f"({quantile}) > {_number(rule.threshold_ms / 1000)} and ({enough})"
    return _service_join(rule, core, "job, instance")


def _threshold_expression(rule: ThresholdRule) -> str:
    matchers = [metric_selector_name(rule.metric)]
    matchers += [f"{_label(key)}={_q(str(value))}" for key, value in sorted(rule.tags.items())]
    op = "==" if rule.op == "==" else rule.op
    return f"{{{', '.join(matchers)}}} {op} {_number(rule.threshold)}"


def _log_rate_expression(rule: LogRateRule) -> str:
    rank = LogLevel(rule.level).rank
    levels = "|".join(level.value for level in LogLevel if level.rank >= rank)
    selector = _selector(
        LOG_RECORDS,
        _matcher("logger", rule.logger),
        f"level=~{_q(levels)}",
        'logger!~"flext_observability(\\\\..*)?"',
    )
    by = "job, instance, logger" if is_glob(rule.logger) else "job, instance"
    return f"sum by ({by}) (increase({selector}[{_range(rule.window_s)}])) > {rule.threshold}"


def _health_expression(rule: HealthRule) -> str:
    selector = _selector(HEALTH_STATUS, _matcher("check", rule.check))
    if rule.status == "unhealthy":
        return f"{selector} == {_number(_UNHEALTHY)}"
    return f"{selector} >= {_number(_UNHEALTHY)} <= {_number(_DEGRADED)}"


def _absence_expression(rule: AbsenceRule) -> str:
    window = _range(rule.duration_s)
    if rule.metric is not None:
        return f"absent_over_time({{{metric_selector_name(rule.metric)}}}[{window}])"
    count = _selector(f"{SPAN_DURATION}_count", _matcher("span_name", rule.operation or "*"))
    return (
        f"absent_over_time({count}[{window}]) or "
        f"sum by (job, instance) (increase({count}[{window}])) == 0"
    )


def rule_expression(rule: AlertRule) -> str:
    """The PromQL expression that holds when `rule` would fire."""
    if isinstance(rule, ThresholdRule):
        return _threshold_expression(rule)
    if isinstance(rule, ErrorRatioRule | LatencyRule):
        return _span_rule_expression(rule)
    if isinstance(rule, LogRateRule):
        return _log_rate_expression(rule)
    if isinstance(rule, HealthRule):
        return _health_expression(rule)
    if isinstance(rule, AbsenceRule):
        return _absence_expression(rule)
    msg = f"rule {rule.name!r}: kind {type(rule).__name__} has no Prometheus form"
    raise TypeError(msg)


def _summary(rule: AlertRule) -> str:
    if isinstance(rule, ErrorRatioRule):
        return f"error ratio of {rule.operation} above {rule.threshold:g}"
    if isinstance(rule, LatencyRule):
        return f"p{rule.percentile:g} latency of {rule.operation} above {rule.threshold_ms:g}ms"
    if isinstance(rule, LogRateRule):
        return f"more than {rule.threshold} {rule.level}+ logs from {rule.logger}"
    if isinstance(rule, HealthRule):
        return f"health check {rule.check} {rule.status}"
    if isinstance(rule, AbsenceRule):
        return f"no data for {rule.metric or rule.operation} in {format_seconds(rule.duration_s)}"
    assert isinstance(rule, ThresholdRule)
    return f"{rule.metric} {rule.op} {rule.threshold:g}"


def _for(rule: AlertRule, health_interval_s: float) -> float:
    if isinstance(rule, HealthRule):
        return max(rule.for_s, (rule.consecutive - 1) * health_interval_s)
    return rule.for_s


def prometheus_rule_file(
    rules: Iterable[AlertRule],
    *,
    group: str = _DEFAULT_GROUP,
    health_interval_s: float = 30.0,
    evaluation_interval_s: float | None = None,
) -> str:
    """Return a Prometheus rule file (YAML) with one alerting rule per rule, in order.

    Args:
        rules: The rules (from a rules file, pyproject or code).
        group: The rule group's name.
        health_interval_s: Seconds between health runs; a `health` rule's `consecutive` runs
            become a `for` of `(consecutive - 1) * health_interval_s` (or the rule's own, longer).
        evaluation_interval_s: The group's `interval` (None: Prometheus's global one).
    """
    lines = ["groups:", f"  - name: {_q(group)}"]
    if evaluation_interval_s is not None:
        lines.append(f"    interval: {_range(evaluation_interval_s)}")
    lines.append("    rules:")
    for rule in rules:
        labels = {**rule.labels, "severity": rule.severity, "rule": rule.name}
        lines.append(f"      - alert: {_q(rule.name)}")
        lines.append(f"        expr: {_q(rule_expression(rule))}")
        wait = _for(rule, health_interval_s)
        if wait > 0:
            lines.append(f"        for: {_range(wait)}")
        lines.append("        labels:")
        lines.extend(
            f"          {_q(_label(key))}: {_q(value)}" for key, value in sorted(labels.items())
        )
        lines.append("        annotations:")
        lines.append(f"          summary: {_q(f'{rule.name}: {_summary(rule)}')}")
        lines.append(f"          description: {_q(f'flext-observability {rule.kind} rule')}")
    if lines[-1] == "    rules:":
        lines[-1] = "    rules: []"
    return "\n".join(lines) + "\n"
