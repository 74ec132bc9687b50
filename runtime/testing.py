"""Helpers for test suites: remove retry waits and capture structured log lines.

Usage::

    from runtime.testing import capture_logs, set_testing

    set_testing(True)               # retries keep their attempt count but never sleep

    with capture_logs() as logs:
        do_something()
    assert logs.find(message="Retrying call_api")["attempt"] == 1

``set_testing`` can also be used as a context manager that restores the previous mode::

    with set_testing(True):
        ...
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from runtime import logging as _vlogging
from runtime import retry as _retry
from runtime._log_format import handle_error_redacted
from runtime.errors import InvalidOptionTypeError

__all__ = ["CapturedLogs", "capture_logs", "is_testing", "set_testing"]


class _TestingMode:
    """The value of :func:`set_testing`; as a context manager it restores the previous mode."""

    def __init__(self, previous: bool) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _retry._set_testing(self._previous)


def set_testing(enabled: bool) -> _TestingMode:
    """Turn testing mode on or off: retry delays become zero, attempt counts are unchanged.

    Delays are still computed and logged, so tests can assert them without sleeping.

    Args:
        enabled: ``True`` to stop :func:`runtime.retry.retry_with_backoff` from sleeping.

    Returns:
        A context manager that, on exit, restores the mode that was active before this call
        (ignore it to switch permanently).

    Raises:
        TypeError: ``enabled`` is not a bool.
    """
    if not isinstance(enabled, bool):
        raise InvalidOptionTypeError(f"set_testing expects a bool, got {type(enabled).__name__}")
    previous = _retry._is_testing()
    _retry._set_testing(enabled)
    return _TestingMode(previous)


def is_testing() -> bool:
    """Return whether testing mode (no retry waits) is on.

    Returns:
        The current mode.
    """
    return _retry._is_testing()


class CapturedLogs:
    """The lines logged inside a :func:`capture_logs` block, as text and as parsed JSON."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.records: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    @property
    def messages(self) -> list[str]:
        """The ``message`` of every captured record, in order."""
        return [str(record["message"]) for record in self.records]

    def filter(self, **fields: Any) -> list[dict[str, Any]]:
        """Return the records whose fields equal every given value.

        Args:
            **fields: Field names and the values they must have (compare JSON values: a UUID
                ``job_id`` is its string).

        Returns:
            The matching records, in order.
        """
        return [r for r in self.records if all(r.get(k) == v for k, v in fields.items())]

    def find(self, **fields: Any) -> dict[str, Any]:
        """Return the single record matching ``fields``.

        Args:
            **fields: As for :meth:`filter`.

        Returns:
            The one matching record.

        Raises:
            AssertionError: No record, or more than one, matches (the message lists them).
        """
        found = self.filter(**fields)
        if len(found) != 1:
            raise AssertionError(
                f"expected exactly one log record with {fields!r}, found {len(found)}; "
                f"captured messages: {self.messages!r}"
            )
        return found[0]


class _CaptureHandler(logging.Handler):
    def __init__(self, sink: CapturedLogs, level: int) -> None:
        super().__init__(level)
        self._sink = sink
        self.setFormatter(_vlogging.JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # as in production: a broken record never raises into the caller
            handle_error_redacted(record)
            return
        self._sink.lines.append(line)
        self._sink.records.append(json.loads(line))


@contextmanager
def capture_logs(*, level: str | int = "DEBUG") -> Iterator[CapturedLogs]:
    """Capture every line the ``videogen`` loggers emit inside the block.

    The lines are formatted (and redacted) exactly as in production, then parsed back, so
    assertions see the real output. Logging is configured first if it was not yet; the
    ``videogen`` logger's level is lowered to ``level`` for the block and restored afterwards.

    Args:
        level: The lowest level to capture.

    Yields:
        A :class:`CapturedLogs` that fills while the block runs.

    Raises:
        ValueError: ``level`` is not a known level name or number.
    """
    number = _vlogging._parse_level(level)
    _vlogging._ensure_configured()
    base = logging.getLogger(_vlogging.BASE_LOGGER_NAME)
    sink = CapturedLogs()
    handler = _CaptureHandler(sink, number)
    previous_level = base.level
    base.addHandler(handler)
    base.setLevel(min(number, previous_level) if previous_level else number)
    try:
        yield sink
    finally:
        base.removeHandler(handler)
        base.setLevel(previous_level)
        handler.close()
