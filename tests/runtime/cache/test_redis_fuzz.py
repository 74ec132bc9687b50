"""Property-based search over the public cache API: keys, values and options (hypothesis).

Each call either succeeds or raises ``ValidationError``; a refusal sends nothing to Redis (the
client talks through a counting proxy) and writes nothing; what ``set_json`` stores is strict
JSON (no NaN/Infinity) and what ``set`` stores reads back byte for byte. Examples are bounded.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pytest
from cache_support import REDIS_URL, LossyProxy, delete_prefix
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from runtime.cache import MAX_KEY_LENGTH, MAX_TTL_SECONDS, RedisCache
from runtime.errors import ValidationError

EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
keys = st.one_of(
    any_text,
    st.text(min_size=MAX_KEY_LENGTH - 2, max_size=MAX_KEY_LENGTH + 2, alphabet="ab"),
    st.just("__lock__:x"),
    st.integers(),
    st.binary(max_size=8),
    st.none(),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
options = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    st.integers(min_value=-2, max_value=MAX_TTL_SECONDS + 2),
    any_text,
    st.lists(st.integers(), max_size=2),
)
flags = st.one_of(st.booleans(), st.none(), st.integers(), any_text)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    any_text,
    st.decimals(allow_nan=True, allow_infinity=True),
    st.uuids(),
    st.datetimes(timezones=st.just(UTC)),
    st.binary(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)
    ),
    max_leaves=12,
)
set_values = st.one_of(any_text, st.binary(max_size=30), numbers, st.booleans(), st.none())


@dataclass
class Env:
    """One event loop, a counting proxy in front of the shared Redis, a cache and a raw client."""

    runner: asyncio.Runner
    proxy: LossyProxy
    cache: RedisCache
    raw: Redis

    def stored(self, key: object) -> bytes | None:
        if not isinstance(key, str):
            return None
        full = (self.cache.key_prefix + key).encode("utf-8", "replace")
        return self.runner.run(self.raw.get(full))  # type: ignore[no-any-return]

    def refused_or_done(self, call: Callable[[], Awaitable[Any]], key: object) -> Any:
        before, sent = self.stored(key), self.proxy.forwarded
        try:
            return self.runner.run(call())
        except ValidationError:
            assert self.proxy.forwarded == sent  # refused before any I/O
            assert self.stored(key) == before  # nothing written
            return ValidationError


@pytest.fixture
def env() -> Iterator[Env]:
    prefix = f"vgfuzz:{uuid.uuid4().hex[:12]}:"
    with asyncio.Runner() as runner:

        async def open_env() -> Env:
            proxy = LossyProxy()
            await proxy.__aenter__()
            cache = RedisCache(url=proxy.url, key_prefix=prefix)
            await cache.health_check()
            return Env(runner, proxy, cache, Redis.from_url(REDIS_URL))

        opened = runner.run(open_env())
        try:
            yield opened
        finally:
            runner.run(opened.cache.aclose())
            runner.run(opened.raw.aclose())
            runner.run(opened.proxy.__aexit__())
            runner.run(delete_prefix(REDIS_URL, prefix))


def test_set_accepts_or_refuses_and_stores_exactly_what_it_accepted(env: Env) -> None:
    @FUZZ
    @given(key=keys, value=set_values, ex=options, nx=flags)
    def check(key: Any, value: Any, ex: Any, nx: Any) -> None:
        result = env.refused_or_done(lambda: env.cache.set(key, value, ex=ex, nx=nx), key)
        if result is ValidationError:
            return
        if result:  # stored (nx may find the key taken)
            stored = env.runner.run(env.raw.get(env.cache.key(key)))
            expected = (
                value.encode() if isinstance(value, str)
                else value if isinstance(value, bytes)
                else repr(value).encode()
            )  # fmt: skip
            assert stored == expected

    check()


def test_set_json_accepts_or_refuses_and_stores_strict_json(env: Env) -> None:
    @FUZZ
    @given(key=keys, value=json_values, ttl=options, nx=flags)
    def check(key: Any, value: Any, ttl: Any, nx: Any) -> None:
        result = env.refused_or_done(lambda: env.cache.set_json(key, value, ttl=ttl, nx=nx), key)
        if result is ValidationError or not result:
            return
        stored = env.runner.run(env.raw.get(env.cache.key(key)))

        def not_json(token: str) -> None:
            raise AssertionError(f"set_json stored {token}, which is not JSON")

        json.loads(stored, parse_constant=not_json)

    check()


def test_reads_accept_or_refuse_keys(env: Env) -> None:
    reads: list[Callable[[Any], Awaitable[Any]]] = [
        env.cache.get_bytes,
        env.cache.get_json,
        env.cache.exists,
        env.cache.ttl,
        env.cache.delete,
    ]

    @FUZZ
    @given(key=keys, which=st.integers(min_value=0, max_value=len(reads) - 1))
    def check(key: Any, which: int) -> None:
        env.refused_or_done(lambda: reads[which](key), key)

    check()


def test_get_or_set_accepts_or_refuses_its_options(env: Env) -> None:
    @FUZZ
    @given(
        key=keys,
        value=json_values,
        ttl=options,
        lock_ttl=options,
        wait=options,
        computes=st.booleans(),
    )
    def check(key: Any, value: Any, ttl: Any, lock_ttl: Any, wait: Any, computes: bool) -> None:
        async def compute() -> Any:
            return value

        call = lambda: env.cache.get_or_set(  # noqa: E731
            key,
            compute if computes else value,
            ttl=ttl,
            lock_ttl_seconds=lock_ttl,
            wait_timeout_seconds=wait,
        )
        before, sent = env.stored(key), env.proxy.forwarded
        try:
            result = env.runner.run(call())
        except ValidationError as exc:
            if exc.code != "invalid_cache_value":  # a bad computed value is known only after
                assert env.proxy.forwarded == sent
            assert env.stored(key) == before
            return
        stored = env.stored(key)
        assert stored is not None  # computed values are cached
        assert result == value or result == json.loads(stored)  # computed here, or a hit

    check()
