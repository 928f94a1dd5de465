"""A bounded OTLP outbox on disk: what the collector could not take is kept and replayed in order.

`OutboxExporter` sits innermost in front of an OTLP/HTTP exporter (after redaction, so only
scrubbed data reaches the disk). Each export is encoded once to the OTLP protobuf request and:

- if older batches wait in the outbox, they are sent first, oldest first; while one still fails,
  the new batch joins the outbox behind them (the order is kept; one network attempt per call);
- otherwise it is sent; a failure the collector may recover from (no connection, timeout, 429,
  502/503/504) spills it to the outbox; a refusal (400, 401, 413, ...) is not kept (a poison
  batch would block the outbox forever) and counts as dropped.

The outbox is one directory per signal next to the store (`<store dir>/outbox/<signal>/`), files
named by a sequence number and their item count. It is bounded by size (`outbox_max_mb`) and age
(`outbox_max_age_s`): the oldest files go first, and every item dropped that way is counted
(`dropped`) and said once per interval. Everything runs on the exporting thread (the batch
processor's or the metric reader's), never on the application's. Only the OTLP/HTTP exporters
are wrapped (gRPC exporters keep the SDK's behaviour: retry, then drop).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flext_observability._internal.guard import logger

__all__ = ["OutboxExporter", "supports"]

_RECOVERABLE = frozenset({429, 502, 503, 504})
_WARN_INTERVAL_S = 60.0


def _encoder(signal: str) -> Callable[[Any], bytes]:
    if signal == "traces":
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import (  # noqa: PLC0415
            encode_spans,
        )

        return lambda batch: encode_spans(batch).SerializeToString()
    if signal == "metrics":
        from opentelemetry.exporter.otlp.proto.common.metrics_encoder import (  # noqa: PLC0415
            encode_metrics,
        )

        return lambda batch: encode_metrics(batch).SerializeToString()
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs  # noqa: PLC0415

    return lambda batch: encode_logs(batch).SerializeToString()


def _count(signal: str, batch: Any) -> int:
    if signal != "metrics":
        return len(batch)
    return sum(
        len(metric.data.data_points)
        for resource in batch.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    )


def supports(exporter: object) -> bool:
    """Whether `exporter` is an OTLP/HTTP exporter whose raw client the outbox can drive."""
    client = getattr(exporter, "_client", None)
    return callable(getattr(client, "export", None)) and "http" in type(exporter).__module__


class OutboxExporter:
    """Wraps an OTLP/HTTP exporter of one signal with a bounded, ordered disk outbox."""

    def __init__(
        self,
        exporter: Any,
        *,
        signal: str,
        directory: Path,
        max_bytes: int,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Spill to `directory` (created on first use), within `max_bytes` and `max_age_s`."""
        self._exporter = exporter
        self._signal = signal
        self._dir = directory
        self._max_bytes = max_bytes
        self._max_age_s = max_age_s
        self._clock = clock
        self._encode = _encoder(signal)
        self._lock = threading.Lock()
        self._seq = 0
        self.dropped = 0
        self.spilled = 0
        self.replayed = 0
        self._last_warning = float("-inf")

    # The exporter interface the SDK's processors and readers call (any signal).
    def __getattr__(self, name: str) -> Any:
        """Everything else (preferred temporality, force_flush, ...) is the wrapped exporter's."""
        return getattr(self._exporter, name)

    def export(self, batch: Any, *args: Any, **kwargs: Any) -> Any:
        """Send (replaying the outbox first) or spill; return the wrapped exporter's result type."""
        del args, kwargs
        success, failure = self._results()
        try:
            data = self._encode(batch)
        except Exception:  # noqa: BLE001 - unencodable: let the exporter report it
            return self._exporter.export(batch)
        items = _count(self._signal, batch)
        with self._lock:
            if not self._replay():
                self._spill(data, items)
                return failure
            outcome = self._send(data)
            if outcome is True:
                return success
            if outcome is None:
                self._spill(data, items)
            else:
                self._drop(items, f"refused by the collector ({outcome})")
            return failure

    def shutdown(self, *args: Any, **kwargs: Any) -> Any:
        """Shut the wrapped exporter down (the outbox stays on disk for the next run)."""
        return self._exporter.shutdown(*args, **kwargs)

    # -- internals -------------------------------------------------------------------------

    def _results(self) -> tuple[Any, Any]:
        if self._signal == "traces":
            from opentelemetry.sdk.trace.export import SpanExportResult  # noqa: PLC0415

            return SpanExportResult.SUCCESS, SpanExportResult.FAILURE
        if self._signal == "metrics":
            from opentelemetry.sdk.metrics.export import MetricExportResult  # noqa: PLC0415

            return MetricExportResult.SUCCESS, MetricExportResult.FAILURE
        from opentelemetry.sdk._logs.export import LogRecordExportResult  # noqa: PLC0415

        return LogRecordExportResult.SUCCESS, LogRecordExportResult.FAILURE

    def _send(self, data: bytes) -> bool | int | None:
        """True: accepted; None: failed in a way worth retrying later; an int: refused."""
        try:
            result = self._exporter._client.export(data)  # noqa: SLF001 - the raw OTLP client
        except Exception:  # noqa: BLE001 - a transport error is worth retrying later
            return None
        if result.success:
            return True
        status = result.status_code
        return None if status is None or status in _RECOVERABLE else int(status)

    def _files(self) -> list[Path]:
        if not self._dir.is_dir():
            return []
        return sorted(self._dir.glob("*.otlp"))

    def _replay(self) -> bool:
        """Send waiting files oldest first; False if one still fails (it stays)."""
        self._expire()
        for path in self._files():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            outcome = self._send(data)
            if outcome is None:
                return False
            if outcome is True:
                self.replayed += _items_of(path)
            else:
                self._drop(_items_of(path), f"refused by the collector on replay ({outcome})")
            with contextlib.suppress(OSError):
                path.unlink()
        return True

    def _spill(self, data: bytes, items: int) -> None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            self._make_room(len(data))
            self._seq += 1
            name = f"{time.time_ns():020d}-{self._seq:06d}-{items}.otlp"
            tmp = self._dir / (name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(self._dir / name)
            self.spilled += items
        except OSError as exc:
            self._drop(items, f"outbox not writable ({exc.strerror or type(exc).__name__})")

    def _make_room(self, incoming: int) -> None:
        if incoming > self._max_bytes:
            raise OSError(0, "batch larger than the outbox bound")
        files = self._files()
        total = sum(_size(path) for path in files)
        while files and total + incoming > self._max_bytes:
            oldest = files.pop(0)
            total -= _size(oldest)
            self._remove(oldest, "outbox full")

    def _expire(self) -> None:
        cutoff_ns = int((self._clock() - self._max_age_s) * 1e9)
        for path in self._files():
            if int(path.name.split("-", 1)[0]) < cutoff_ns:
                self._remove(path, "older than the outbox's age bound")

    def _remove(self, path: Path, why: str) -> None:
        with contextlib.suppress(OSError):
            path.unlink()
            self._drop(_items_of(path), why)

    def _drop(self, items: int, why: str) -> None:
        self.dropped += items
        now = time.monotonic()
        if now - self._last_warning >= _WARN_INTERVAL_S:
            self._last_warning = now
            logger.warning(
                "flext-observability OTLP outbox (%s): dropped %d items (%s); %d dropped so far",
                self._signal,
                items,
                why,
                self.dropped,
            )


def _items_of(path: Path) -> int:
    try:
        return int(path.stem.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def wrap_all(
    exporters: Sequence[Any],
    *,
    signal: str,
    directory: Path | None,
    max_bytes: int,
    max_age_s: float,
) -> list[Any]:
    """Wrap every OTLP/HTTP exporter of `signal` (others unchanged; no directory: none)."""
    if directory is None:
        return list(exporters)
    return [
        OutboxExporter(
            exporter,
            signal=signal,
            directory=directory / signal,
            max_bytes=max_bytes,
            max_age_s=max_age_s,
        )
        if supports(exporter)
        else exporter
        for exporter in exporters
    ]
