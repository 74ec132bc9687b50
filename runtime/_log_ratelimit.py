"""The one rate limiter for repeated log lines: one line per key per interval, the rest counted."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any, Final

from runtime.errors import InvalidOptionError

MAX_KEYS: Final = 1024


def _checked_interval(interval_seconds: float) -> float:
    if (
        isinstance(interval_seconds, bool)
        or not isinstance(interval_seconds, int | float)
        or not math.isfinite(interval_seconds)
        or interval_seconds <= 0
    ):
        raise InvalidOptionError(f"interval_seconds must be > 0, got {interval_seconds!r}")
    return float(interval_seconds)


class LogRateLimiter:
    """Let one line per key through each ``interval_seconds``; count the ones held back.

    Use it for warnings that a failing dependency would otherwise repeat on every call (a cache
    write that fails during an outage)::

        _cache_warnings = LogRateLimiter(interval_seconds=10.0)

        _cache_warnings.log(logger, logging.WARNING, "cache-write", "Value not cached: %s", err)

    The first line for a key is emitted at once; later ones within the interval are dropped and
    counted, and the next emitted line carries ``suppressed`` (how many were dropped). The limit
    is per process (each worker process emits its own line per interval) and per limiter, and
    thread-safe. At most 1,024 keys are remembered (least recently used are forgotten), so
    unbounded keys cannot grow memory. :attr:`seen` counts every line asked for, per key,
    emitted or not (for metrics and tests).
    """

    def __init__(
        self,
        interval_seconds: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Create a limiter.

        Args:
            interval_seconds: Minimum time between two lines with the same key (> 0).
            clock: A monotonic clock in seconds (tests pass a fake one).

        Raises:
            ValueError: ``interval_seconds`` is not a positive finite number.
        """
        self._interval = _checked_interval(interval_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self.seen: Counter[str] = Counter()
        """Every line asked for, per key, emitted or not (keys forgotten with their state)."""

    @property
    def interval_seconds(self) -> float:
        """Minimum time between two lines with the same key (setting it starts afresh)."""
        return self._interval

    @interval_seconds.setter
    def interval_seconds(self, value: float) -> None:
        checked = _checked_interval(value)
        with self._lock:
            self._interval = checked
            self._state.clear()

    def reset(self) -> None:
        """Forget every key and count (tests)."""
        with self._lock:
            self._state.clear()
            self.seen.clear()

    def check(self, key: str) -> int | None:
        """Decide whether a line with ``key`` may be emitted now (and count it in :attr:`seen`).

        Args:
            key: What makes two lines "the same" (a message id, an operation name).

        Returns:
            ``None`` to drop the line; otherwise how many lines with this key were dropped since
            the last one emitted.
        """
        now = self._clock()
        with self._lock:
            self.seen[key] += 1
            previous = self._state.get(key)
            if previous is not None and now - previous[0] < self._interval:
                self._state[key] = (previous[0], previous[1] + 1)
                self._state.move_to_end(key)
                return None
            suppressed = previous[1] if previous is not None else 0
            self._state[key] = (now, 0)
            self._state.move_to_end(key)
            while len(self._state) > MAX_KEYS:
                forgotten, _ = self._state.popitem(last=False)
                self.seen.pop(forgotten, None)
            return suppressed

    def log(
        self,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        level: int,
        key: str,
        msg: str,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        """Log through ``logger`` unless a line with ``key`` went out less than an interval ago.

        Args:
            logger: Any stdlib logger or adapter (e.g. from :func:`runtime.logging.get_logger`).
            level: The stdlib level number.
            key: What makes two lines "the same".
            msg: The message (``%`` style).
            *args: The message arguments.
            **kwargs: Passed to ``logger.log`` (``extra``, ``exc_info``...); ``suppressed`` is
                added to ``extra``.

        Returns:
            Whether the line was emitted.
        """
        suppressed = self.check(key)
        if suppressed is None:
            return False
        kwargs["extra"] = {**(kwargs.get("extra") or {}), "suppressed": suppressed}
        logger.log(level, msg, *args, **kwargs)
        return True

    def warning(
        self,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        kind: str,
        message: str,
        *args: object,
        **fields: object,
    ) -> bool:
        """Log a WARNING keyed by ``kind`` that also says, in its text, how many were dropped.

        The line carries ``kind`` and ``suppressed`` fields; when lines were dropped, the message
        ends with ``" (N similar warnings suppressed in the last S s)"``.

        Args:
            logger: Any stdlib logger or adapter.
            kind: What the warning is about (``"cache_read_miss"``): the key.
            message: ``%``-style format string.
            *args: Its arguments.
            **fields: Structured fields for the line (passed as ``extra``).

        Returns:
            Whether the line was emitted.
        """
        suppressed = self.check(kind)
        if suppressed is None:
            return False
        if suppressed:
            message += " (%d similar warnings suppressed in the last %g s)"
            args = (*args, suppressed, self._interval)
        logger.warning(message, *args, extra={**fields, "kind": kind, "suppressed": suppressed})
        return True
