"""Fixtures for the Redis cache tests: a RedisCache on the machine's Redis with its own prefix."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cache_support import HAS_REDIS_SERVER, REDIS_URL, RedisServer, delete_prefix
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

from runtime.cache import RedisCache
from runtime.cache._errors import LIMITER


@pytest.fixture(autouse=True)
def fresh_warning_limiter() -> None:
    """Each test sees its first cache warning of each kind (the limiter is per process)."""
    LIMITER.reset()


@pytest.fixture
def prefix() -> str:
    return f"vgtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def raw_redis(prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()
        await delete_prefix(REDIS_URL, prefix)


@pytest.fixture
async def cache(prefix: str) -> AsyncIterator[RedisCache]:
    async with RedisCache(url=REDIS_URL, key_prefix=prefix) as client:
        try:
            yield client
        finally:
            await delete_prefix(REDIS_URL, prefix)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (faults allowed), stopped at teardown."""
    if not HAS_REDIS_SERVER:
        pytest.skip("needs redis-server")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def close_left_open() -> int:
    """Close every redis-py connection and socket transport still open; return how many.

    redis-py 8.1 leaves a connection to a server a test killed or froze unclosed (see
    docs/cache.md): nothing references it any more, but until the garbage collector finds it,
    it holds its socket, and when it is collected it reports itself (``ResourceWarning``),
    inside whichever test runs then. Closed here, at the end of the test that made it, nothing
    is left to report. ``gc.get_objects()`` still lists such objects before they are collected.
    """
    loop = asyncio.get_running_loop()
    closed = 0
    for obj in gc.get_objects():
        kind = type(obj)  # not isinstance: a dead weak proxy raises on any other look
        if issubclass(kind, AbstractConnection) and getattr(obj, "_writer", None):
            obj._close()
            closed += 1
        elif (
            issubclass(kind, asyncio.Transport)
            and getattr(obj, "_loop", None) is loop
            and not obj.is_closing()
        ):
            obj.abort()
            closed += 1
    return closed


@pytest.fixture(autouse=True)
async def nothing_left_open() -> AsyncIterator[None]:
    """After each cache test, in its own event loop: close what redis-py left open, collect."""
    yield
    close_left_open()
    gc.collect()
    await asyncio.sleep(0)  # let the closed transports finish closing in this loop
