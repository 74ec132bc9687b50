"""Fixtures for the Redis cache tests: a RedisCache on the machine's Redis with its own prefix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cache_support import HAS_REDIS_SERVER, REDIS_URL, RedisServer, delete_prefix
from redis.asyncio import Redis

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


# redis-py 8.1 leaves a connection to a server these tests killed or froze unclosed (see
# docs/cache.md); the garbage collector reports it later, inside whichever test runs then. The
# cache tests ignore exactly those reports: a connection, stream or transport collected unclosed.
_LEAKED_CONNECTION_REPORTS = (
    r"ignore:Exception ignored in. <function (AbstractConnection|StreamWriter|_SelectorTransport)"
    r"\.__del__:pytest.PytestUnraisableExceptionWarning",
    r"ignore:unclosed (Connection|transport|<).*:ResourceWarning",
    r"ignore:loop is closed:ResourceWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "runtime/cache/" in item.nodeid:
            for spec in _LEAKED_CONNECTION_REPORTS:
                item.add_marker(pytest.mark.filterwarnings(spec))
