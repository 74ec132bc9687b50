"""The cache on a real Redis Cluster (3 masters, 3 replicas) the test starts, and a failover.

Selected by the URL: ``redis+cluster://host:port[,host:port]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cache_support import make_settings
from redis.asyncio.cluster import RedisCluster
from topologies import (
    HAS_CLUSTER_TOOLS,
    Cluster,
    Workload,
    more_calls_than_connections,
    wait_for,
)

from runtime.cache import RedisCache
from runtime.cache._options import CacheOptions
from runtime.config import override_settings
from runtime.errors import ConfigError

pytestmark = pytest.mark.skipif(not HAS_CLUSTER_TOOLS, reason="needs redis-server and redis-cli")

BUDGET = 1.0
SLACK = 0.5


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    started = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        started.start()
        yield started
    finally:
        started.stop()


def cluster_cache(url: str, prefix: str) -> RedisCache:
    return RedisCache(
        url=url,
        key_prefix=prefix,
        operation_timeout_seconds=BUDGET,
        socket_timeout_seconds=0.3,
        connect_timeout_seconds=0.3,
    )


@pytest.fixture
async def cache(cluster: Cluster, prefix: str) -> AsyncIterator[RedisCache]:
    async with cluster_cache(cluster.url, prefix) as client:
        yield client


async def test_the_url_selects_a_cluster_client(cache: RedisCache) -> None:
    from redis.asyncio.cluster import RedisCluster

    assert isinstance(cache.client, RedisCluster)
    assert await cache.health_check() is True


async def test_keys_spread_over_the_masters_and_round_trip(cache: RedisCache) -> None:
    keys = [f"song:{i}" for i in range(60)]
    for i, key in enumerate(keys):
        assert await cache.set_json(key, {"i": i}, ttl=60) is True
    slots = {cache.client.keyslot(cache.key(key)) for key in keys}  # type: ignore[attr-defined]
    assert len(slots) > 30  # namespaced keys are sharded, not pinned to one slot
    assert [await cache.get_json(key) for key in keys] == [{"i": i} for i in range(60)]
    assert await cache.exists("song:3") is True
    assert await cache.expire("song:3", 120) is True
    assert 115 <= (await cache.ttl("song:3") or 0) <= 120
    assert await cache.delete(*keys) == 60  # keys of many slots in one call


async def test_get_or_set_computes_once_across_clients(cluster: Cluster, prefix: str) -> None:
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.3)
        return {"bpm": 128}

    caches = [cluster_cache(cluster.url, prefix) for _ in range(3)]
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
    assert calls == 1
    assert results == [{"bpm": 128}] * 15


async def test_more_concurrent_calls_than_connections_wait_instead_of_failing(
    cluster: Cluster, prefix: str
) -> None:
    # Cold: the first calls also race the cluster client's first initialisation.
    await more_calls_than_connections(cluster.url, prefix, connect_first=False)


# redis-py (8.1) sometimes drops a Connection to the killed master without closing it during the
# failover (a ResourceWarning when it is collected, 1 run in 2 for Sentinel); not from the cache's
# own objects, but not pinned down further either: see docs/cache.md. It can be collected while
# the test still runs, before conftest.nothing_left_open could close it.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_killed_master_fails_over_and_the_same_clients_recover(
    tmp_path: Path, prefix: str
) -> None:
    cluster = Cluster(tmp_path)
    cluster.start()
    caches = [cluster_cache(cluster.url, prefix) for _ in range(2)]
    try:
        victim = cluster.masters()[0]
        work = Workload(caches)
        await work.run(8.0, lambda: cluster.kill(victim))
        print(work.summary())
        deadline = work.wait_timeout + 2 * BUDGET
        assert max(work.latencies()) <= deadline + SLACK  # nothing hung, every call bounded
        await asyncio.to_thread(wait_for, cluster.serving, 15, "the replica to take over")
        # The same clients, no restart: every slot range answers again.
        for i in range(60):
            assert await caches[i % 2].set(f"after:{i}", "ok", ex=60) is True
            assert await caches[(i + 1) % 2].get(f"after:{i}") == "ok"
        # The lock's guarantee around the failover: keys served before it were computed once;
        # after it the same clients single-flight again (docs/deployment.md).
        assert work.keys_computed_twice_before_the_fault() == []
        assert set((await work.single_flight_burst()).values()) == {1}
    finally:
        for c in caches:
            await c.aclose()
        cluster.stop()


async def test_redis_url_setting_selects_the_cluster(cluster: Cluster, prefix: str) -> None:
    # The module-level client is built from the settings: REDIS_URL alone selects the topology.
    with override_settings(make_settings(redis_url=cluster.url, cache_key_prefix=prefix)):
        async with RedisCache(options=CacheOptions.from_settings()) as cache:
            assert isinstance(cache.client, RedisCluster)
            assert await cache.set("from-settings", "yes", ex=60) is True
            assert await cache.get("from-settings") == "yes"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+cluster://10.0.0.1:7000,10.0.0.2", "must be host:port"),
        ("redis+sentinel://10.0.0.1:26379", "service name"),
        ("redis+sentinel://10.0.0.1:26379/svc/x", "service name"),
    ],
)
def test_a_malformed_topology_url_is_refused_by_the_settings(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        make_settings(redis_url=url)


def test_production_needs_tls_for_every_cluster_node_outside_the_network() -> None:
    with pytest.raises(ConfigError, match="TLS"):
        make_settings(
            environment="production",
            redis_url="redis+cluster://10.0.0.1:7000,cache.example.com:7000",
        )
