"""The retry and deadline policy both database paths share.

A failure is retried only when repeating it cannot apply a write twice: each path's
``repeat_is_safe`` decides that from what its backend raised, and :func:`mark_retryable` records
the answer as the error's ``retryable`` flag, the one thing :func:`with_retries` (through
:func:`runtime.retry.is_retryable`) reads. Every call runs within one total time budget;
:func:`deadline_error` is the error once it is spent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from time import monotonic as _monotonic
from typing import Any, Final, TypeVar
from uuid import UUID

from runtime.errors import PipelineError, ServiceUnavailableError
from runtime.logging import get_logger
from runtime.retry import backoff_delay, is_retryable, retry_with_backoff

__all__ = ["deadline_error", "mark_retryable", "with_retries"]

_logger = get_logger("runtime.database")

_T = TypeVar("_T")

_NOT_RETRIED: Final = "the call may have reached the database and is not idempotent"


async def with_retries(
    attempt: Callable[[], Awaitable[_T]],
    *,
    max_attempts: int,
    base_delay_seconds: float,
    max_delay_seconds: float,
    deadline_seconds: float | None = None,
) -> _T:
    """Run ``attempt`` under :func:`runtime.retry.retry_with_backoff` within a total deadline.

    Whether a failure is retried is decided by the raised error's ``retryable`` attribute
    alone (set by :func:`mark_retryable`: false for a write that may have been applied),
    through :func:`runtime.retry.is_retryable`. The first attempt runs directly (the common,
    successful case pays nothing for the retry machinery); the retries after a retryable
    failure run under :func:`runtime.retry.retry_with_backoff`, within what is left of the
    deadline.

    Args:
        attempt: One try; raises a :class:`~runtime.errors.PipelineError` on failure.
        max_attempts: Tries in all.
        base_delay_seconds: Delay before the first retry; doubles for each further one.
        max_delay_seconds: Upper bound on one delay.
        deadline_seconds: Total time budget, or ``None`` for none.

    Returns:
        What the first successful attempt returned.

    Raises:
        PipelineError: The last attempt's error (or the first one's, when it may not be
            repeated or no time is left for another try).
    """
    started = _monotonic()
    try:
        return await attempt()
    except PipelineError as exc:
        if max_attempts == 1 or not is_retryable(exc):
            raise
        first = exc
    delay = backoff_delay(0, base_delay=base_delay_seconds, max_delay=max_delay_seconds)
    left = None if deadline_seconds is None else deadline_seconds - (_monotonic() - started)
    if left is not None and left <= delay:
        raise first
    _logger.warning(
        "Retrying after attempt 1/%d failed: %s",
        max_attempts,
        type(first).__name__,
        extra={
            "attempt": 1,
            "max_attempts": max_attempts,
            "delay_seconds": round(delay, 3),
            "error_type": type(first).__name__,
            "error": str(first),
            "job_id": first.job_id,
        },
    )
    await _sleep(delay)
    retrying = retry_with_backoff(
        max_attempts=max_attempts - 1,
        base_delay=min(base_delay_seconds * 2, max_delay_seconds),
        max_delay=max_delay_seconds,
        deadline_seconds=None if left is None else max(0.001, left - delay),
    )(attempt)
    return await retrying()


async def _sleep(seconds: float) -> None:
    from runtime.testing import is_testing

    await asyncio.sleep(0 if is_testing() else seconds)


def mark_retryable(error: PipelineError, *, safe: bool) -> PipelineError:
    """Record whether a translated error may be retried: only if repeating cannot write twice.

    Args:
        error: Our error, translated from what the backend raised.
        safe: Whether repeating the call cannot apply a write twice.

    Returns:
        ``error``, with ``retryable`` set to ``safe`` and, when a transient error is not retried
        for that reason, ``details["not_retried"]`` saying why.
    """
    if error.retryable and not safe:
        error.details["not_retried"] = _NOT_RETRIED
    error.retryable = safe
    return error


def deadline_error(
    budget: float, *, sent: bool, idempotent: bool, job_id: UUID | None
) -> ServiceUnavailableError:
    """The error of a call whose total time budget is spent.

    Retryable (by a caller's own, later retry) only if repeating cannot apply a write twice:
    nothing was sent, or the call is idempotent.

    Args:
        budget: The call deadline, in seconds.
        sent: Whether the request or statement may have reached the database.
        idempotent: Whether the call has the same effect when made twice.
        job_id: The job the call belongs to.

    Returns:
        A ``ServiceUnavailableError`` with ``code="deadline_exceeded"``.
    """
    safe = not sent or idempotent
    details: dict[str, Any] = {"deadline_seconds": budget}
    if not safe:
        details["not_retried"] = _NOT_RETRIED
    return ServiceUnavailableError(
        f"no answer from the database within the call deadline of {budget:g} s",
        job_id,
        code="deadline_exceeded",
        retryable=safe,
        details=details,
        service="database",
    )
