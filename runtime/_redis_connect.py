"""The one place a redis-py client is built from :class:`~runtime._redis_options.CacheOptions`.

Today every URL (``redis://``, ``rediss://``, ``unix://``) gives a single-server client with a
bounded, waiting pool and redis-py's retry of connection errors and timeouts. Cluster or Sentinel
selection by URL belongs in :func:`connect` too: the cache uses only commands both offer (``GET``,
``SET``, ``DEL``, ``EXISTS``, ``TTL``, ``EXPIRE``, ``PING``, scripts through ``redis.lock``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from runtime._redis_options import CacheOptions

__all__ = ["FAILED_ATTEMPTS", "connect"]

T = TypeVar("T")

FAILED_ATTEMPTS: ContextVar[list[int] | None] = ContextVar(
    "videogen_redis_failed_attempts", default=None
)
"""Failed attempts of the command now running in this task (``None`` when nobody counts)."""


class _ObservedRetry(Retry):
    """redis-py's ``Retry`` that also counts, for the caller awaiting the command, failed attempts.

    redis-py calls ``fail`` once per failed attempt before it retries; the count tells a caller
    whether the reply it got came from a repeated command (an ``SET NX`` read-back needs this).
    """

    async def call_with_retry(
        self, do: Callable[[], Awaitable[T]], fail: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> T:
        async def observed(*fail_args: Any) -> Any:
            failures = FAILED_ATTEMPTS.get()
            if failures is not None:
                failures[0] += 1
            result = fail(*fail_args)
            return await result if inspect.isawaitable(result) else result

        return await super().call_with_retry(do, observed, *args, **kwargs)


def connect(options: CacheOptions) -> Redis:
    """Build the redis-py client for ``options`` (no connection is opened yet).

    Args:
        options: The cache's options.

    Returns:
        A ``redis.asyncio.Redis`` over a ``BlockingConnectionPool`` of ``max_connections``,
        waiting at most ``pool_wait_seconds`` for a connection, retrying connection errors and
        timeouts ``max_attempts - 1`` times with jittered exponential backoff.
    """
    pool = BlockingConnectionPool.from_url(
        options.url,
        max_connections=options.max_connections,
        timeout=options.pool_wait_seconds,
        socket_timeout=options.socket_timeout_seconds,
        socket_connect_timeout=options.connect_timeout_seconds,
        retry=_ObservedRetry(
            ExponentialWithJitterBackoff(
                base=options.retry_base_delay_seconds, cap=options.retry_max_delay_seconds
            ),
            retries=options.max_attempts - 1,
        ),
        # Explicit, so every supported redis-py (>= 6.0) retries exactly these two,
        # whatever its defaults for Retry's supported errors.
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    return Redis.from_pool(pool)
