"""Counts consecutive export failures per exporter, for the built-in export health check.

`tracked(exporter, tracker)` returns a thin wrapper with the same interface whose `export()`
records success or failure; it runs on the SDK's export threads, never the application thread.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

__all__ = ["ExportTracker", "TrackedLogExporter", "TrackedMetricExporter", "TrackedSpanExporter"]


class ExportTracker:
    """Consecutive export failures across every tracked exporter (reset by any success)."""

    def __init__(self) -> None:
        """Start with no failures."""
        self._lock = threading.Lock()
        self._consecutive = 0
        self.total_failures = 0

    def record(self, *, ok: bool) -> None:
        """Record one export's outcome."""
        with self._lock:
            if ok:
                self._consecutive = 0
            else:
                self._consecutive += 1
                self.total_failures += 1

    def consecutive_failures(self) -> int:
        """How many exports in a row have failed."""
        return self._consecutive


class TrackedSpanExporter(SpanExporter):
    """A span exporter that reports each export's outcome to a tracker."""

    def __init__(self, inner: SpanExporter, tracker: ExportTracker) -> None:
        """Wrap `inner`."""
        self._inner = inner
        self._tracker = tracker

    def export(self, spans: Any) -> SpanExportResult:
        """Export and record the outcome (an exception counts as a failure and propagates)."""
        try:
            result = self._inner.export(spans)
        except Exception:
            self._tracker.record(ok=False)
            raise
        self._tracker.record(ok=result is SpanExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._inner.force_flush(timeout_millis) is not False  # some return None


class TrackedLogExporter(LogRecordExporter):
    """A log exporter that reports each export's outcome to a tracker."""

    def __init__(self, inner: LogRecordExporter, tracker: ExportTracker) -> None:
        """Wrap `inner`."""
        self._inner = inner
        self._tracker = tracker

    def export(self, batch: Any) -> LogRecordExportResult:
        """Export and record the outcome."""
        try:
            result = self._inner.export(batch)
        except Exception:
            self._tracker.record(ok=False)
            raise
        self._tracker.record(ok=result is LogRecordExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._inner.shutdown()  # type: ignore[no-untyped-call] # untyped in the SDK

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return bool(self._inner.force_flush(timeout_millis))


class TrackedMetricExporter(MetricExporter):
    """A metric exporter that reports each export's outcome to a tracker."""

    def __init__(self, inner: MetricExporter, tracker: ExportTracker) -> None:
        """Wrap `inner`, keeping its temporality and aggregation preferences."""
        super().__init__(
            preferred_temporality=inner._preferred_temporality,  # noqa: SLF001 - SDK contract
            preferred_aggregation=inner._preferred_aggregation,  # noqa: SLF001 - SDK contract
        )
        self._inner = inner
        self._tracker = tracker

    def export(
        self, metrics_data: Any, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        """Export and record the outcome."""
        try:
            result = self._inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception:
            self._tracker.record(ok=False)
            raise
        self._tracker.record(ok=result is MetricExportResult.SUCCESS)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Flush the wrapped exporter."""
        return self._inner.force_flush(timeout_millis) is not False  # some return None

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Shut the wrapped exporter down."""
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)
