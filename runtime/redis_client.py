"""The cache under its first name: a thin re-export of :mod:`runtime.cache`.

``from runtime.redis_client import redis`` (as the README and the PRD teach) keeps working; new
code imports from :mod:`runtime.cache`.
"""

from __future__ import annotations

from runtime.cache import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_OPERATION_TIMEOUT_SECONDS,
    DEFAULT_TTL_SECONDS,
    MAX_KEY_LENGTH,
    MAX_TTL_SECONDS,
    CacheOptions,
    RedisCache,
    get_redis,
    redis,
)

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_OPERATION_TIMEOUT_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "MAX_KEY_LENGTH",
    "MAX_TTL_SECONDS",
    "CacheOptions",
    "RedisCache",
    "get_redis",
    "redis",
]
