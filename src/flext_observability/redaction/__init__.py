"""Secret and PII scrubbing, on by default; pure, no OpenTelemetry.

`Redactor` is the one scrubber: entities are redacted on the pipeline worker and OpenTelemetry
data on the export thread (by the exporter wrappers in `redaction._exporters`, the only module of
this package that imports OpenTelemetry, loaded by setup only).
"""

from __future__ import annotations

from flext_observability._internal.exports import publish
from flext_observability.redaction._redactor import MARKER, Redactor

__all__ = ["MARKER", "Redactor"]

publish(globals(), __all__)
