"""The one place a redis-py client is built from :class:`~runtime.cache._options.CacheOptions`.

The URL's scheme picks the topology:

* ``redis://``, ``rediss://``, ``unix://``: one server, over a ``BlockingConnectionPool``;
* ``redis+cluster://[user:password@]host:port[,host:port...]`` (``rediss+cluster://`` for TLS):
  a Redis Cluster, found from any of the listed nodes (``RedisCluster``);
* ``redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]``
  (``rediss+sentinel://``): the master Sentinel names for ``service``, followed through failovers
  (``Sentinel.master_for``); the password is the data servers', the sentinels need none.

Each gets redis-py's retry of connection errors and timeouts with jittered backoff and the
timeouts of the options. The cache uses only single-key commands (``GET``, ``SET``, ``DEL`` of
keys one slot each, ``EXISTS``, ``TTL``, ``EXPIRE``) and redis-py's ``Lock`` scripts, each on one
key, so no hash tags are needed on a cluster.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from runtime._redis_urls import SCHEMES, parse_nodes
from runtime.errors import ConfigError

if TYPE_CHECKING:
    from runtime.cache._options import CacheOptions

__all__ = ["FAILED_ATTEMPTS", "SCHEMES", "Connection", "connect", "parse_nodes"]

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


@dataclass(frozen=True)
class Connection:
    """A built client and what the cache must know about it.

    Attributes:
        client: The redis-py client (a ``RedisCluster`` for a cluster; typed as ``Redis``, whose
            commands the cache uses).
        counts_retries: Failed attempts are counted in :data:`FAILED_ATTEMPTS` (single server
            and Sentinel); otherwise an ``SET NX`` of a unique value is always read back.
        aclose: Closes everything the client opened (for Sentinel, the sentinel connections too).
    """

    client: Redis
    counts_retries: bool
    aclose: Callable[[], Awaitable[None]]


def _retry(options: CacheOptions) -> _ObservedRetry:
    return _ObservedRetry(
        ExponentialWithJitterBackoff(
            base=options.retry_base_delay_seconds, cap=options.retry_max_delay_seconds
        ),
        retries=options.max_attempts - 1,
    )


def _common(options: CacheOptions) -> dict[str, Any]:
    return {
        "socket_timeout": options.socket_timeout_seconds,
        "socket_connect_timeout": options.connect_timeout_seconds,
        "retry": _retry(options),
        # Explicit, so every supported redis-py (>= 6.0) retries exactly these two,
        # whatever its defaults for Retry's supported errors.
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }


def _single(options: CacheOptions) -> Connection:
    pool = BlockingConnectionPool.from_url(
        options.url,
        max_connections=options.max_connections,
        timeout=options.pool_wait_seconds,
        **_common(options),
    )
    client = Redis.from_pool(pool)
    return Connection(client, counts_retries=True, aclose=client.aclose)


class _WaitingCluster(RedisCluster):
    """``RedisCluster`` whose commands wait for a free slot instead of failing.

    redis-py's cluster pools raise ``MaxConnectionsError`` at once when a node has
    ``max_connections`` busy connections; the single-server pool waits. Here at most
    ``max_connections`` commands of this client are in flight (so no node can run out), and the
    others wait, within the cache's deadline, as on a single server.
    """

    def __init__(self, *args: Any, in_flight: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = asyncio.Semaphore(in_flight)
        self._first_init = asyncio.Lock()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if self._initialize:
            # redis-py 8.1 races when many first commands initialise at once: a connection one
            # opened is closed under another (AttributeError on its writer). One initialisation
            # before any command avoids it.
            async with self._first_init:
                await self.initialize()
        async with self._in_flight:
            return await super().execute_command(*args, **kwargs)


def _cluster(options: CacheOptions) -> Connection:
    username, password, nodes, _ = parse_nodes(options.url)
    client = _WaitingCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in nodes],
        username=username,
        password=password,
        ssl=options.url.startswith("rediss+"),
        max_connections=options.max_connections,
        in_flight=options.max_connections,
        require_full_coverage=False,  # keys on live slots stay usable while a shard fails over
        **_common(options),
    )
    return Connection(cast(Redis, client), counts_retries=False, aclose=client.aclose)


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """redis-py's Sentinel pool (finds the master) over its blocking pool (callers wait)."""


def _sentinel(options: CacheOptions) -> Connection:
    username, password, nodes, path = parse_nodes(options.url)
    service, _, db = path.partition("/")
    if not service:
        raise ConfigError("a Sentinel Redis URL must end with /service_name (and /db)")
    if db and not db.isdigit():
        raise ConfigError(f"the database of a Sentinel Redis URL must be a number, got {db!r}")
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        nodes,
        sentinel_kwargs={
            "socket_timeout": options.socket_timeout_seconds,
            "socket_connect_timeout": options.connect_timeout_seconds,
        },
    )
    client = sentinel.master_for(
        service,
        # Waits for a free connection as the single-server pool does; redis-py's Sentinel pool
        # alone refuses a command past max_connections at once (MaxConnectionsError).
        connection_pool_class=_BlockingSentinelPool,
        timeout=options.pool_wait_seconds,
        username=username,
        password=password,
        db=int(db or 0),
        ssl=options.url.startswith("rediss+"),
        max_connections=options.max_connections,
        **_common(options),
    )

    async def aclose() -> None:
        await client.aclose()
        for server in sentinel.sentinels:
            await server.aclose()

    return Connection(client, counts_retries=True, aclose=aclose)


def connect(options: CacheOptions) -> Connection:
    """Build the redis-py client for ``options`` (no connection is opened yet).

    Args:
        options: The cache's options; the URL's scheme picks the topology (module docstring).

    Returns:
        The client, whether it counts retries, and how to close it.

    Raises:
        ConfigError: A cluster or Sentinel URL that names no valid node or service.
    """
    if options.url.startswith(("redis+cluster://", "rediss+cluster://")):
        return _cluster(options)
    if options.url.startswith(("redis+sentinel://", "rediss+sentinel://")):
        return _sentinel(options)
    return _single(options)
