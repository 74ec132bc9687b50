"""Bad input gets ValidationError before any I/O, and nothing is written (issue 9, finding 5).

The cache talks to Redis through a proxy that counts what it forwards: a refused call must not
have sent a single byte.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from cache_support import LossyProxy
from pydantic import BaseModel
from redis.asyncio import Redis

from runtime.cache import RedisCache
from runtime.errors import ValidationError

LONE_SURROGATE = "audio:\ud800"


class Beat(BaseModel):
    bpm: float
    label: str | None = None


@pytest.fixture
async def proxy() -> AsyncIterator[LossyProxy]:
    async with LossyProxy() as counting:
        yield counting


@pytest.fixture
async def cache(proxy: LossyProxy, prefix: str, raw_redis: Redis) -> AsyncIterator[RedisCache]:
    async with RedisCache(url=proxy.url, key_prefix=prefix) as client:
        await client.health_check()  # the connection is open: a refusal must send nothing more
        yield client


async def value() -> int:
    return 1


async def refused(proxy: LossyProxy, call: Awaitable[Any], code: str) -> ValidationError:
    before = proxy.forwarded
    with pytest.raises(ValidationError) as info:
        await call
    assert proxy.forwarded == before  # no I/O at all
    assert info.value.code == code
    return info.value


OPERATIONS: dict[str, Callable[[RedisCache, str], Awaitable[Any]]] = {
    "get": lambda c, k: c.get(k),
    "get_bytes": lambda c, k: c.get_bytes(k),
    "get_json": lambda c, k: c.get_json(k),
    "set": lambda c, k: c.set(k, "v", ex=60),
    "set_json": lambda c, k: c.set_json(k, {"a": 1}, ttl=60),
    "get_or_set": lambda c, k: c.get_or_set(k, value, ttl=60),
    "delete": lambda c, k: c.delete(k),
    "exists": lambda c, k: c.exists(k),
    "ttl": lambda c, k: c.ttl(k),
    "expire": lambda c, k: c.expire(k, 60),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_a_key_with_a_lone_surrogate_is_a_validation_error(
    cache: RedisCache, proxy: LossyProxy, operation: str
) -> None:
    await refused(proxy, OPERATIONS[operation](cache, LONE_SURROGATE), "invalid_cache_key")


@pytest.mark.parametrize("bad", ["30", None, True, math.nan, math.inf, [1]])
@pytest.mark.parametrize("option", ["lock_ttl_seconds", "wait_timeout_seconds"])
async def test_a_lock_option_that_is_not_a_finite_number_is_a_validation_error(
    cache: RedisCache, proxy: LossyProxy, option: str, bad: object
) -> None:
    call = cache.get_or_set("song", value, ttl=60, **{option: bad})  # type: ignore[arg-type]
    await refused(proxy, call, "invalid_lock")


async def test_a_compute_that_is_not_callable_is_a_validation_error(
    cache: RedisCache, proxy: LossyProxy
) -> None:
    await refused(proxy, cache.get_or_set("song", 42, ttl=60), "invalid_cache_option")  # type: ignore[arg-type]


async def test_a_model_pydantic_cannot_use_is_a_validation_error_before_any_io(
    cache: RedisCache, proxy: LossyProxy
) -> None:
    await refused(proxy, cache.get_json("song", model=object()), "invalid_cache_model")  # type: ignore[call-overload]


@pytest.mark.parametrize("bad", ["yes", 1, None])
async def test_nx_that_is_not_a_bool_is_a_validation_error(
    cache: RedisCache, proxy: LossyProxy, bad: object
) -> None:
    await refused(proxy, cache.set("k", "v", ex=60, nx=bad), "invalid_cache_option")  # type: ignore[arg-type]


async def test_text_with_a_lone_surrogate_is_a_validation_error(
    cache: RedisCache, proxy: LossyProxy
) -> None:
    await refused(proxy, cache.set("k", "bad \udfff", ex=60), "invalid_cache_value")


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        -math.inf,
        {"bpm": math.nan},
        [1.0, [2.0, {"deep": math.inf}]],
        Beat(bpm=math.inf),  # Pydantic would write null, which reads back as a miss
        {"beats": [Beat(bpm=math.nan)]},
    ],
    ids=["nan", "inf", "-inf", "in-dict", "nested", "model", "model-in-dict"],
)
async def test_set_json_refuses_nan_and_infinity_and_writes_nothing(
    cache: RedisCache, proxy: LossyProxy, raw_redis: Redis, bad: object
) -> None:
    await refused(proxy, cache.set_json("doc", bad, ttl=60), "invalid_cache_value")
    assert await raw_redis.exists(cache.key("doc")) == 0


@pytest.mark.parametrize(
    "good",
    ["NaN", {"label": "Infinity"}, Beat(bpm=120.0), {"x": None, "y": [None, 1.5]}],
    ids=["nan-text", "infinity-text", "model", "nulls"],
)
async def test_set_json_keeps_values_that_only_look_like_nan(
    cache: RedisCache, raw_redis: Redis, good: object
) -> None:
    assert await cache.set_json("doc", good, ttl=60) is True
    stored = await raw_redis.get(cache.key("doc"))
    json.loads(stored, parse_constant=lambda token: pytest.fail(f"not JSON: {token}"))


async def test_a_computed_nan_is_refused_and_not_stored(
    cache: RedisCache, raw_redis: Redis
) -> None:
    async def nan() -> float:
        return math.nan

    with pytest.raises(ValidationError):
        await cache.get_or_set("song", nan, ttl=60)
    assert await raw_redis.exists(cache.key("song")) == 0
    assert await raw_redis.exists(f"{cache.key_prefix}__lock__:song") == 0


async def test_a_sync_compute_is_a_validation_error_and_leaves_no_lock(
    cache: RedisCache, raw_redis: Redis
) -> None:
    def plain() -> int:  # not async: its result cannot be awaited
        return 7

    with pytest.raises(ValidationError) as info:
        await cache.get_or_set("song", plain, ttl=60)  # type: ignore[arg-type]
    assert info.value.code == "invalid_compute"
    assert await raw_redis.exists(cache.key("song")) == 0
    assert await raw_redis.exists(f"{cache.key_prefix}__lock__:song") == 0
