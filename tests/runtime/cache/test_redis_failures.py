"""What callers get when Redis is unreachable or the pool is exhausted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from cache_support import REDIS_URL, unreachable_url
from redis.exceptions import ConnectionError as RedisConnectionError

from runtime.cache import RedisCache
from runtime.cache._errors import LIMITER
from runtime.errors import ServiceUnavailableError
from runtime.testing import capture_logs


@pytest.fixture
async def down() -> AsyncIterator[RedisCache]:
    async with RedisCache(
        url=unreachable_url(),
        connect_timeout_seconds=0.5,
        max_attempts=2,
        retry_base_delay_seconds=0.01,
        retry_max_delay_seconds=0.02,
    ) as cache:
        yield cache


async def test_health_check_is_true_on_a_live_server(cache: RedisCache) -> None:
    assert await cache.health_check() is True


async def test_health_check_is_false_when_redis_is_unreachable(down: RedisCache) -> None:
    assert await down.health_check() is False


async def test_health_check_is_false_instead_of_waiting_past_its_timeout(prefix: str) -> None:
    # A server that accepts connections but never answers: PING must give up on time.
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(65536)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with RedisCache(
            url=f"redis://127.0.0.1:{port}/0", health_check_timeout_seconds=0.2, max_attempts=1
        ) as cache:
            loop = asyncio.get_running_loop()
            started = loop.time()
            healthy = await cache.health_check()
            elapsed = loop.time() - started
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
    assert healthy is False
    assert elapsed < 2.0


async def test_get_reports_a_miss_when_redis_is_unreachable(down: RedisCache) -> None:
    assert await down.get("k") is None


async def test_get_json_reports_a_miss_when_redis_is_unreachable(down: RedisCache) -> None:
    assert await down.get_json("k") is None


async def test_exists_and_ttl_report_nothing_when_redis_is_unreachable(down: RedisCache) -> None:
    assert (await down.exists("k"), await down.ttl("k")) == (False, None)


async def test_a_read_during_an_outage_logs_a_warning(down: RedisCache) -> None:
    with capture_logs() as logs:
        await down.get("k")
    record = logs.find(operation="get")
    assert record["level"] == "WARNING"
    assert record["error_type"] == "ConnectionError"


async def test_outage_warnings_are_rate_limited(down: RedisCache) -> None:
    with capture_logs() as logs:
        for _ in range(5):
            await down.get("k")
    assert [r["suppressed"] for r in logs.filter(operation="get")] == [0]


async def test_the_next_warning_reports_how_many_were_suppressed(
    down: RedisCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LIMITER, "interval_seconds", 0.3)
    with capture_logs() as logs:
        for _ in range(4):
            await down.get("k")
        await asyncio.sleep(0.35)
        await down.get("k")
    lines = logs.filter(operation="get")
    assert [r["suppressed"] for r in lines] == [0, 3]
    assert "3 similar warnings suppressed" in lines[1]["message"]


async def test_set_raises_service_unavailable_when_redis_is_unreachable(down: RedisCache) -> None:
    with pytest.raises(ServiceUnavailableError) as info:
        await down.set("k", "v", ex=60)
    assert info.value.retryable is True
    assert info.value.service == "cache"
    assert isinstance(info.value.__cause__, RedisConnectionError)


async def test_set_json_raises_service_unavailable_when_redis_is_unreachable(
    down: RedisCache,
) -> None:
    with pytest.raises(ServiceUnavailableError):
        await down.set_json("k", {"a": 1}, ttl=60)


async def test_delete_raises_service_unavailable_when_redis_is_unreachable(
    down: RedisCache,
) -> None:
    with pytest.raises(ServiceUnavailableError):
        await down.delete("k")


async def test_expire_raises_service_unavailable_when_redis_is_unreachable(
    down: RedisCache,
) -> None:
    with pytest.raises(ServiceUnavailableError):
        await down.expire("k", 10)


async def test_full_pool_makes_commands_wait_instead_of_failing(prefix: str) -> None:
    async with RedisCache(url=REDIS_URL, key_prefix=prefix, max_connections=2) as cache:

        async def one(i: int) -> str | None:
            await cache.set(f"k{i}", str(i), ex=60)
            return await cache.get(f"k{i}")

        results = await asyncio.gather(*(one(i) for i in range(50)))
        pool = cache.client.connection_pool
        opened = len(pool._available_connections) + len(pool._in_use_connections)  # type: ignore[attr-defined]
        await cache.delete(*(f"k{i}" for i in range(50)))
    assert results == [str(i) for i in range(50)]
    assert opened <= 2


async def test_pool_wait_is_bounded_by_pool_timeout(prefix: str) -> None:
    async with RedisCache(
        url=REDIS_URL, key_prefix=prefix, max_connections=1, pool_timeout_seconds=0.2
    ) as cache:
        blocker = asyncio.create_task(cache.client.blpop([f"{prefix}never"], timeout=0.5))
        await asyncio.sleep(0.1)  # the blocking pop now holds the only connection
        try:
            with pytest.raises(ServiceUnavailableError):
                await cache.set("k", "v", ex=60)
        finally:
            await blocker


async def test_an_outage_seen_by_many_clients_and_calls_logs_each_warning_once() -> None:
    # The finding: 409 "Computed value ... not cached" lines from 4 workers in a 3 s outage.
    url = unreachable_url()
    clients = [RedisCache(url=url, connect_timeout_seconds=0.2, max_attempts=1) for _ in range(4)]

    async def compute() -> int:
        return 1

    try:
        with capture_logs() as logs:
            await asyncio.gather(
                *(c.get_or_set(f"k{i}", compute, ttl=60) for c in clients for i in range(100))
            )
            await asyncio.gather(*(c.get(f"k{i}") for c in clients for i in range(100)))
    finally:
        for client in clients:
            await client.aclose()
    kinds = [r["kind"] for r in logs.records if r["level"] == "WARNING"]
    assert sorted(kinds) == [
        "cache_not_stored",
        "cache_unavailable:get",
        "cache_unavailable:get_or_set",
    ]
