"""The error tree of flext-observability.

This module imports nothing, so every other module may depend on it.

```
Exception
└── FlextObservabilityError          base of everything we raise
    ├── ConfigurationError (ValueError)   a setting, argument or rules file is invalid
    │   └── RuleFieldError                one field of one alert rule is invalid
    ├── ValidationError (ValueError)      an entity could not be built from its input
    ├── InvalidTransitionError            an entity state change that is not allowed
    ├── UnwrapFailedError                 value/unwrap on a failed FlextResult
    └── StoreError                        the embedded store is missing or corrupt
```

At runtime the telemetry components never raise into the host application; these errors are
raised by configuration (fail fast), by explicit unwrapping, and in strict mode.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "FlextObservabilityError",
    "InvalidTransitionError",
    "RuleFieldError",
    "StoreError",
    "UnwrapFailedError",
    "ValidationError",
]


class FlextObservabilityError(Exception):
    """Base class of every error flext-observability raises."""


class ConfigurationError(FlextObservabilityError, ValueError):
    """A setting, argument or rules file is invalid.

    The message names the setting, the offending value (secrets masked) and what is allowed.
    """


class RuleFieldError(ConfigurationError):
    """A field of an alert rule is invalid.

    Carries the rule name, the field and the problem separately, so the rules-file loader can
    re-word the message with the file name and the file's key for that field.
    """

    def __init__(self, rule: str, field: str, problem: str) -> None:
        """Build the error; the message reads "rule 'r': field 'f': <problem>"."""
        self.rule = rule
        self.field = field
        self.problem = problem
        super().__init__(f"rule {rule!r}: field {field!r}: {problem}")


class ValidationError(FlextObservabilityError, ValueError):
    """An entity could not be built from its input."""


class InvalidTransitionError(FlextObservabilityError):
    """A state change that the entity's lifecycle does not allow."""


class UnwrapFailedError(FlextObservabilityError):
    """`value` or `unwrap()` was called on a failed `FlextResult`."""


class StoreError(FlextObservabilityError):
    """The embedded store is missing, unreadable or corrupt."""
