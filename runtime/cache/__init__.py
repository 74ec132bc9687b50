"""The Redis cache: namespaced keys, TTLs, JSON and Pydantic values, a single-flight ``get_or_set``.

Usage::

    from runtime.cache import redis     # or, as before: from runtime.redis_client import redis

    await redis.set("key", "value", ex=3600)          # ex: seconds until the key expires
    value = await redis.get("key")                   # "value", or None on a miss
    await redis.set_json("key", {"data": "value"}, ttl=3600)
    data = await redis.get_json("key")
    analysis = await redis.get_json("audio:abc", model=AudioAnalysis)   # a model, or None
    analysis = await redis.get_or_set("audio:abc", analyse, model=AudioAnalysis, ttl=86400)
    await redis.delete("key")
    is_healthy = await redis.health_check()

``redis`` is created lazily: importing this package opens no connection and reads no settings; the
first command reads :mod:`runtime.config` and builds the client. Workers and tests that want
their own build a :class:`RedisCache` (``RedisCache(url=..., **options)``,
``RedisCache(options=CacheOptions(...))`` or ``RedisCache.from_settings()``) and ``async with``
it. ``docs/cache.md`` gives the full contract; in short:

Every operation has a deadline
    One budget, ``operation_timeout_seconds`` (3 s by default, setting
    ``REDIS_OPERATION_TIMEOUT_SECONDS``), bounds each call: every attempt, backoff, pool wait and
    read-back included, for a dead, frozen or restarting server alike. When it is spent, reads
    (``get``, ``get_bytes``, ``get_json``, ``exists``, ``ttl``) report a miss and log a warning;
    writes (``set``, ``set_json``, ``delete``, ``expire``) raise
    :class:`~runtime.errors.ServiceUnavailableError` (``service="cache"``; ``retryable=False``
    for an ``nx=True`` write whose outcome is unknown); ``get_or_set`` computes without the lock;
    ``health_check`` returns ``False``. ``get_or_set`` returns, apart from the time ``compute``
    takes, within ``wait_timeout_seconds`` plus two budgets. The pool reconnects by itself.

Bad input is refused before any I/O
    with :class:`~runtime.errors.ValidationError` and nothing written: keys that are empty, too
    long (:data:`MAX_KEY_LENGTH`), reserved (``__``...) or not UTF-8 encodable; TTLs that are not
    whole seconds in 1 s to 30 days; ``lock_ttl_seconds``/``wait_timeout_seconds`` that are not
    finite numbers in range; non-``bool`` ``nx``; ``None``, NaN/Infinity or non-serialisable
    values; values over ``max_value_bytes``; a ``model`` Pydantic cannot validate into.

Repeated warnings are rate-limited
    (one line per kind every 10 s per process; the next line says how many were suppressed).
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("cache"):  # pragma: no cover - tested in a base install
    raise _extras.missing("cache", __name__)

from typing import TYPE_CHECKING, Any

from runtime.cache._client import RedisCache, redis
from runtime.cache._values import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_OPERATION_TIMEOUT_SECONDS,
    DEFAULT_TTL_SECONDS,
    MAX_KEY_LENGTH,
    MAX_TTL_SECONDS,
)

if TYPE_CHECKING:
    from runtime.cache._options import CacheOptions

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_OPERATION_TIMEOUT_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "MAX_KEY_LENGTH",
    "MAX_TTL_SECONDS",
    "CacheOptions",
    "RedisCache",
    "redis",
]


def __getattr__(name: str) -> Any:
    # CacheOptions is a pydantic model: pydantic loads when it is first asked for (or a cache is
    # built), not on import, which keeps ``import runtime.cache`` close to ``redis.asyncio`` alone.
    if name == "CacheOptions":
        from runtime.cache._options import CacheOptions

        return CacheOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
