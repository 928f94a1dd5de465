"""A bounded OTLP outbox on disk: what the collector could not take is kept and replayed in order.

`OutboxExporter` sits innermost in front of an OTLP exporter, HTTP or gRPC (after redaction, so
only scrubbed data reaches the disk). Each export is encoded once to the OTLP protobuf request and:

- if older batches wait in the outbox, they are sent first, oldest first; while one still fails,
  the new batch joins the outbox behind them (the order is kept; one network attempt per call);
- otherwise it is sent; a failure the collector may recover from spills it to the outbox; a
  refusal is not kept (a poison batch would block the outbox forever) and counts as dropped.

How the bytes go out is the one thing that differs per transport (`Transport`, chosen by
`transport_for`), and each reuses the exporter's own connection and settings:

- OTLP/HTTP: the exporter's HTTP client (`_client.export(bytes)`, with its headers, compression,
  timeout and retries within that timeout). Recoverable: no connection, timeout, 429, 502-504.
- OTLP/gRPC: the exporter's channel, calling the service's `Export` method with the stored bytes
  as they are (no re-encoding), the exporter's metadata (headers), compression and timeout; one
  attempt, and one more right away on a fresh channel after UNAVAILABLE (as the SDK reconnects: a
  channel that saw the collector go keeps failing fast for its reconnect backoff, up to minutes).
  Recoverable: the exporter's retryable status codes (the SDK's: UNAVAILABLE, DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED, CANCELLED, ABORTED, OUT_OF_RANGE, DATA_LOSS, or what
  `OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES` says); refused: any other
  (INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, UNIMPLEMENTED, ...).

The outbox is one directory per signal next to the store (`<store dir>/outbox/<signal>/`), files
named by a sequence number and their item count. It is bounded by size (`outbox_max_mb`) and age
(`outbox_max_age_s`): the oldest files go first, and every item dropped that way is counted
(`dropped`) and said once per interval. Everything runs on the exporting thread (the batch
processor's or the metric reader's), never on the application's; no sleep or backoff wait is
added there, and each attempt is bounded by the exporter's timeout. Exit stays within the
shutdown deadline as before (`setup` stops the providers on daemon threads it leaves behind at
the deadline); when the exporter is shut down, its channel closes, which cancels a gRPC call
still waiting on a black-holed collector (that batch then spills), and no channel is reopened.

The fresh channel after UNAVAILABLE only helps if it does not share its connection with the
other signals' channels to the same collector: `providers` builds the gRPC exporters with a
local subchannel pool for that reason.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from flext_observability._internal.guard import logger

__all__ = ["OutboxExporter", "Transport", "supports", "transport_for"]

_RECOVERABLE_HTTP = frozenset({429, 502, 503, 504})
_WARN_INTERVAL_S = 60.0

Outcome = bool | str | None
"""What one send did: True accepted; None failed, worth retrying later; a str: refused (why)."""


def _encoder(signal: str) -> Callable[[Any], bytes]:
    if signal == "traces":
        # The SDK encoders' bytes, written directly (`otlp_wire`: ~4x less CPU per item).
        from flext_observability._internal.otlp_wire import (  # noqa: PLC0415
            encode_span_request,
        )

        return encode_span_request
    if signal == "metrics":
        from opentelemetry.exporter.otlp.proto.common.metrics_encoder import (  # noqa: PLC0415
            encode_metrics,
        )

        return lambda batch: encode_metrics(batch).SerializeToString()
    from flext_observability._internal.otlp_wire import encode_log_request  # noqa: PLC0415

    return encode_log_request


def _count(signal: str, batch: Any) -> int:
    if signal != "metrics":
        return len(batch)
    return sum(
        len(metric.data.data_points)
        for resource in batch.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    )


# -- how the bytes go out: one strategy per transport -------------------------------------


class Transport(Protocol):
    """Sends one encoded OTLP request through an exporter's own connection."""

    def send(self, data: bytes) -> Outcome:
        """One delivery attempt of `data`: True, None (retry later) or why it was refused."""
        ...

    def shutdown(self, *args: Any, **kwargs: Any) -> Any:
        """Shut the exporter down (no reconnection after this)."""
        ...


class _HttpTransport:
    """OTLP/HTTP: the exporter's HTTP client posts the bytes (its retries within its timeout)."""

    def __init__(self, exporter: Any) -> None:
        self._exporter = exporter

    def send(self, data: bytes) -> Outcome:
        try:
            result = self._exporter._client.export(data)  # noqa: SLF001 - the raw OTLP client
        except Exception:  # noqa: BLE001 - a transport error is worth retrying later
            return None
        if result.success:
            return True
        status = result.status_code
        return None if status is None or status in _RECOVERABLE_HTTP else f"HTTP {int(status)}"

    def shutdown(self, *args: Any, **kwargs: Any) -> Any:
        return self._exporter.shutdown(*args, **kwargs)


_GRPC_EXPORTER = "opentelemetry.exporter.otlp.proto.grpc.exporter"
_GRPC_SERVICES = {
    "traces": ("opentelemetry.proto.collector.trace.v1.trace_service_pb2", "TraceService"),
    "metrics": ("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2", "MetricsService"),
    "logs": ("opentelemetry.proto.collector.logs.v1.logs_service_pb2", "LogsService"),
}


def _grpc_method(signal: str) -> str:
    """The `Export` method path of the signal's OTLP service, from the generated descriptors."""
    module, name = _GRPC_SERVICES[signal]
    descriptor = importlib.import_module(module).DESCRIPTOR.services_by_name[name]
    return f"/{descriptor.full_name}/{descriptor.methods_by_name['Export'].name}"


class _GrpcTransport:
    """OTLP/gRPC: the stored bytes through the exporter's channel, metadata, compression, timeout.

    The call is made on the exporter's current channel (the SDK replaces it when it reconnects)
    without serializers, so the bytes go out exactly as stored. After UNAVAILABLE the exporter is
    asked to open a fresh channel (its own reconnection) and the call is tried once more.
    """

    def __init__(self, exporter: Any, signal: str) -> None:
        import grpc  # type: ignore[import-untyped] # noqa: PLC0415 - optional transport

        self._grpc = grpc
        self._exporter = exporter
        self._method = _grpc_method(signal)
        # What the SDK itself would retry (its default set, or the user's through
        # OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES): the same decision here.
        codes: Any = getattr(exporter, "_retryable_error_codes", None) or getattr(
            importlib.import_module(_GRPC_EXPORTER), "_RETRYABLE_ERROR_CODES", ()
        )
        self._retryable: frozenset[Any] = frozenset(codes)
        self._channel: Any = None
        self._call: Any = None
        self._lock = threading.Lock()  # reconnect vs shutdown (never held across a call)
        self._closed = False

    def _callable(self) -> Any:
        channel = self._exporter._channel  # noqa: SLF001 - the exporter's live channel
        if channel is not self._channel:
            # No serializers: bytes in, bytes out.
            self._call = channel.unary_unary(self._method)
            self._channel = channel
        return self._call

    def send(self, data: bytes) -> Outcome:
        exporter = self._exporter
        deadline = time.monotonic() + float(exporter._timeout)  # noqa: SLF001
        for attempt in range(2):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                self._callable()(
                    data,
                    timeout=remaining,
                    metadata=exporter._headers or None,  # noqa: SLF001
                    compression=exporter._compression,  # noqa: SLF001
                )
            except self._grpc.RpcError as error:
                code = error.code()
            except Exception:  # noqa: BLE001 - closed channel (shut down) and the like: keep it
                return None
            else:
                return True
            if code == self._grpc.StatusCode.UNAVAILABLE and attempt == 0 and self._reconnect():
                continue
            return None if code in self._retryable else f"gRPC {getattr(code, 'name', code)}"
        return None

    def _reconnect(self) -> bool:
        """A fresh channel from the exporter itself (False once shut down, or if it cannot)."""
        exporter = self._exporter
        reinitialize = getattr(exporter, "_initialize_channel_and_stub", None)
        if reinitialize is None:
            return False
        with self._lock:
            if self._closed or getattr(exporter, "_shutdown", False):
                return False
            try:
                exporter._channel.close()  # noqa: SLF001
                reinitialize()
            except Exception:  # noqa: BLE001 - keep the old channel; the batch waits on disk
                return False
        return True

    def shutdown(self, *args: Any, **kwargs: Any) -> Any:
        # Closing the channel cancels a call still waiting (a black-holed collector): the
        # exporting thread then spills that batch and the shutdown deadline holds.
        with self._lock:
            self._closed = True
            return self._exporter.shutdown(*args, **kwargs)


def transport_for(exporter: object, signal: str) -> Transport | None:
    """How the outbox sends bytes through `exporter`, or None if it cannot drive it."""
    module = type(exporter).__module__
    if module.startswith("opentelemetry.exporter.otlp.proto.grpc"):
        mixin = importlib.import_module(_GRPC_EXPORTER).OTLPExporterMixin
        if isinstance(exporter, mixin) and hasattr(exporter, "_channel"):
            return _GrpcTransport(exporter, signal)
        return None
    client = getattr(exporter, "_client", None)
    if callable(getattr(client, "export", None)) and "http" in module:
        return _HttpTransport(exporter)
    return None


def supports(exporter: object, signal: str = "traces") -> bool:
    """Whether `exporter` is an OTLP (HTTP or gRPC) exporter the outbox can drive."""
    return transport_for(exporter, signal) is not None


class OutboxExporter:
    """Wraps an OTLP exporter (HTTP or gRPC) of one signal with a bounded, ordered disk outbox."""

    def __init__(
        self,
        exporter: Any,
        *,
        signal: str,
        directory: Path,
        max_bytes: int,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
        transport: Transport | None = None,
    ) -> None:
        """Spill to `directory` (created on first use), within `max_bytes` and `max_age_s`.

        `transport` sends the bytes (default: the one `transport_for` picks for `exporter`).
        """
        chosen = transport or transport_for(exporter, signal)
        if chosen is None:
            msg = f"the outbox cannot drive a {type(exporter).__qualname__}"
            raise TypeError(msg)
        self._transport = chosen
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
            outcome = self._transport.send(data)
            if outcome is True:
                return success
            if outcome is None:
                self._spill(data, items)
            else:
                self._drop(items, f"refused by the collector ({outcome})")
            return failure

    def shutdown(self, *args: Any, **kwargs: Any) -> Any:
        """Shut the wrapped exporter down (the outbox stays on disk for the next run).

        Never waits for an export in progress: closing the connection ends it.
        """
        return self._transport.shutdown(*args, **kwargs)

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
            outcome = self._transport.send(data)
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
    """Wrap every OTLP exporter (HTTP, gRPC) of `signal` (others unchanged; no directory: none)."""
    if directory is None:
        return list(exporters)
    wrapped: list[Any] = []
    for exporter in exporters:
        transport = transport_for(exporter, signal)
        wrapped.append(
            exporter
            if transport is None
            else OutboxExporter(
                exporter,
                signal=signal,
                directory=directory / signal,
                max_bytes=max_bytes,
                max_age_s=max_age_s,
                transport=transport,
            )
        )
    return wrapped
