"""`WebhookSink`: POST every `FlextAlert` it receives to a webhook URL.

Each notification is one `POST` with `Content-Type: application/json` whose body is exactly
`alert.model_dump_json()`; the alert engine sends one when an alert becomes active, escalates and
resolves, and the alert's `status` says which. Other entity kinds are ignored.

Delivery never blocks the caller: `write()` only appends to a bounded queue (full: the
notification is dropped and counted) and a daemon thread sends, retrying 429, 5xx and connection
errors with full-jitter exponential backoff (`Retry-After`, in seconds or as an HTTP date, wins
when present, capped at `backoff_max`). Other answers (4xx, and 3xx: redirects are not followed)
are not retried. Loss is counted per reason in `dropped_by_reason`: `queue_full`, `rejected`,
`retries_exhausted`, `closed` (still pending when `close()` gave up) and `error`.

The URL (credentials, path, query tokens) and header values are secrets: logs, exceptions and
`repr` show only `scheme://host[:port]/***`. Warnings go to the `flext_observability.webhook`
logger, at most one per `warn_interval` (the number suppressed is reported with the next one).
Credentials in the URL's user-info are sent as HTTP Basic authentication.

This module is core: it never imports OpenTelemetry. Pass `suppress=` (e.g.
`opentelemetry.instrumentation.utils.suppress_instrumentation`) so our own HTTP calls are not
traced. After `fork()` the child starts with an empty queue and no counts; its sender thread is
started on its first write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Final

from flext_observability._internal import fork
from flext_observability._internal.guard import guard
from flext_observability._internal.signals import start_quiet
from flext_observability.models import Entity, FlextAlert
from flext_observability.sinks._webhook_http import (
    Outcome,
    Target,
    backoff_delay,
    check_count,
    check_number,
    parse_retry_after,
    post,
)

__all__ = ["WebhookSink"]

_JITTER = random.SystemRandom()
"""Jitter from the OS: never advances the app's `random` state, and differs across forks."""

_SITE: Final = "sinks.webhook"
DEFAULT_CLOSE_TIMEOUT: Final = 5.0
"""Seconds `close(None)` waits, the documented default shutdown deadline."""

logger = logging.getLogger("flext_observability.webhook")


class WebhookSink:
    """Send alert notifications to a webhook from a background thread (see the module doc)."""

    _WHAT = "alert webhook"

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        queue_size: int = 1000,
        warn_interval: float = 60.0,
        suppress: Callable[[], AbstractContextManager[object]] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] | None = None,
        rand: Callable[[], float] = _JITTER.random,
    ) -> None:
        """Validate the settings; the sender thread starts on the first alert.

        Args:
            url: The webhook URL (a secret: never logged).
            headers: Extra request headers, e.g. an `Authorization` token (values are secrets).
            timeout: Seconds per HTTP attempt.
            max_retries: Retries after the first attempt (0: try once).
            backoff_base: First backoff ceiling in seconds; doubles per retry.
            backoff_max: Cap on any wait, including `Retry-After`.
            queue_size: Notifications waiting to be sent (the one in flight not counted).
            warn_interval: Seconds between two warnings on the `flext_observability.webhook`
                logger.
            suppress: Returns a context manager entered around each HTTP call (default: none).
            clock: Monotonic seconds, for warning intervals.
            wall_clock: Seconds since the epoch, to read `Retry-After` HTTP dates.
            sleep: Waits between attempts (default: a wait that `close()` interrupts).
            rand: Uniform [0, 1) source of the backoff jitter.

        Raises:
            ConfigurationError: a setting is invalid (the URL is shown masked).
        """
        self._target = Target.parse(url, headers)
        self._timeout = check_number("timeout", timeout, minimum=0, inclusive=False)
        self._max_retries = check_count("max_retries", max_retries, minimum=0)
        self._backoff_base = check_number("backoff_base", backoff_base, minimum=0, inclusive=False)
        self._backoff_max = check_number("backoff_max", backoff_max, minimum=0, inclusive=True)
        self._queue_size = check_count("queue_size", queue_size, minimum=1)
        self._warn_interval = check_number(
            "warn_interval", warn_interval, minimum=0, inclusive=True
        )
        self._suppress = suppress or contextlib.nullcontext
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep or self._interruptible_sleep
        self._rand = rand
        self._closed = False
        self._reset_runtime()
        fork.register(self, after_in_child=self._reset_runtime)

    def _reset_runtime(self) -> None:
        # Everything a forked child must not inherit: locks, queue, thread, counts.
        self._pid = os.getpid()
        self._cond = threading.Condition(threading.Lock())
        self._stop = threading.Event()
        self._queue: deque[FlextAlert] = deque()
        self._pending = 0  # queued + in flight
        self._thread: threading.Thread | None = None
        self._sent = 0
        self._retries = 0
        self._dropped: Counter[str] = Counter()
        self._last_warning: float | None = None
        self._suppressed_warnings = 0

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            self._reset_runtime()

    def __repr__(self) -> str:
        """Show the masked URL only."""
        return f"{type(self).__name__}(url={self._target.masked!r})"

    @property
    def sent(self) -> int:
        """Notifications the webhook accepted (2xx)."""
        return self._sent

    @property
    def retries(self) -> int:
        """Attempts repeated after a retryable failure."""
        return self._retries

    @property
    def dropped(self) -> int:
        """Notifications lost, all reasons together."""
        with self._cond:
            return sum(self._dropped.values())

    @property
    def dropped_by_reason(self) -> dict[str, int]:
        """Notifications lost, per reason."""
        with self._cond:
            return dict(self._dropped)

    def write(self, entities: Sequence[Entity]) -> None:
        """Queue every `FlextAlert` in `entities` for sending; never blocks or raises."""
        with guard(_SITE):
            self._check_fork()
            alerts = [e for e in entities if isinstance(e, FlextAlert)]
            if not alerts:
                return
            full = 0
            with self._cond:
                if self._closed:
                    return
                for alert in alerts:
                    if len(self._queue) >= self._queue_size:
                        full += 1
                    else:
                        self._queue.append(alert)
                        self._pending += 1
                if full:
                    self._dropped["queue_full"] += full
                self._ensure_thread()
                self._cond.notify()
            if full:
                self._warn(
                    f"{self._WHAT} {self._target.masked}: queue full ({self._queue_size}); "
                    f"dropped {full} notification(s)"
                )

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="flext-observability-webhook", daemon=True
            )
            start_quiet(self._thread)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued notification is delivered or dropped; False on expiry."""
        self._check_fork()
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        with self._cond:
            while self._pending:
                if deadline is None:
                    self._cond.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float | None = None) -> None:
        """Deliver what is queued within `timeout` (None: 5 s), then stop; later writes ignored.

        Notifications still queued when the time is up are dropped with reason `closed`; an
        HTTP attempt in flight is abandoned to the daemon thread (it cannot outlive the process).
        """
        self._check_fork()
        budget = DEFAULT_CLOSE_TIMEOUT if timeout is None else max(timeout, 0.0)
        deadline = time.monotonic() + budget
        with self._cond:
            self._closed = True
        self.flush(budget)
        self._stop.set()
        with self._cond:
            abandoned = len(self._queue)
            self._queue.clear()
            self._pending -= abandoned
            if abandoned:
                self._dropped["closed"] += abandoned
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(deadline - time.monotonic(), 0.0))
        fork.unregister(self)

    def _interruptible_sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _idle_wait(self) -> float | None:
        """Seconds the sender waits for work before calling `_on_idle` (None: forever)."""
        return None

    def _on_idle(self) -> None:
        """Called with the lock held each time the idle sender wakes up (may queue work)."""

    def _enqueue_locked(self, alert: FlextAlert) -> None:
        """Queue one notification (lock held) unless the queue is full."""
        if len(self._queue) >= self._queue_size:
            self._dropped["queue_full"] += 1
        else:
            self._queue.append(alert)
            self._pending += 1

    def _payload(self, alert: FlextAlert) -> bytes:
        """The request body of one notification: the alert's JSON."""
        return alert.model_dump_json().encode("utf-8")

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stop.is_set():
                    self._cond.wait(self._idle_wait())
                    self._on_idle()
                if self._stop.is_set():
                    return
                alert = self._queue.popleft()
            reason: str | None = "error"
            with guard(_SITE, reraise=False):  # the sender thread must survive
                reason = self._deliver(alert)
            with self._cond:
                if reason is None:
                    self._sent += 1
                else:
                    self._dropped[reason] += 1
                self._pending -= 1
                self._cond.notify_all()

    def _deliver(self, alert: FlextAlert) -> str | None:
        """Send one notification with retries; return None if delivered, else the drop reason."""
        body = self._payload(alert)
        attempt = 0
        while True:
            with self._suppress():
                result = post(self._target, body, self._timeout)
            if result.outcome is Outcome.DELIVERED:
                return None
            masked = self._target.masked
            if result.outcome is Outcome.REJECTED:
                self._warn(
                    f"{self._WHAT} {masked} rejected a notification ({result.description}); "
                    "not retried"
                )
                return "rejected"
            if attempt >= self._max_retries:
                self._warn(
                    f"{self._WHAT} {masked} failed ({result.description}) after "
                    f"{attempt + 1} attempt(s); notification dropped"
                )
                return "retries_exhausted"
            delay = parse_retry_after(
                result.retry_after, now=self._wall_clock(), cap=self._backoff_max
            )
            if delay is None:
                delay = backoff_delay(
                    attempt, base=self._backoff_base, cap=self._backoff_max, rand=self._rand
                )
            attempt += 1
            with self._cond:
                self._retries += 1
            self._sleep(delay)
            if self._stop.is_set():
                return "closed"

    def _warn(self, message: str) -> None:
        now = self._clock()
        with self._cond:
            last = self._last_warning
            if last is not None and now - last < self._warn_interval:
                self._suppressed_warnings += 1
                return
            suppressed, self._suppressed_warnings = self._suppressed_warnings, 0
            self._last_warning = now
        if suppressed:
            message += f" ({suppressed} similar warning(s) suppressed)"
        logger.warning("%s", self._target.scrub(message))
