"""The cache through Redis Sentinel (a master, a replica, three sentinels the test starts).

Selected by the URL: ``redis+sentinel://host:port[,host:port]/service[/db]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from topologies import (
    HAS_SENTINEL_TOOLS,
    SentinelSetup,
    Workload,
    more_calls_than_connections,
    wait_for,
)

from runtime.cache import RedisCache

pytestmark = pytest.mark.skipif(
    not HAS_SENTINEL_TOOLS, reason="needs redis-server and redis-sentinel"
)

BUDGET = 1.0
SLACK = 0.5


def sentinel_cache(url: str, prefix: str) -> RedisCache:
    return RedisCache(
        url=url,
        key_prefix=prefix,
        operation_timeout_seconds=BUDGET,
        socket_timeout_seconds=0.3,
        connect_timeout_seconds=0.3,
    )


@pytest.fixture(scope="module")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSetup]:
    started = SentinelSetup(tmp_path_factory.mktemp("sentinel"))
    try:
        started.start()
        yield started
    finally:
        started.stop()


@pytest.fixture
async def cache(sentinels: SentinelSetup, prefix: str) -> AsyncIterator[RedisCache]:
    async with sentinel_cache(sentinels.url, prefix) as client:
        yield client


async def test_the_url_reaches_the_master_sentinel_names(
    cache: RedisCache, sentinels: SentinelSetup
) -> None:
    assert await cache.health_check() is True
    assert await cache.set_json("song", {"bpm": 120}, ttl=60) is True
    info = await cache.client.info("server")
    assert info["tcp_port"] == sentinels.master
    assert await cache.get_json("song") == {"bpm": 120}
    assert await cache.delete("song") == 1


async def test_get_or_set_computes_once_through_sentinel(
    sentinels: SentinelSetup, prefix: str
) -> None:
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)
        return 7

    caches = [sentinel_cache(sentinels.url, prefix) for _ in range(3)]
    try:
        # Connected first: a cold client's first command (topology discovery) must not spend
        # the budget, which would make its caller compute without the lock, as documented.
        assert all(await asyncio.gather(*(c.health_check() for c in caches)))
        results = await asyncio.gather(
            *(c.get_or_set("song", compute, ttl=60) for c in caches for _ in range(5))
        )
    finally:
        for c in caches:
            await c.aclose()
    assert (calls, results) == (1, [7] * 15)


async def test_more_concurrent_calls_than_connections_wait_instead_of_failing(
    sentinels: SentinelSetup, prefix: str
) -> None:
    await more_calls_than_connections(sentinels.url, prefix, connect_first=True)


# redis-py (8.1) sometimes drops a Connection to the killed master without closing it during the
# failover (a ResourceWarning when it is collected, 1 run in 2 for Sentinel); not from the cache's
# own objects, but not pinned down further either: see docs/cache.md. It can be collected while
# the test still runs, before conftest.nothing_left_open could close it.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_killed_master_is_replaced_and_the_same_clients_recover(
    tmp_path: Path, prefix: str
) -> None:
    setup = SentinelSetup(tmp_path)
    setup.start()
    caches = [sentinel_cache(setup.url, prefix) for _ in range(2)]
    try:
        work = Workload(caches)
        await work.run(10.0, lambda: setup.kill(setup.master))
        print(work.summary())
        assert max(work.latencies()) <= work.wait_timeout + 2 * BUDGET + SLACK
        await asyncio.to_thread(
            wait_for, lambda: setup.current_master() == setup.replica, 15, "the promotion"
        )
        for i in range(20):  # the same clients, no restart
            assert await caches[i % 2].set(f"after:{i}", "ok", ex=60) is True
            assert await caches[(i + 1) % 2].get(f"after:{i}") == "ok"
        info = await caches[0].client.info("server")
        assert info["tcp_port"] == setup.replica
        # The lock's guarantee around the failover: keys served before it were computed once;
        # after it the same clients single-flight again (docs/deployment.md).
        assert work.keys_computed_twice_before_the_fault() == []
        assert set((await work.single_flight_burst()).values()) == {1}
    finally:
        for c in caches:
            await c.aclose()
        setup.stop()
