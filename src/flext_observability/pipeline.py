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
"""

from __future__ import annotations

from flext_observability._internal.exports import publish
from flext_observability._internal.pipeline import Pipeline, build_pipeline

__all__ = ["Pipeline", "build_pipeline"]

publish(globals(), __all__)
