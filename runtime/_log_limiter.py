"""The cache's warning limiter: :class:`runtime.logging.LogRateLimiter` plus a count per kind.

A warning of a kind already logged within the interval is not written; the next one that is
written says how many were left out (``suppressed`` field and a note in the message). The
limiter is per process and thread-safe, so an outage seen by many clients and tasks gives one
line per kind every interval, not one per call. ``seen`` counts every warning asked for,
written or not, for metrics and tests.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from runtime._log_ratelimit import LogRateLimiter

__all__ = ["WarningLimiter"]


class WarningLimiter:
    """Lets one warning per ``kind`` through every ``interval_seconds`` and counts the others.

    Args:
        interval_seconds: Minimum time between two lines of the same kind.
        clock: Monotonic clock (seconds).
    """

    def __init__(
        self, interval_seconds: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._interval = interval_seconds
        self._limiter = LogRateLimiter(interval_seconds, clock=clock)
        self.seen: Counter[str] = Counter()
        """Every warning asked for, per kind, written or not (for metrics and tests)."""

    @property
    def interval_seconds(self) -> float:
        """Minimum time between two lines of the same kind (setting it starts afresh)."""
        return self._interval

    @interval_seconds.setter
    def interval_seconds(self, value: float) -> None:
        with self._lock:
            self._interval = value
            self._limiter = LogRateLimiter(value, clock=self._clock)

    def warning(
        self, logger: Any, kind: str, message: str, *args: object, **fields: object
    ) -> bool:
        """Log ``message % args`` at WARNING unless ``kind`` was logged within the interval.

        Args:
            logger: A stdlib logger or adapter.
            kind: What the warning is about (``"cache_read_miss"``); counted per kind.
            message: ``%``-style format string.
            *args: Its arguments.
            **fields: Structured fields for the line (passed as ``extra``).

        Returns:
            ``True`` when the line was written, ``False`` when it was counted as suppressed.
        """
        with self._lock:
            self.seen[kind] += 1
        suppressed = self._limiter.check(kind)
        if suppressed is None:
            return False
        if suppressed:
            message += " (%d similar warnings suppressed in the last %g s)"
            args = (*args, suppressed, self.interval_seconds)
        logger.warning(message, *args, extra={**fields, "kind": kind, "suppressed": suppressed})
        return True

    def reset(self) -> None:
        """Forget what was logged (tests)."""
        with self._lock:
            self._limiter = LogRateLimiter(self._interval, clock=self._clock)
            self.seen.clear()
