"""String commands, keys and TTLs against the real Redis."""

from __future__ import annotations

import asyncio

import pytest
from cache_support import REDIS_URL
from redis.asyncio import Redis

from runtime.cache import DEFAULT_KEY_PREFIX, MAX_KEY_LENGTH, MAX_TTL_SECONDS, RedisCache
from runtime.errors import CacheError, ValidationError


async def test_set_then_get_returns_the_value(cache: RedisCache) -> None:
    assert await cache.set("greeting", "hello ✓", ex=60) is True
    assert await cache.get("greeting") == "hello ✓"


async def test_get_of_a_missing_key_is_none(cache: RedisCache) -> None:
    assert await cache.get("never-set") is None


async def test_keys_are_stored_under_the_prefix(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    await cache.set("job:1", "x", ex=60)
    assert await raw_redis.get(f"{prefix}job:1") == b"x"
    assert await raw_redis.exists("job:1") == 0


def test_default_prefix_is_the_prd_namespace() -> None:
    cache = RedisCache(url=REDIS_URL)
    assert DEFAULT_KEY_PREFIX == "videogen:cache:"
    assert cache.key_prefix == DEFAULT_KEY_PREFIX
    assert cache.key("audio:abc") == "videogen:cache:audio:abc"


async def test_numbers_are_stored_as_their_text(cache: RedisCache) -> None:
    await cache.set("n", 42, ex=60)
    await cache.set("f", 0.1, ex=60)
    assert (await cache.get("n"), await cache.get("f")) == ("42", "0.1")


async def test_bytes_round_trip_through_get_bytes(cache: RedisCache) -> None:
    blob = bytes(range(256))
    await cache.set("blob", blob, ex=60)
    assert await cache.get_bytes("blob") == blob


async def test_get_of_non_utf8_bytes_is_a_validation_error(cache: RedisCache) -> None:
    await cache.set("blob", b"\xff\xfe", ex=60)
    with pytest.raises(ValidationError, match="get_bytes"):
        await cache.get("blob")


async def test_set_with_ex_expires_for_real(cache: RedisCache) -> None:
    await cache.set("short", "lived", ex=1)
    assert await cache.get("short") == "lived"
    await asyncio.sleep(1.2)
    assert await cache.get("short") is None


async def test_set_without_ex_uses_the_default_ttl(prefix: str) -> None:
    async with RedisCache(url=REDIS_URL, key_prefix=prefix, default_ttl_seconds=777) as cache:
        await cache.set("k", "v")
        remaining = await cache.ttl("k")
        await cache.delete("k")
    assert remaining is not None
    assert 770 <= remaining <= 777


async def test_expire_sets_a_new_ttl(cache: RedisCache) -> None:
    await cache.set("k", "v", ex=60)
    assert await cache.expire("k", 5000) is True
    remaining = await cache.ttl("k")
    assert remaining is not None
    assert 4990 <= remaining <= 5000


async def test_expire_of_a_missing_key_is_false(cache: RedisCache) -> None:
    assert await cache.expire("missing", 10) is False


async def test_ttl_of_a_missing_key_is_none(cache: RedisCache) -> None:
    assert await cache.ttl("missing") is None


async def test_exists_reports_presence(cache: RedisCache) -> None:
    await cache.set("here", "1", ex=60)
    assert (await cache.exists("here"), await cache.exists("gone")) == (True, False)


async def test_set_nx_does_not_overwrite(cache: RedisCache) -> None:
    assert await cache.set("k", "first", ex=60, nx=True) is True
    assert await cache.set("k", "second", ex=60, nx=True) is False
    assert await cache.get("k") == "first"


async def test_delete_removes_keys_and_counts_them(cache: RedisCache) -> None:
    await cache.set("a", "1", ex=60)
    await cache.set("b", "2", ex=60)
    assert await cache.delete("a", "b", "c") == 2
    assert await cache.get("a") is None


async def test_delete_without_keys_is_a_validation_error(cache: RedisCache) -> None:
    with pytest.raises(ValidationError, match="at least one key"):
        await cache.delete()


@pytest.mark.parametrize(
    "key",
    ["", "__lock__:x", "x" * (MAX_KEY_LENGTH + 1), 42],
    ids=["empty", "reserved", "too-long", "not-a-string"],
)
async def test_bad_keys_are_refused(cache: RedisCache, key: object) -> None:
    with pytest.raises(ValidationError) as info:
        await cache.set(key, "v", ex=60)  # type: ignore[arg-type]
    assert info.value.code == "invalid_cache_key"


@pytest.mark.parametrize(
    "ttl",
    [0, -1, MAX_TTL_SECONDS + 1, 1.5, True],
    ids=["zero", "negative", "huge", "float", "bool"],
)
async def test_bad_ttls_are_refused(cache: RedisCache, ttl: object) -> None:
    with pytest.raises(ValidationError) as info:
        await cache.set("k", "v", ex=ttl)  # type: ignore[arg-type]
    assert info.value.code == "invalid_ttl"


async def test_set_refuses_values_it_cannot_store_as_text(cache: RedisCache) -> None:
    with pytest.raises(ValidationError, match="set_json"):
        await cache.set("k", {"a": 1}, ex=60)  # type: ignore[arg-type]


async def test_values_over_the_size_limit_are_refused(prefix: str) -> None:
    async with RedisCache(url=REDIS_URL, key_prefix=prefix, max_value_bytes=8) as cache:
        with pytest.raises(ValidationError) as info:
            await cache.set("k", "123456789", ex=60)
    assert info.value.code == "cache_value_too_large"


async def test_reading_a_key_of_another_type_raises_cache_error(
    cache: RedisCache, raw_redis: Redis, prefix: str
) -> None:
    await raw_redis.rpush(f"{prefix}list", "a")
    with pytest.raises(CacheError) as info:
        await cache.get("list")
    assert info.value.upstream_code == "ResponseError"
    assert "WRONGTYPE" in info.value.message
