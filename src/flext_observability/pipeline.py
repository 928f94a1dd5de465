"""The entity pipeline the components share: one bounded queue and one worker thread.

`setup()` builds one and hands it to every component; a hand-built `EntitySpanProcessor`,
`EntityMetricReader` or `EntityLoggingHandler` takes `pipeline=` to share one, or builds its own
from `sinks=`. The application thread only appends to the queue; the worker converts, redacts,
evaluates the alert rules and delivers to the sinks. `Pipeline.dropped` counts what a full queue
or a failing sink lost, per signal and reason.

```python
pipeline = build_pipeline(sinks=[MemorySink()])
provider.add_span_processor(EntitySpanProcessor(pipeline=pipeline))
```

`SpanExportTap` makes the same queue and worker the span export path: given to
`EntitySpanProcessor(export=...)`, each batch of spans is redacted once, handed to the exporters
(each on its own export thread) and stored, with no `BatchSpanProcessor` beside it.
`LogExportTap` does the same for log records: given to `build_pipeline(log_export=...)` and
`EntityLogRecordProcessor(export=...)`, bridged stdlib records and Logs API records are exported
from the worker, with no `BatchLogRecordProcessor` (nor an SDK `Logger.emit` per bridged record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flext_observability._internal import pipeline as _pipeline
from flext_observability._internal.export_lane import SpanExportTap
from flext_observability._internal.exports import publish
from flext_observability._internal.log_export import LogExportTap
from flext_observability._internal.pipeline import Observer, Pipeline
from flext_observability.models import Entity
from flext_observability.sinks import Sink

__all__ = ["LogExportTap", "Pipeline", "SpanExportTap", "build_pipeline"]


def build_pipeline(
    *,
    sinks: Sequence[Sink] = (),
    redact: Callable[[Entity], Entity] | None = None,
    observers: Sequence[Observer] = (),
    capacity: int = 8192,
    batch_size: int = 512,
    schedule_delay: float = 0.5,
    log_export: LogExportTap | None = None,
) -> Pipeline:
    """Build a pipeline that converts every signal our components queue and delivers to `sinks`.

    Args:
        sinks: where converted (and redacted) entities go, in batches, on the worker thread.
        redact: applied to each entity before the observers and sinks see it.
        observers: see each converted batch and return extra entities (the alert engine).
        capacity: the queue's bound; beyond it items are dropped and counted.
        batch_size: items the worker converts per batch.
        schedule_delay: seconds the worker waits for a batch to fill.
        log_export: the log exporters' tap, fed every bridged and Logs API record.
    """
    return _pipeline.build_pipeline(
        sinks=sinks,
        redact=redact,
        observers=observers,
        capacity=capacity,
        batch_size=batch_size,
        schedule_delay=schedule_delay,
        log_export=log_export,
    )


publish(globals(), __all__)
