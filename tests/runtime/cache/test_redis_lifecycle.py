"""Construction, lifecycle and the lazy module-level cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cache_support import REDIS_URL, delete_prefix, make_settings
from redis.asyncio import Redis

from runtime._bounds import (
    MAX_ATTEMPTS_CEILING,
    RETRY_DELAY_CEILING_SECONDS,
    TIMEOUT_CEILING_SECONDS,
)
from runtime.cache import CacheOptions, RedisCache, redis
from runtime.config import override_settings
from runtime.errors import CacheError, ConfigError


@pytest.mark.parametrize("module", ["runtime.cache", "runtime.redis_client"])
def test_importing_the_module_reads_no_settings_and_connects_nowhere(
    tmp_path: Path, module: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE", "REDIS"))}
    code = (
        "from runtime.errors import ConfigError\n"
        f"from {module} import redis\n"
        "try:\n"
        "    redis.key_prefix\n"
        "except ConfigError:\n"
        "    print('lazy')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "lazy"


async def test_the_module_cache_is_configured_from_settings(prefix: str) -> None:
    settings = make_settings(cache_key_prefix=prefix, cache_ttl_seconds=123)
    try:
        with override_settings(settings):
            await redis.set("k", "v")
            remaining = await redis.ttl("k")
            raw = Redis.from_url(REDIS_URL)
            stored = await raw.get(f"{prefix}k")
            await raw.aclose()
    finally:
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)
    assert stored == b"v"
    assert remaining is not None
    assert 120 <= remaining <= 123


async def test_the_module_cache_rereads_settings_after_aclose(prefix: str) -> None:
    try:
        with override_settings(make_settings(cache_key_prefix=f"{prefix}one:")):
            first = redis.key("k")
        await redis.aclose()
        with override_settings(make_settings(cache_key_prefix=f"{prefix}two:")):
            second = redis.key("k")
    finally:
        await redis.aclose()
    assert (first, second) == (f"{prefix}one:k", f"{prefix}two:k")


async def test_a_closed_cache_refuses_commands() -> None:
    cache = RedisCache(url=REDIS_URL)
    await cache.aclose()
    with pytest.raises(CacheError) as info:
        await cache.set("k", "v", ex=60)
    assert info.value.code == "cache_closed"


async def test_aclose_closes_the_connections_it_opened(raw_redis: Redis) -> None:
    async with RedisCache(url=REDIS_URL) as cache:
        connection_id = await cache.client.client_id()
        before = await raw_redis.execute_command("CLIENT", "LIST", "ID", connection_id)
        assert f"id={connection_id} ".encode() in before
    listed = await raw_redis.execute_command("CLIENT", "LIST", "ID", connection_id)
    assert listed in (b"", "")


async def test_an_injected_client_is_left_open(prefix: str) -> None:
    raw = Redis.from_url(REDIS_URL)
    try:
        async with RedisCache(client=raw, key_prefix=prefix) as cache:
            await cache.set("k", "v", ex=60)
            await cache.delete("k")
        assert await raw.ping() is True
    finally:
        await raw.aclose()


def test_url_or_client_is_required() -> None:
    with pytest.raises(ConfigError, match="url=, options= or client="):
        RedisCache()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "http://127.0.0.1:6379"},
        {"url": REDIS_URL, "key_prefix": ""},
        {"url": REDIS_URL, "max_connections": 0},
        {"url": REDIS_URL, "max_attempts": 11},
        {"url": REDIS_URL, "socket_timeout_seconds": 0},
        {"url": REDIS_URL, "default_ttl_seconds": 0},
        {"url": REDIS_URL, "pool_timeout_seconds": True},
    ],
    ids=["scheme", "prefix", "pool", "attempts", "socket-timeout", "ttl", "bool"],
)
def test_out_of_range_options_are_config_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RedisCache(**kwargs)  # type: ignore[arg-type]


async def test_a_cache_can_be_built_from_an_options_object(prefix: str) -> None:
    options = CacheOptions(url=REDIS_URL, key_prefix=prefix, operation_timeout_seconds=1.5)
    async with RedisCache(options=options) as cache:
        assert cache.options is options
        assert await cache.set("k", "v", ex=60) is True
        await cache.delete("k")


def test_options_and_keyword_options_together_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="either options="):
        RedisCache(options=CacheOptions(url=REDIS_URL), max_connections=3)


def test_the_operation_budget_comes_from_settings(prefix: str) -> None:
    settings = make_settings(
        cache_key_prefix=prefix,
        redis_operation_timeout_seconds=1.25,
        redis_socket_timeout_seconds=0.4,
    )
    with override_settings(settings):
        options = CacheOptions.from_settings()
        built = RedisCache.from_settings()
    assert (options.operation_timeout_seconds, options.socket_timeout_seconds) == (1.25, 0.4)
    assert built.options == options


def test_the_pool_waits_at_most_the_budget_unless_told_less() -> None:
    assert CacheOptions(url=REDIS_URL, operation_timeout_seconds=2.0).pool_wait_seconds == 2.0
    assert CacheOptions(url=REDIS_URL, pool_timeout_seconds=0.5).pool_wait_seconds == 0.5


@pytest.mark.parametrize(
    "fields",
    [
        {"operation_timeout_seconds": 0},
        {"operation_timeout_seconds": float("nan")},
        {"operation_timeout_seconds": "3"},
        {"key_prefix": "p\ud800:"},
        {"retry_base_delay_seconds": 2.0, "retry_max_delay_seconds": 1.0},
        {"no_such_option": 1},
    ],
    ids=["zero-budget", "nan-budget", "text-budget", "surrogate-prefix", "backoff", "unknown"],
)
def test_bad_options_are_config_errors_naming_the_field(fields: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="invalid Redis cache options") as info:
        CacheOptions(url=REDIS_URL, **fields)  # type: ignore[arg-type]
    assert next(iter(fields)) in str(info.value)


@pytest.mark.parametrize(
    ("field", "ceiling"),
    [
        ("retry_base_delay_seconds", RETRY_DELAY_CEILING_SECONDS),
        ("retry_max_delay_seconds", RETRY_DELAY_CEILING_SECONDS),
        ("max_attempts", MAX_ATTEMPTS_CEILING),
        ("operation_timeout_seconds", TIMEOUT_CEILING_SECONDS),
        ("socket_timeout_seconds", TIMEOUT_CEILING_SECONDS),
        ("connect_timeout_seconds", TIMEOUT_CEILING_SECONDS),
        ("pool_timeout_seconds", TIMEOUT_CEILING_SECONDS),
        ("health_check_timeout_seconds", TIMEOUT_CEILING_SECONDS),
    ],
)
def test_retry_and_timeout_options_share_the_library_ceilings(field: str, ceiling: float) -> None:
    fields: dict[str, object] = {field: ceiling}
    if field == "retry_base_delay_seconds":
        fields["retry_max_delay_seconds"] = ceiling
    assert getattr(CacheOptions(url=REDIS_URL, **fields), field) == ceiling  # type: ignore[arg-type]
    fields[field] = ceiling + 1
    with pytest.raises(ConfigError, match=field):
        CacheOptions(url=REDIS_URL, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://",
        "redis+cluster://127.0.0.1",
        "redis+cluster://127.0.0.1:70000",
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1:26379/cache/x",
    ],
    ids=["no-node", "no-port", "bad-port", "no-service", "bad-db"],
)
def test_bad_cluster_and_sentinel_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        RedisCache(url=url).client  # noqa: B018


def test_a_cluster_url_may_carry_credentials_and_several_nodes() -> None:
    from runtime.cache._options import parse_nodes

    assert parse_nodes("rediss+cluster://u:p%40ss@10.0.0.1:7000,10.0.0.2:7001") == (
        "u",
        "p@ss",
        [("10.0.0.1", 7000), ("10.0.0.2", 7001)],
        "",
    )
