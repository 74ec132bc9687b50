"""get_or_set: one computation per missing key, across callers and clients."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from cache_support import REDIS_URL, unreachable_url
from pydantic import BaseModel
from redis.asyncio import Redis

from runtime.cache import RedisCache
from runtime.errors import ValidationError


class Analysis(BaseModel):
    job_id: UUID
    bpm: Decimal


class Counter:
    """An expensive computation that counts how often it really ran."""

    def __init__(self, value: object, *, seconds: float = 0.0) -> None:
        self.calls = 0
        self.value = value
        self.seconds = seconds

    async def __call__(self) -> object:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        return self.value


async def test_a_miss_computes_and_caches_the_value(cache: RedisCache) -> None:
    compute = Counter({"bpm": 120})
    assert await cache.get_or_set("song", compute, ttl=60) == {"bpm": 120}
    assert await cache.get_json("song") == {"bpm": 120}


async def test_get_or_set_stores_the_value_for_its_ttl(cache: RedisCache) -> None:
    await cache.get_or_set("song", Counter({"bpm": 120}), ttl=120)
    remaining = await cache.ttl("song")
    assert remaining is not None
    assert 115 <= remaining <= 120


async def test_get_or_set_without_ttl_uses_the_default_ttl(prefix: str) -> None:
    async with RedisCache(url=REDIS_URL, key_prefix=prefix, default_ttl_seconds=777) as cache:
        await cache.get_or_set("song", Counter({"bpm": 120}))
        remaining = await cache.ttl("song")
        await cache.delete("song")
    assert remaining is not None
    assert 770 <= remaining <= 777


async def test_a_hit_does_not_compute(cache: RedisCache) -> None:
    await cache.set_json("song", {"bpm": 90}, ttl=60)
    compute = Counter({"bpm": 120})
    assert await cache.get_or_set("song", compute, ttl=60) == {"bpm": 90}
    assert compute.calls == 0


async def test_concurrent_callers_compute_once(cache: RedisCache) -> None:
    compute = Counter({"bpm": 128}, seconds=0.3)
    results = await asyncio.gather(*(cache.get_or_set("song", compute, ttl=60) for _ in range(20)))
    assert compute.calls == 1
    assert results == [{"bpm": 128}] * 20


async def test_callers_on_separate_clients_compute_once(prefix: str) -> None:
    compute = Counter({"bpm": 100}, seconds=0.3)
    clients = [RedisCache(url=REDIS_URL, key_prefix=prefix) for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(c.get_or_set("song", compute, ttl=60) for c in clients for _ in range(3))
        )
    finally:
        for client in clients:
            await client.delete("song")
            await client.aclose()
    assert compute.calls == 1
    assert len(results) == 12


async def test_waiters_get_the_model_type(cache: RedisCache) -> None:
    analysis = Analysis(job_id=uuid4(), bpm=Decimal("124.50"))
    compute = Counter(analysis, seconds=0.2)
    results = await asyncio.gather(
        *(cache.get_or_set("song", compute, model=Analysis, ttl=60) for _ in range(5))
    )
    assert all(isinstance(r, Analysis) and r == analysis for r in results)
    assert compute.calls == 1


async def test_the_lock_is_released_after_computing(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    await cache.get_or_set("song", Counter({"a": 1}), ttl=60)
    assert await raw_redis.exists(f"{prefix}__lock__:song") == 0


async def test_a_failed_computation_propagates_and_releases_the_lock(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    async def boom() -> object:
        raise RuntimeError("analysis crashed")

    with pytest.raises(RuntimeError, match="analysis crashed"):
        await cache.get_or_set("song", boom, ttl=60)
    assert await raw_redis.exists(f"{prefix}__lock__:song") == 0
    assert await cache.get_json("song") is None


async def test_a_waiter_takes_over_when_the_holder_fails(cache: RedisCache) -> None:
    calls = 0
    holder_computing = asyncio.Event()

    async def flaky() -> object:
        nonlocal calls
        calls += 1
        holder_computing.set()
        await asyncio.sleep(0.2)
        if calls == 1:
            raise RuntimeError("first attempt fails")
        return {"ok": True}

    holder = asyncio.create_task(cache.get_or_set("song", flaky, ttl=60))
    # Only the lock's owner computes: once flaky runs, the roles are fixed.
    await asyncio.wait_for(holder_computing.wait(), timeout=5)
    waiter = await cache.get_or_set("song", flaky, ttl=60)
    with pytest.raises(RuntimeError, match="first attempt fails"):
        await holder
    assert waiter == {"ok": True}
    assert calls == 2


async def test_the_lock_is_extended_while_a_long_computation_runs(cache: RedisCache) -> None:
    compute = Counter({"slow": True}, seconds=1.0)
    holder = asyncio.create_task(cache.get_or_set("song", compute, ttl=60, lock_ttl_seconds=0.3))
    await asyncio.sleep(0.1)
    waiter = await cache.get_or_set("song", compute, ttl=60, lock_ttl_seconds=0.3)
    assert await holder == waiter == {"slow": True}
    assert compute.calls == 1


async def test_a_waiter_computes_itself_after_its_wait_timeout(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    await raw_redis.set(f"{prefix}__lock__:song", "someone-stuck", px=60_000)
    compute = Counter({"mine": True})
    result = await cache.get_or_set("song", compute, ttl=60, wait_timeout_seconds=0.2)
    assert result == {"mine": True}
    assert compute.calls == 1


async def test_a_dead_holders_lock_expires(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    await raw_redis.set(f"{prefix}__lock__:song", "crashed-worker", px=300)
    compute = Counter({"recovered": True})
    result = await cache.get_or_set("song", compute, ttl=60, wait_timeout_seconds=5)
    assert result == {"recovered": True}
    assert compute.calls == 1


async def test_get_or_set_computes_without_caching_when_redis_is_down() -> None:
    compute = Counter({"bpm": 1})
    async with RedisCache(
        url=unreachable_url(), max_attempts=1, connect_timeout_seconds=0.5
    ) as cache:
        assert await cache.get_or_set("song", compute, ttl=60) == {"bpm": 1}
    assert compute.calls == 1


@pytest.mark.parametrize(
    ("lock_ttl", "wait"), [(0.0, 1.0), (601.0, 1.0), (1.0, -1.0), (1.0, 3601.0)]
)
async def test_lock_bounds_are_checked(cache: RedisCache, lock_ttl: float, wait: float) -> None:
    with pytest.raises(ValidationError):
        await cache.get_or_set(
            "song", Counter(1), lock_ttl_seconds=lock_ttl, wait_timeout_seconds=wait
        )


async def test_a_cancelled_holder_releases_its_lock_and_stops_renewing_it(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    computing = asyncio.Event()

    async def forever() -> object:
        computing.set()
        await asyncio.sleep(3600)
        return None

    holder = asyncio.create_task(cache.get_or_set("song", forever, ttl=60, lock_ttl_seconds=0.3))
    await asyncio.wait_for(computing.wait(), timeout=5)
    await asyncio.sleep(0.5)  # the keeper has renewed the lock past its first TTL
    assert await raw_redis.exists(f"{prefix}__lock__:song") == 1
    holder.cancel()
    done, _ = await asyncio.wait((holder,), timeout=cache.options.operation_timeout_seconds)
    assert done == {holder}
    assert await raw_redis.exists(f"{prefix}__lock__:song") == 0  # released, not left to expire
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert others == []  # the keeper is gone


async def test_a_holder_that_stops_computing_hands_over_after_the_lock_ttl(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    # A holder whose process froze: its lock is no longer renewed, so it expires and a waiter
    # computes after about lock_ttl_seconds, not after wait_timeout_seconds.
    await raw_redis.set(f"{prefix}__lock__:song", "frozen-holder", px=400)
    compute = Counter({"taken": True})
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await cache.get_or_set("song", compute, ttl=60, wait_timeout_seconds=30)
    assert result == {"taken": True}
    assert loop.time() - started < 0.4 + 0.5
