"""Command retries, and NX writes whose reply was lost, through a proxy in front of the real Redis.

The proxy (``cache_support.LossyProxy``) forwards every command to the machine's Redis; a rule
makes it swallow one reply (the command was applied, the client times out and redis-py retries
it on a new connection) or close the connection instead of forwarding one command.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest
from cache_support import LossyProxy, command_with
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from runtime.cache import RedisCache
from runtime.errors import ServiceUnavailableError
from runtime.testing import capture_logs

NX = b"\r\nNX\r\n"
T = TypeVar("T")


@pytest.fixture
async def proxy() -> AsyncIterator[LossyProxy]:
    async with LossyProxy() as lossy:
        yield lossy


@pytest.fixture
async def via_proxy(proxy: LossyProxy, prefix: str, raw_redis: Redis) -> AsyncIterator[RedisCache]:
    # raw_redis (on the real server) removes the prefix's keys afterwards.
    async with RedisCache(
        url=proxy.url,
        key_prefix=prefix,
        socket_timeout_seconds=0.3,
        max_attempts=3,
        retry_base_delay_seconds=0.01,
        retry_max_delay_seconds=0.02,
    ) as cache:
        yield cache


async def test_the_pool_retries_connection_errors_and_timeouts_explicitly() -> None:
    async with RedisCache(url="redis://127.0.0.1:6379/0") as cache:
        kwargs = cache.client.connection_pool.connection_kwargs
    assert kwargs["retry_on_error"] == [RedisConnectionError, RedisTimeoutError]


async def test_a_get_whose_reply_was_lost_is_retried(
    via_proxy: RedisCache, proxy: LossyProxy
) -> None:
    await via_proxy.set("k", "v", ex=60)
    proxy.lose_reply(command_with(b"GET", via_proxy.key("k").encode()))
    assert await via_proxy.get("k") == "v"
    assert proxy.matched == 1


async def test_a_command_on_a_dropped_connection_is_retried(
    via_proxy: RedisCache, proxy: LossyProxy
) -> None:
    await via_proxy.set("k", "v", ex=60)
    proxy.drop_connection(command_with(b"GET", via_proxy.key("k").encode()))
    assert await via_proxy.get("k") == "v"
    assert proxy.matched == 1


async def test_a_lost_lock_reply_does_not_make_get_or_set_wait_on_its_own_lock(
    via_proxy: RedisCache, proxy: LossyProxy, raw_redis: Redis, prefix: str
) -> None:
    lock_key = f"{prefix}__lock__:song".encode()
    proxy.lose_reply(command_with(b"SET", lock_key, NX))
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"bpm": 120}

    with capture_logs() as logs:
        result = await via_proxy.get_or_set(
            "song", compute, ttl=60, lock_ttl_seconds=30, wait_timeout_seconds=5
        )
    assert proxy.matched == 1
    assert result == {"bpm": 120}
    assert calls == 1
    assert logs.filter(cache_key="song") == []  # no "waited for another caller" warning
    # We held the lock (our token) and released it; a stray lock would block others for 30 s.
    assert await raw_redis.exists(lock_key) == 0


async def test_set_nx_whose_reply_was_lost_reports_it_stored(
    via_proxy: RedisCache, proxy: LossyProxy
) -> None:
    proxy.lose_reply(command_with(b"SET", via_proxy.key("claim").encode(), NX))
    assert await via_proxy.set("claim", "worker-1", ex=60, nx=True) is True
    assert proxy.matched == 1
    assert await via_proxy.get("claim") == "worker-1"


async def test_set_json_nx_whose_reply_was_lost_reports_it_stored(
    via_proxy: RedisCache, proxy: LossyProxy
) -> None:
    proxy.lose_reply(command_with(b"SET", via_proxy.key("doc").encode(), NX))
    assert await via_proxy.set_json("doc", {"a": 1}, ttl=60, nx=True) is True
    assert proxy.matched == 1


async def test_set_nx_retried_onto_another_writers_value_reports_false(
    via_proxy: RedisCache, proxy: LossyProxy
) -> None:
    await via_proxy.set("claim", "worker-2", ex=60)
    proxy.lose_reply(command_with(b"SET", via_proxy.key("claim").encode(), NX))
    assert await via_proxy.set("claim", "worker-1", ex=60, nx=True) is False
    assert proxy.matched == 1
    assert await via_proxy.get("claim") == "worker-2"


async def test_set_nx_onto_the_same_value_without_a_retry_reports_false(
    cache: RedisCache,
) -> None:
    # Only a repeated command is read back: a plain refusal stays a refusal.
    await cache.set("claim", "same", ex=60)
    assert await cache.set("claim", "same", ex=60, nx=True) is False


async def test_an_injected_client_also_takes_a_lock_whose_reply_was_lost(
    proxy: LossyProxy, prefix: str, raw_redis: Redis
) -> None:
    lock_key = f"{prefix}__lock__:song".encode()
    proxy.lose_reply(command_with(b"SET", lock_key, NX))
    injected = Redis.from_url(
        proxy.url,
        socket_timeout=0.3,
        retry=Retry(NoBackoff(), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    try:
        async with RedisCache(client=injected, key_prefix=prefix) as cache:

            async def compute() -> int:
                return 7

            result = await cache.get_or_set(
                "song", compute, ttl=60, lock_ttl_seconds=30, wait_timeout_seconds=5
            )
    finally:
        await injected.aclose()
    assert (proxy.matched, result) == (1, 7)
    assert await raw_redis.exists(lock_key) == 0


async def test_the_proxy_really_loses_the_reply(proxy: LossyProxy, prefix: str) -> None:
    # Without retries the lost reply is a timeout: the tests above exercise the retry path.
    proxy.lose_reply(command_with(b"PING"))
    client = Redis.from_url(proxy.url, socket_timeout=0.3, retry=None)
    try:
        with pytest.raises((RedisTimeoutError, asyncio.TimeoutError)):
            await client.ping()
    finally:
        await client.aclose()


BUDGET = 3.0  # the default operation budget, which the via_proxy cache keeps
RELEASE_SHA = hashlib.sha1(Lock.LUA_RELEASE_SCRIPT.encode()).hexdigest().encode()
REACQUIRE_SHA = hashlib.sha1(Lock.LUA_REACQUIRE_SCRIPT.encode()).hexdigest().encode()


async def within_budget(call: Awaitable[T]) -> T:
    started = time.monotonic()
    result = await call
    assert time.monotonic() - started < BUDGET
    return result


@pytest.mark.parametrize(
    ("command", "operation", "expected"),
    [
        (b"SET", lambda c: c.set("k", "new", ex=60), True),
        (b"DEL", lambda c: c.delete("k"), None),  # 1, or 0 when the retry found it gone
        (b"EXISTS", lambda c: c.exists("k"), True),
        (b"TTL", lambda c: c.ttl("k"), None),
        (b"EXPIRE", lambda c: c.expire("k", 120), True),
    ],
    ids=["set", "delete", "exists", "ttl", "expire"],
)
async def test_a_lost_reply_of_any_command_is_retried_within_the_budget(
    via_proxy: RedisCache,
    proxy: LossyProxy,
    command: bytes,
    operation: Callable[[RedisCache], Awaitable[object]],
    expected: object,
) -> None:
    await via_proxy.set("k", "v", ex=60)
    proxy.lose_reply(command_with(command, via_proxy.key("k").encode()))
    result = await within_budget(operation(via_proxy))
    assert proxy.matched == 1
    if expected is not None:
        assert result == expected


async def test_a_lost_reply_of_the_lock_release_leaves_no_lock(
    via_proxy: RedisCache, proxy: LossyProxy, raw_redis: Redis, prefix: str
) -> None:
    lock_key = f"{prefix}__lock__:song".encode()
    proxy.lose_reply(command_with(b"EVALSHA", RELEASE_SHA, lock_key))

    async def compute() -> dict[str, int]:
        return {"bpm": 120}

    result = await within_budget(via_proxy.get_or_set("song", compute, ttl=60))
    assert (proxy.matched, result) == (1, {"bpm": 120})
    assert await raw_redis.exists(lock_key) == 0
    assert await via_proxy.get_json("song") == {"bpm": 120}


async def test_a_lost_reply_of_a_lock_renewal_does_not_stop_the_computation(
    via_proxy: RedisCache, proxy: LossyProxy, raw_redis: Redis, prefix: str
) -> None:
    lock_key = f"{prefix}__lock__:song".encode()
    proxy.lose_reply(command_with(b"EVALSHA", REACQUIRE_SHA, lock_key))
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(1.0)
        return {"bpm": 99}

    results = await within_budget(
        asyncio.gather(
            *(via_proxy.get_or_set("song", compute, ttl=60, lock_ttl_seconds=0.6) for _ in range(3))
        )
    )
    assert proxy.matched == 1
    assert results == [{"bpm": 99}] * 3
    assert calls == 1  # the lost renewal reply did not let the lock lapse
    assert await raw_redis.exists(lock_key) == 0


async def test_a_lost_reply_of_the_stored_value_still_caches_it(
    via_proxy: RedisCache, proxy: LossyProxy
) -> None:
    proxy.lose_reply(command_with(b"SET", via_proxy.key("song").encode(), b"EX"))

    async def compute() -> dict[str, int]:
        return {"bpm": 77}

    assert await within_budget(via_proxy.get_or_set("song", compute, ttl=60)) == {"bpm": 77}
    assert proxy.matched == 1
    assert await via_proxy.get_json("song") == {"bpm": 77}


async def test_when_every_reply_is_lost_each_call_ends_within_its_budget(
    proxy: LossyProxy, prefix: str, raw_redis: Redis
) -> None:
    async with RedisCache(
        url=proxy.url, key_prefix=prefix, operation_timeout_seconds=0.6, socket_timeout_seconds=0.2
    ) as cache:
        assert await cache.health_check() is True
        for _ in range(1000):
            proxy.lose_reply(lambda data: True)

        async def compute() -> int:
            return 3

        started = time.monotonic()
        assert await cache.get("k") is None
        with pytest.raises(ServiceUnavailableError):
            await cache.set("k", "v", ex=60)
        assert await cache.get_or_set("song", compute, ttl=60) == 3
        assert await cache.health_check() is False
        elapsed = time.monotonic() - started
    assert elapsed < 4 * 0.6 + 0.5  # three budgets and a 2 s health check would be far more
