"""Recovery on a real server: this test runs its own redis-server, stops it and starts it again."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from cache_support import RedisServer
from redis.asyncio import Redis

from runtime.cache import RedisCache
from runtime.errors import ServiceUnavailableError
from runtime.testing import capture_logs

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def quick_client(url: str) -> RedisCache:
    return RedisCache(
        url=url,
        max_attempts=3,
        retry_base_delay_seconds=0.01,
        retry_max_delay_seconds=0.05,
        connect_timeout_seconds=0.5,
        socket_timeout_seconds=1.0,
    )


async def test_outage_then_restart_is_served_by_the_same_client(redis_server: RedisServer) -> None:
    async with quick_client(redis_server.url) as cache:
        await cache.set("k", "before", ex=60)
        client_before = cache.client
        assert await cache.get("k") == "before"

        redis_server.stop()
        assert await cache.health_check() is False
        assert await cache.get("k") is None
        with pytest.raises(ServiceUnavailableError):
            await cache.set("k", "during", ex=60)

        redis_server.start()
        assert await cache.health_check() is True
        await cache.set("k", "after", ex=60)
        assert await cache.get("k") == "after"
        assert cache.client is client_before


async def test_first_command_after_a_silent_restart_succeeds(redis_server: RedisServer) -> None:
    async with quick_client(redis_server.url) as cache:
        await cache.set("k", "v", ex=60)  # leaves an open connection in the pool
        redis_server.stop()
        redis_server.start()
        # The pooled connection is dead; the command reconnects instead of failing.
        assert await cache.set("k", "again", ex=60) is True
        assert await cache.get("k") == "again"


async def pause_server(url: str, milliseconds: int) -> None:
    """Make the server hold every command (CLIENT PAUSE ALL) so that commands stay in flight."""
    raw = Redis.from_url(url)
    try:
        await raw.execute_command("CLIENT", "PAUSE", milliseconds, "ALL")
    finally:
        await raw.aclose()


async def test_commands_in_flight_when_the_server_dies_degrade_then_the_client_serves_again(
    redis_server: RedisServer,
) -> None:
    calls = 0

    async def analyse() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"bpm": 120}

    async with RedisCache(
        url=redis_server.url,
        max_attempts=3,
        retry_base_delay_seconds=0.01,
        retry_max_delay_seconds=0.05,
        connect_timeout_seconds=0.5,
        socket_timeout_seconds=10.0,  # the outage, not a timeout, ends the commands in flight
    ) as cache:
        await cache.set("k", "before", ex=60)
        client_before = cache.client
        await pause_server(redis_server.url, 10_000)
        with capture_logs() as logs:
            get = asyncio.create_task(cache.get("k"))
            get_or_set = asyncio.create_task(cache.get_or_set("song", analyse, ttl=60))
            await asyncio.sleep(0.3)
            # Both are waiting on the server.
            assert not get.done()
            assert not get_or_set.done()

            redis_server.stop()
            assert await asyncio.wait_for(get, timeout=5) is None  # a read reports a miss
            assert await asyncio.wait_for(get_or_set, timeout=5) == {"bpm": 120}  # computed
        assert calls == 1
        # Both outages were logged (the second at debug: one warning per 10 s).
        assert logs.filter(operation="get", error_type="ConnectionError")
        assert logs.filter(operation="get_or_set", error_type="ConnectionError")

        redis_server.start()
        assert await cache.get_or_set("song", analyse, ttl=60) == {"bpm": 120}
        assert calls == 2  # the new server had nothing cached: computed and stored again
        assert await cache.get_json("song") == {"bpm": 120}
        await cache.set("k", "after", ex=60)
        assert await cache.get("k") == "after"
        assert cache.client is client_before


async def test_a_computation_running_when_the_server_dies_is_still_returned(
    redis_server: RedisServer,
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def analyse() -> dict[str, int]:
        started.set()
        await release.wait()
        return {"bpm": 99}

    async with quick_client(redis_server.url) as cache:
        holder = asyncio.create_task(cache.get_or_set("song", analyse, ttl=60))
        await asyncio.wait_for(started.wait(), timeout=5)  # it holds the lock and computes
        redis_server.stop()
        with capture_logs() as logs:
            release.set()
            assert await asyncio.wait_for(holder, timeout=5) == {"bpm": 99}
        assert logs.find(cache_key="song")["level"] == "WARNING"  # not cached, logged

        redis_server.start()
        assert await cache.get_or_set("song", analyse, ttl=60) == {"bpm": 99}
        assert await cache.get_json("song") == {"bpm": 99}
