"""Redis errors translated into ours, and the hard deadline every cache operation runs under.

:func:`translate` maps a redis-py exception to the :mod:`runtime.errors` class callers catch
(``service="cache"``). :class:`Deadlines` runs one operation in its own task and stops waiting
for it when its budget is spent: unlike ``asyncio.timeout``, this holds even when a cancellation
is swallowed underneath (redis-py sends through ``asyncio.wait_for``, which on Python 3.11 can
swallow a cancellation that arrives as the send completes). A task that outlives its deadline is
cancelled, kept track of, and awaited (briefly) when the client closes.
:meth:`Deadlines.attempt` is the one place an operation's outcome is sorted: its result, a
:class:`GaveUp` (Redis unavailable within the budget), or our error for what Redis refused.

The logger and the redaction (:mod:`runtime.logging`) are loaded on first use: importing the
cache loads neither.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, Final, TypeVar
from uuid import UUID

import redis.exceptions as redis_exc

from runtime._log_ratelimit import LogRateLimiter
from runtime.errors import (
    CacheError,
    ConflictError,
    PermissionDeniedError,
    ServiceError,
    ServiceUnavailableError,
)

if TYPE_CHECKING:
    from runtime.logging import PipelineLogger

__all__ = [
    "GIVE_UP",
    "LIBRARY_FAULTS",
    "LIMITER",
    "STORE_FAILED",
    "UNAVAILABLE",
    "DeadlineExceededError",
    "Deadlines",
    "GaveUp",
    "debug",
    "from_redis",
    "gave_up",
    "not_cached",
    "storing",
    "translate",
    "unavailable",
    "warn",
]

LIMITER: Final = LogRateLimiter(interval_seconds=10.0)
"""The one rate limiter every repeated cache warning goes through (per process)."""


@cache
def _logger() -> PipelineLogger:
    from runtime.logging import get_logger

    return get_logger("runtime.cache")


def _redact(text: str) -> str:
    from runtime.logging import redact

    return redact(text)


def debug(message: str, *args: object) -> None:
    """Log a debug line (not rate-limited) on the cache's logger."""
    _logger().debug(message, *args)


def warn(kind: str, message: str, *args: object, **fields: object) -> None:
    """Log a cache warning through :data:`LIMITER` (one line per kind every 10 s, rest counted).

    Args:
        kind: What the warning is about; lines are limited per kind.
        message: ``%``-style format string.
        *args: Its arguments.
        **fields: Structured fields for the line.
    """
    LIMITER.warning(_logger(), kind, message, *args, **fields)


def gave_up(operation: str, key: str, exc: BaseException, instead: str) -> None:
    """Warn (rate-limited, kind ``cache_unavailable:<operation>``) that Redis was unavailable.

    Args:
        operation: The cache method (``"get"``, ``"get_or_set"``).
        key: The caller's key.
        exc: What made the operation give up.
        instead: What the operation did instead, in the message ("reported as a miss").
    """
    warn(
        f"cache_unavailable:{operation}",
        "Redis unavailable; %s of %r %s",
        operation if operation == "get_or_set" else f"cache {operation}",
        key,
        instead,
        operation=operation,
        cache_key=key,
        error_type=type(exc).__name__,
        error=str(exc)[:300],
    )


def not_cached(key: str, exc: BaseException) -> None:
    """Warn (rate-limited, kind ``cache_not_stored``) that a computed value was not stored."""
    warn(
        "cache_not_stored",
        "Computed value for %r not cached: %s",
        key,
        exc,
        cache_key=key,
        error_type=type(exc).__name__,
    )


@contextmanager
def storing(key: str) -> Iterator[None]:
    """Store a computed value at best: a failure is logged (:func:`not_cached`), not raised.

    Args:
        key: The caller's key.

    Yields:
        Nothing.
    """
    try:
        yield
    except STORE_FAILED as exc:
        not_cached(key, exc)


T = TypeVar("T")

UNAVAILABLE: Final[tuple[type[Exception], ...]] = (
    redis_exc.ConnectionError,
    redis_exc.TimeoutError,
    redis_exc.BusyLoadingError,
    redis_exc.ReadOnlyError,
    redis_exc.TryAgainError,
    redis_exc.ClusterDownError,
)
"""Redis errors that mean "not reachable right now": reads report a miss, writes may retry."""

LIBRARY_FAULTS: Final[tuple[type[Exception], ...]] = (AttributeError,)
"""Raised by redis-py itself when a connection is torn down under a running command (seen with
the cluster client during a failover, redis-py 8.1: ``'NoneType' object has no attribute
'writelines'``); treated like Redis being unavailable rather than leaked to callers."""

_DENIED: Final[tuple[type[Exception], ...]] = (
    redis_exc.AuthenticationError,
    redis_exc.AuthorizationError,
    redis_exc.NoPermissionError,
    redis_exc.AuthenticationWrongNumberOfArgsError,
)


class DeadlineExceededError(Exception):
    """An operation's time budget was spent before it finished (internal; never leaves)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not finish within its {seconds:g} s budget")
        self.seconds = seconds


GIVE_UP: Final[tuple[type[Exception], ...]] = (DeadlineExceededError, *UNAVAILABLE, *LIBRARY_FAULTS)
"""What makes an operation give up on Redis: a miss for reads, ``ServiceUnavailableError`` else."""

STORE_FAILED: Final[tuple[type[Exception], ...]] = (
    DeadlineExceededError,
    redis_exc.RedisError,
    *LIBRARY_FAULTS,
)
"""What a best-effort write (a computed value, a lock release or renewal) logs and moves past."""


def translate(
    exc: redis_exc.RedisError, *, service: str = "cache", job_id: UUID | None = None
) -> ServiceError:
    """Return the error of ours that stands for a redis-py error.

    Args:
        exc: What redis-py raised.
        service: The service to name on the error.
        job_id: The job the operation belonged to, when known.

    Returns:
        ``PermissionDeniedError`` (authentication), ``ServiceUnavailableError`` (connection,
        timeout, loading, read-only replica, cluster down), ``ConflictError`` (``WatchError``,
        retryable) or ``CacheError``; ``upstream_code`` the redis-py class.
    """
    cls: type[ServiceError] = CacheError
    retryable: bool | None = None
    if isinstance(exc, _DENIED):
        cls = PermissionDeniedError
    elif isinstance(exc, UNAVAILABLE):
        cls = ServiceUnavailableError
    elif isinstance(exc, redis_exc.WatchError):
        cls, retryable = ConflictError, True
    text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    return cls(
        _redact(text),
        job_id,
        retryable=retryable,
        service=service,
        upstream_code=type(exc).__name__,
    )


def from_redis(exc: redis_exc.RedisError, service: str, job_id: UUID | None) -> ServiceError:
    """:func:`translate`, in the shape :mod:`runtime.error_mapping`'s table calls."""
    return translate(exc, service=service, job_id=job_id)


def unavailable(operation: str, exc: Exception, *, outcome_known: bool) -> ServiceUnavailableError:
    """The error a write raises when Redis could not be reached within the budget.

    Args:
        operation: The cache method, such as ``"set"``.
        exc: The redis-py error or :class:`DeadlineExceededError`.
        outcome_known: ``False`` when the write may have been applied and repeating it would
            not give the same answer (``nx=True``): then ``retryable=False``.

    Returns:
        ``ServiceUnavailableError`` with ``service="cache"``.
    """
    text = _redact(f"cache {operation} failed: {type(exc).__name__}: {exc}".rstrip(": "))
    error = ServiceUnavailableError(
        text,
        retryable=outcome_known,
        service="cache",
        upstream_code=type(exc).__name__,
        details={"operation": operation, "outcome": "repeatable" if outcome_known else "unknown"},
    )
    return error


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # mark it retrieved: a late failure is expected, not "never retrieved"


class GaveUp:
    """What :meth:`Deadlines.attempt` returns when the operation gave up on Redis.

    Args:
        error: What made it give up (:data:`GIVE_UP`).
    """

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


class Deadlines:
    """Runs awaitables under a hard deadline and remembers the ones that overran it."""

    def __init__(self) -> None:
        self._overrun: set[asyncio.Future[Any]] = set()

    async def run(self, work: Awaitable[T], seconds: float) -> T:
        """Await ``work`` for at most ``seconds``.

        Args:
            work: The operation (a coroutine; it runs in its own task).
            seconds: Its budget.

        Returns:
            What ``work`` returned.

        Raises:
            DeadlineExceededError: The budget was spent; ``work`` is cancelled and left behind.
            BaseException: Whatever ``work`` raised.
        """
        task = asyncio.ensure_future(work)
        try:
            await asyncio.wait((task,), timeout=seconds)
        except BaseException:  # our caller was cancelled: so is the work
            self._abandon(task)
            raise
        if task.done():
            return task.result()
        self._abandon(task)
        raise DeadlineExceededError(seconds)

    async def attempt(self, work: Awaitable[T], seconds: float) -> T | GaveUp:
        """:meth:`run` ``work``, sorting its outcome the one way every cache operation does.

        Args:
            work: The operation.
            seconds: Its budget.

        Returns:
            What ``work`` returned, or a :class:`GaveUp` when the budget was spent or Redis was
            unavailable (:data:`GIVE_UP`): the caller decides between a miss and an error.

        Raises:
            ServiceError: Redis refused the command (translated with :func:`translate`).
        """
        try:
            return await self.run(work, seconds)
        except GIVE_UP as exc:
            return GaveUp(exc)
        except redis_exc.RedisError as exc:
            raise translate(exc) from exc

    def _abandon(self, task: asyncio.Future[Any]) -> None:
        task.cancel()
        if not task.done():
            self._overrun.add(task)
            task.add_done_callback(self._overrun.discard)
        task.add_done_callback(_retrieve)

    async def drain(self, seconds: float) -> None:
        """Wait up to ``seconds`` for overrun operations to end (they were cancelled).

        Args:
            seconds: The longest wait.
        """
        if self._overrun:
            for task in self._overrun:
                task.cancel()
            await asyncio.wait(set(self._overrun), timeout=seconds)
