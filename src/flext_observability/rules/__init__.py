"""In-process alert rules: rule kinds, the engine, and the rules-file loader.

Pure Python, no OpenTelemetry. The pipeline worker feeds the engine with batches of entities
(`AlertEngine.observe`) and, periodically, with the time (`AlertEngine.evaluate`); both return
the alert transitions to deliver (activation, escalation, resolution).

```python
engine = AlertEngine([ErrorRatioRule(name="checkout-errors", operation="checkout",
                                     window_s=60, threshold=0.1, min_count=20)])
for alert in engine.observe(batch):
    deliver(alert)
```

Rules also come from TOML: `load_rules_file(path)` (the file named by
`FLEXT_OBSERVABILITY_ALERT_RULES`) and `rules_from_pyproject(path)` /
`rules_from_mapping(table, origin)` for `[tool.flext-observability.alerts]`.

`prometheus_rule_file(rules)` writes the same rules as a Prometheus rule file (one alerting rule
per rule, over the exported metric names), for a fleet evaluated by Prometheus.

Grouping: one alert per rule (fingerprint = rule name + the rule's labels), except that a
`log_rate` rule with a glob `logger` and a `health` rule with a glob `check` raise one alert per
logger / check, with the name in the label `logger` / `check`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flext_observability._internal.exports import lazy_exports
from flext_observability.rules._alerts import Alerts
from flext_observability.rules._engine import DEFAULT_MAX_GROUPS, DEFAULT_MAX_SAMPLES, AlertEngine
from flext_observability.rules._kinds import (
    AbsenceRule,
    AlertRule,
    ErrorRatioRule,
    HealthRule,
    LatencyRule,
    LogRateRule,
    ThresholdRule,
)
from flext_observability.rules._samples import SpanSample

if TYPE_CHECKING:
    from flext_observability.rules._file import (
        load_rules_file,
        parse_duration,
        rules_from_mapping,
        rules_from_pyproject,
    )
    from flext_observability.rules._prometheus import prometheus_rule_file

__all__ = [
    "DEFAULT_MAX_GROUPS",
    "DEFAULT_MAX_SAMPLES",
    "AbsenceRule",
    "AlertEngine",
    "AlertRule",
    "Alerts",
    "ErrorRatioRule",
    "HealthRule",
    "LatencyRule",
    "LogRateRule",
    "Rule",
    "SpanSample",
    "ThresholdRule",
    "load_rules_file",
    "parse_duration",
    "prometheus_rule_file",
    "rules_from_mapping",
    "rules_from_pyproject",
]

Rule = ThresholdRule | ErrorRatioRule | LatencyRule | LogRateRule | HealthRule | AbsenceRule
"""Any of the six rule kinds."""

# The rules file (tomllib) and the Prometheus export load on first use.
_LAZY = {
    "load_rules_file": "flext_observability.rules._file",
    "parse_duration": "flext_observability.rules._file",
    "prometheus_rule_file": "flext_observability.rules._prometheus",
    "rules_from_mapping": "flext_observability.rules._file",
    "rules_from_pyproject": "flext_observability.rules._file",
}
__getattr__, __dir__ = lazy_exports(globals(), __all__, _LAZY)
