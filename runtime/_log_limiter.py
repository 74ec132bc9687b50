"""One rate limiter for repeated warnings: one line per kind and interval, the rest counted.

A warning of a kind already logged within the interval is not written; the next one that is
written says how many were left out (``suppressed`` field and a note in the message). The
limiter is per process and thread-safe, so an outage seen by many clients and tasks gives one
line per kind every interval, not one per call.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

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
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self.seen: Counter[str] = Counter()
        """Every warning asked for, per kind, written or not (for metrics and tests)."""

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
        now = self._clock()
        with self._lock:
            self.seen[kind] += 1
            last = self._last.get(kind)
            if last is not None and now - last < self.interval_seconds:
                self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                return False
            self._last[kind] = now
            suppressed = self._suppressed.pop(kind, 0)
        if suppressed:
            message += " (%d similar warnings suppressed in the last %g s)"
            args = (*args, suppressed, self.interval_seconds)
        logger.warning(message, *args, extra={**fields, "kind": kind, "suppressed": suppressed})
        return True

    def reset(self) -> None:
        """Forget what was logged (tests)."""
        with self._lock:
            self._last.clear()
            self._suppressed.clear()
            self.seen.clear()
