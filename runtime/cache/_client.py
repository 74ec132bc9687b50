"""The public cache client: :class:`RedisCache` (its methods) and the process-wide :data:`redis`.

See :mod:`runtime.cache` for the contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast, overload

from runtime.cache._core import CacheCore, options_from_settings
from runtime.cache._values import (
    MISS,
    check_key,
    check_ttl,
    decode_text,
    encode_json,
    encode_value,
    validator_for,
)
from runtime.errors import ValidationError

__all__ = ["RedisCache", "redis"]

T = TypeVar("T")


class RedisCache(CacheCore):
    """An async Redis cache client: bounded pool, one deadline per operation, our error policy.

    Args:
        url: ``redis://host:port/db`` to connect to (ignored when ``client`` is given).
        options: All options at once (instead of ``url`` and keyword options).
        client: An existing ``redis.asyncio.Redis`` to use instead of building one; the caller
            keeps ownership (``aclose`` does not close it) and its pool and retry settings apply.
        **fields: Any :class:`CacheOptions` field (``key_prefix``, ``operation_timeout_seconds``,
            ``max_connections`` ...), checked by it.

    Raises:
        ConfigError: Neither ``url``, ``options`` nor ``client`` given, or an option is invalid.
    """

    # -- strings ---------------------------------------------------------------------------

    async def set(
        self, key: str, value: str | bytes | int | float, *, ex: int | None = None, nx: bool = False
    ) -> bool:
        """Store a value under ``key`` for ``ex`` seconds.

        Args:
            key: The cache key (namespaced automatically).
            value: ``str`` (stored as UTF-8), ``bytes``, ``int`` or ``float`` (stored as ``repr``).
            ex: Seconds until the key expires; the default TTL when omitted.
            nx: Only store when the key does not exist yet (a reply lost to a timeout and
                retried is checked by reading the key back; see ``docs/cache.md``).

        Returns:
            ``True`` when stored; ``False`` when ``nx`` was set and the key already existed.

        Raises:
            ValidationError: Bad key, TTL, ``nx`` or value, or the value is too large.
            ServiceUnavailableError: Redis could not be reached within the budget.
            CacheError: Redis refused the command.
        """
        return await self._write("set", key, value, encode_value, ttl=ex, ttl_name="ex", nx=nx)

    async def get_bytes(self, key: str) -> bytes | None:
        """Return the raw bytes stored under ``key``.

        Args:
            key: The cache key.

        Returns:
            The value, or ``None`` on a miss or when Redis is unavailable (logged).

        Raises:
            ValidationError: Bad key.
            CacheError: Redis refused the command (for example the key holds a non-string type).
        """
        full_key = self.key(key)
        return cast(bytes | None, await self._run("get", key, self.client.get(full_key)))

    async def get(self, key: str) -> str | None:
        """Return the text stored under ``key``.

        Args:
            key: The cache key.

        Returns:
            The value decoded as UTF-8, or ``None`` on a miss or when Redis is unavailable.

        Raises:
            ValidationError: Bad key, or the stored bytes are not UTF-8 (use :meth:`get_bytes`).
            CacheError: Redis refused the command.
        """
        data = await self.get_bytes(key)
        return None if data is None else decode_text(key, data)

    async def delete(self, *keys: str) -> int:
        """Remove keys.

        Args:
            *keys: One or more cache keys.

        Returns:
            How many of them existed.

        Raises:
            ValidationError: No key or a bad key.
            ServiceUnavailableError: Redis could not be reached within the budget.
            CacheError: Redis refused the command.
        """
        if not keys:
            raise ValidationError("delete() needs at least one key", code="invalid_cache_key")
        full_keys = [self.key(k) for k in keys]  # every key checked before the client is built
        return int(await self._run("delete", keys[0], self.client.delete(*full_keys), miss=MISS))

    async def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored (``False`` when Redis is unavailable).

        Raises:
            ValidationError: Bad key.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        return bool(await self._run("exists", key, self.client.exists(full_key), miss=0))

    async def ttl(self, key: str) -> int | None:
        """Return the whole seconds before ``key`` expires.

        Returns:
            ``None`` when the key does not exist, has no expiry, or Redis is unavailable.

        Raises:
            ValidationError: Bad key.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        remaining = await self._run("ttl", key, self.client.ttl(full_key), miss=-2)
        return int(remaining) if int(remaining) >= 0 else None

    async def expire(self, key: str, seconds: int) -> bool:
        """Set a new expiry (1 s to 30 days) on an existing key.

        Returns:
            ``True`` when the key existed and got the new expiry.

        Raises:
            ValidationError: Bad key or TTL.
            ServiceUnavailableError: Redis could not be reached within the budget.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        ttl = check_ttl(seconds, name="seconds", default=None)
        return bool(await self._run("expire", key, self.client.expire(full_key, ttl), miss=MISS))

    # -- JSON ------------------------------------------------------------------------------

    async def set_json(
        self, key: str, value: Any, *, ttl: int | None = None, nx: bool = False
    ) -> bool:
        """Store a JSON-serialisable value (a Pydantic model included) for ``ttl`` seconds.

        Args:
            key: The cache key.
            value: A ``dict``/``list``/scalar tree, a Pydantic model, or any value Pydantic can
                serialise (``Decimal``, ``UUID``, ``datetime`` become JSON strings).
            ttl: Seconds until the key expires; the default TTL when omitted.
            nx: Only store when the key does not exist yet (see :meth:`set`).

        Returns:
            ``True`` when stored; ``False`` when ``nx`` was set and the key already existed.

        Raises:
            ValidationError: Bad key, TTL or ``nx``; ``None``, NaN/Infinity, a value that is not
                JSON-serialisable, or one that is too large.
            ServiceUnavailableError: Redis could not be reached within the budget.
            CacheError: Redis refused the command.
        """
        return await self._write(
            "set_json", key, value, encode_json, ttl=ttl, ttl_name="ttl", nx=nx
        )

    @overload
    async def get_json(self, key: str) -> Any: ...

    @overload
    async def get_json(self, key: str, *, model: type[T]) -> T | None: ...

    async def get_json(self, key: str, *, model: Any = None) -> Any:
        """Return the JSON value stored under ``key``, optionally validated into ``model``.

        Args:
            key: The cache key.
            model: A Pydantic model class, or any type a ``pydantic.TypeAdapter`` accepts.

        Returns:
            The value; ``None`` on a miss, when Redis is unavailable, or when the stored value
            is not valid JSON or no longer matches ``model`` (both logged).

        Raises:
            ValidationError: Bad key, or a ``model`` Pydantic cannot validate into.
            CacheError: Redis refused the command.
        """
        check_key(key)
        validate = validator_for(model)
        data = await self.get_bytes(key)
        if data is None:
            return None
        value = self._decode(key, data, validate, model)
        return None if value is MISS else value

    # -- single-flight compute -------------------------------------------------------------

    @overload
    async def get_or_set(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        *,
        model: type[T],
        ttl: int | None = None,
        lock_ttl_seconds: float = 30.0,
        wait_timeout_seconds: float = 120.0,
    ) -> T: ...

    @overload
    async def get_or_set(
        self,
        key: str,
        compute: Callable[[], Awaitable[Any]],
        *,
        ttl: int | None = None,
        lock_ttl_seconds: float = 30.0,
        wait_timeout_seconds: float = 120.0,
    ) -> Any: ...

    async def get_or_set(
        self,
        key: str,
        compute: Callable[[], Awaitable[Any]],
        *,
        model: Any = None,
        ttl: int | None = None,
        lock_ttl_seconds: float = 30.0,
        wait_timeout_seconds: float = 120.0,
    ) -> Any:
        """Return the cached value for ``key``, computing and caching it once on a miss.

        One caller (in this process or another) takes a short lock (redis-py's ``Lock`` on
        ``{prefix}__lock__:{key}``, renewed while it computes) and runs ``compute``; the others
        poll until the value appears and return it, or take over if the holder fails or its lock
        expires. A waiter that has waited ``wait_timeout_seconds`` computes the value itself;
        when Redis is unavailable the value is computed without the lock. Exceptions from
        ``compute`` propagate unchanged. Apart from the time ``compute`` takes, the call returns
        within ``wait_timeout_seconds`` plus two operation budgets.

        Args:
            key: The cache key.
            compute: Async callable producing the value (JSON-serialisable or a model).
            model: Validate cached values into this type (as for :meth:`get_json`).
            ttl: Seconds the computed value is cached; the default TTL when omitted.
            lock_ttl_seconds: Lock lifetime if its holder disappears (0.1 to 600 seconds).
            wait_timeout_seconds: Longest a caller waits for another's computation (0 to 3600).

        Returns:
            The cached or computed value.

        Raises:
            ValidationError: Bad key, TTL, bounds, ``compute`` or ``model``, or a computed value
                that cannot be cached (checked before any I/O, except the computed value).
            CacheError: Redis refused a command.
        """
        return await self._single_flight.get_or_set(
            key, compute, model, ttl, lock_ttl_seconds, wait_timeout_seconds
        )


#: The process-wide cache, configured from :mod:`runtime.config` on first use.
redis: RedisCache = RedisCache.lazy(options_from_settings)
