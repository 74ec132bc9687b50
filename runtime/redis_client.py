"""The cache under its first name: a thin re-export of :mod:`runtime.cache`.

``from runtime.redis_client import redis`` (as the README and the PRD teach) keeps working; new
code imports from :mod:`runtime.cache`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import runtime.cache
from runtime.cache import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_OPERATION_TIMEOUT_SECONDS,
    DEFAULT_TTL_SECONDS,
    MAX_KEY_LENGTH,
    MAX_TTL_SECONDS,
    RedisCache,
    redis,
)

if TYPE_CHECKING:
    from runtime.cache import CacheOptions

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
    return getattr(runtime.cache, name)  # CacheOptions, loaded on first use as there
