"""The Redis cache: namespaced keys, TTLs, JSON and Pydantic values, a single-flight ``get_or_set``.

Usage::

    from runtime.redis_client import redis

    await redis.set("key", "value", ex=3600)          # ex: seconds until the key expires
    value = await redis.get("key")                   # "value", or None on a miss
    await redis.set_json("key", {"data": "value"}, ttl=3600)
    data = await redis.get_json("key")
    analysis = await redis.get_json("audio:abc", model=AudioAnalysis)   # a model, or None
    analysis = await redis.get_or_set("audio:abc", analyse, model=AudioAnalysis, ttl=86400)
    await redis.delete("key")
    is_healthy = await redis.health_check()

``redis`` is created lazily: importing this module opens no connection and reads no settings; the
first command reads :mod:`runtime.config` (``redis_url``, ``redis_max_connections``,
``redis_socket_timeout_seconds``, ``cache_ttl_seconds``, ``cache_key_prefix``) and builds the
client. Tests and workers that want their own build a :class:`RedisCache` with explicit keyword
arguments (and ``async with`` it).

Keys
    Every key is stored as ``{key_prefix}{key}`` (``videogen:cache:{key}`` by default). Keys are
    non-empty strings of at most :data:`MAX_KEY_LENGTH` characters; keys starting with ``__`` are
    reserved for this module (``get_or_set`` locks live at ``{key_prefix}__lock__:{key}``).

Expiry
    Every entry expires: ``ex``/``ttl`` is a whole number of seconds between 1 and
    :data:`MAX_TTL_SECONDS` (30 days); when omitted the client's default TTL applies
    (``cache_ttl_seconds``, 3600).

Values
    :meth:`RedisCache.set` stores ``str``, ``bytes`` or numbers; :meth:`RedisCache.get` returns
    ``str`` (UTF-8) and :meth:`RedisCache.get_bytes` the raw bytes. :meth:`RedisCache.set_json`
    stores any JSON-able value, Pydantic models included (serialised by alias, as Pydantic's
    ``model_dump_json`` does), and :meth:`RedisCache.get_json` returns plain JSON or, given
    ``model=``, an instance validated with Pydantic (a ``BaseModel`` subclass or any type a
    ``TypeAdapter`` accepts, such as ``dict[str, Decimal]``), so ``Decimal``, ``UUID`` and
    ``datetime`` round-trip exactly. A stored value that no longer validates against ``model`` (the
    schema changed) is logged and reported as a miss. Values are bounded by ``max_value_bytes``
    (16 MiB by default); ``None`` cannot be cached because it reads back as a miss.

When Redis is down or too slow
    Each command retries connection errors and timeouts with jittered exponential backoff
    (``max_attempts`` in all, redis-py's ``Retry``) and a bounded pool waits up to
    ``pool_timeout_seconds`` for a free connection. If it still fails:

    * reads (``get``, ``get_bytes``, ``get_json``, ``exists``, ``ttl``) report a miss
      (``None``/``False``) and log a warning (at most one every 10 seconds per client, then debug),
      so a cache outage slows the pipeline down but does not stop it;
    * writes (``set``, ``set_json``, ``delete``, ``expire``) raise
      :class:`~runtime.errors.ServiceUnavailableError` (``retryable=True``, ``service="cache"``):
      a caller that must know whether a value was stored or removed finds out;
    * ``get_or_set`` computes the value itself without the lock and returns it (storing is
      attempted and a failure only logged);
    * ``health_check`` returns ``False``; it never raises.

    The client is not rebuilt after an outage: the pool reconnects on the next command once
    Redis answers again.

Retried commands that are not safe to repeat
    redis-py retries a command after a timeout even when Redis applied it and only the reply was
    lost. For ``SET ... NX`` the retry then answers "already exists". The two NX writes here
    correct for that: after a refused ``SET NX``, the ``get_or_set`` lock (whose value is a token
    unique to the caller) is read back and counts as acquired when it holds our token; and
    ``set``/``set_json`` with ``nx=True``, when redis-py had to retry the command (the client
    built here records failed attempts), read the key back and report ``True`` if it holds
    exactly the value written. The limitation: if that retried write was in fact refused and
    another writer had stored the very same bytes, ``nx=True`` also reports ``True``; claims
    that must have a single winner should write a value unique to the writer (a worker id or a
    UUID). With an injected ``client=`` retries cannot be observed and ``nx=True`` trusts the
    reply. Other Redis errors (a wrong type, an authentication failure) are raised
    as the error :func:`runtime.error_mapping.translate_exception` gives, from reads too.
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("cache"):  # pragma: no cover - tested in a base install
    raise _extras.missing("cache", __name__)

import asyncio
import contextlib
import inspect
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, TypeVar, cast, overload

import pydantic
import pydantic_core
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from runtime.error_mapping import translate_exception
from runtime.errors import CacheError, ConfigError, ValidationError
from runtime.lifecycle import LazyClient, check_bound
from runtime.logging import get_logger

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_TTL_SECONDS",
    "MAX_KEY_LENGTH",
    "MAX_TTL_SECONDS",
    "CacheOptions",
    "RedisCache",
    "get_redis",
    "redis",
]

T = TypeVar("T")

DEFAULT_KEY_PREFIX: Final = "videogen:cache:"
DEFAULT_TTL_SECONDS: Final = 3600
MAX_TTL_SECONDS: Final = 30 * 24 * 3600
MAX_KEY_LENGTH: Final = 1024
_RESERVED_KEY_START: Final = "__"
_LOCK_INFIX: Final = "__lock__:"
_OUTAGE_LOG_INTERVAL_SECONDS: Final = 10.0
_LOCK_POLL_START_SECONDS: Final = 0.02
_LOCK_POLL_MAX_SECONDS: Final = 0.25

# Release / extend a lock only while it still holds our token (another holder may own it now).
_RELEASE_LOCK: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND_LOCK: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""

_logger = get_logger("runtime.redis_client")
_UNAVAILABLE: Final = (RedisConnectionError, RedisTimeoutError)
_MISS: Final = object()

# Failed attempts of the command now running in this task, counted by _ObservedRetry (None when
# nobody is counting).
_FAILED_ATTEMPTS: ContextVar[list[int] | None] = ContextVar(
    "videogen_redis_failed_attempts", default=None
)


class _ObservedRetry(Retry):
    """redis-py's ``Retry`` that also counts, for the caller awaiting the command, failed attempts.

    redis-py calls ``fail`` once per failed attempt before it retries; the count tells a caller
    whether the reply it got came from a repeated command (see ``RedisCache._set_nx``).
    """

    async def call_with_retry(
        self, do: Callable[[], Awaitable[T]], fail: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> T:
        async def observed(*fail_args: Any) -> Any:
            failures = _FAILED_ATTEMPTS.get()
            if failures is not None:
                failures[0] += 1
            result = fail(*fail_args)
            return await result if inspect.isawaitable(result) else result

        return await super().call_with_retry(do, observed, *args, **kwargs)


@dataclass(frozen=True, slots=True)
class CacheOptions:
    """The policy of one :class:`RedisCache`; every bound is checked when it is built.

    Attributes:
        url: ``redis://`` or ``rediss://`` URL, database number included.
        key_prefix: Namespace put in front of every key.
        default_ttl_seconds: Expiry used when a write gives none (1 to 30 days).
        max_connections: Size of the connection pool (1 to 1000).
        pool_timeout_seconds: How long a command waits for a free pooled connection.
        socket_timeout_seconds: Read/write timeout of one command on the socket.
        connect_timeout_seconds: Time allowed to open a connection.
        max_attempts: Tries per command on connection errors and timeouts (1 to 10).
        retry_base_delay_seconds: Backoff base between those tries (jittered, doubling).
        retry_max_delay_seconds: Upper bound on one backoff delay.
        max_value_bytes: Largest value accepted by the write methods.
        health_check_timeout_seconds: Time ``health_check`` allows for ``PING``.
    """

    url: str
    key_prefix: str = DEFAULT_KEY_PREFIX
    default_ttl_seconds: int = DEFAULT_TTL_SECONDS
    max_connections: int = 20
    pool_timeout_seconds: float = 10.0
    socket_timeout_seconds: float = 5.0
    connect_timeout_seconds: float = 5.0
    max_attempts: int = 3
    retry_base_delay_seconds: float = 0.05
    retry_max_delay_seconds: float = 1.0
    max_value_bytes: int = 16 * 1024 * 1024
    health_check_timeout_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ConfigError("Redis url must start with redis://, rediss:// or unix://")
        if not isinstance(self.key_prefix, str) or not self.key_prefix:
            raise ConfigError("key_prefix must be a non-empty string")
        check_bound(
            "default_ttl_seconds", self.default_ttl_seconds, low=1, high=MAX_TTL_SECONDS, whole=True
        )
        check_bound("max_connections", self.max_connections, low=1, high=1000, whole=True)
        check_bound("max_attempts", self.max_attempts, low=1, high=10, whole=True)
        check_bound(
            "max_value_bytes", self.max_value_bytes, low=1, high=512 * 1024 * 1024, whole=True
        )
        check_bound(
            "pool_timeout_seconds", self.pool_timeout_seconds, low=0, high=300, above_low=True
        )
        check_bound(
            "socket_timeout_seconds", self.socket_timeout_seconds, low=0, high=300, above_low=True
        )
        check_bound(
            "connect_timeout_seconds", self.connect_timeout_seconds, low=0, high=300, above_low=True
        )
        check_bound(
            "retry_max_delay_seconds", self.retry_max_delay_seconds, low=0, high=60, above_low=True
        )
        check_bound(  # never above the cap, which would make every delay the cap
            "retry_base_delay_seconds",
            self.retry_base_delay_seconds,
            low=0,
            high=self.retry_max_delay_seconds,
            above_low=True,
        )
        check_bound(
            "health_check_timeout_seconds",
            self.health_check_timeout_seconds,
            low=0,
            high=60,
            above_low=True,
        )


@lru_cache(maxsize=256)
def _adapter(model: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(model)


def _validator(model: Any) -> Callable[[bytes], Any]:
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return model.model_validate_json
    try:
        adapter = _adapter(model)
    except TypeError:  # an unhashable type expression: build the adapter each time
        adapter = pydantic.TypeAdapter(model)
    return adapter.validate_json


def _model_name(model: Any) -> str:
    return getattr(model, "__name__", None) or repr(model)


class RedisCache(LazyClient[CacheOptions]):
    """An async Redis cache client with a bounded, waiting pool and our error policy.

    Args:
        url: ``redis://host:port/db`` to connect to (ignored when ``client`` is given).
        key_prefix: Namespace put in front of every key.
        default_ttl_seconds: Expiry for writes that give none.
        max_connections: Pool size; commands beyond it wait for a free connection.
        pool_timeout_seconds: How long a command waits for a free connection before failing.
        socket_timeout_seconds: Socket read/write timeout per command.
        connect_timeout_seconds: Time allowed to open a connection.
        max_attempts: Tries per command on connection errors and timeouts.
        retry_base_delay_seconds: Backoff base between tries (jittered, doubling).
        retry_max_delay_seconds: Upper bound on one backoff delay.
        max_value_bytes: Largest value accepted by the write methods.
        health_check_timeout_seconds: Time ``health_check`` allows for ``PING``.
        client: An existing ``redis.asyncio.Redis`` to use instead of building one; the caller
            keeps ownership (``aclose`` does not close it) and its pool and retry settings apply.

    Raises:
        ConfigError: Neither ``url`` nor ``client`` was given, or a bound is out of range.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        default_ttl_seconds: int = DEFAULT_TTL_SECONDS,
        max_connections: int = 20,
        pool_timeout_seconds: float = 10.0,
        socket_timeout_seconds: float = 5.0,
        connect_timeout_seconds: float = 5.0,
        max_attempts: int = 3,
        retry_base_delay_seconds: float = 0.05,
        retry_max_delay_seconds: float = 1.0,
        max_value_bytes: int = 16 * 1024 * 1024,
        health_check_timeout_seconds: float = 2.0,
        client: Redis | None = None,
    ) -> None:
        if url is None and client is None:
            raise ConfigError("RedisCache needs url= or client=")
        options = CacheOptions(
            url=url if url is not None else "redis://injected",
            key_prefix=key_prefix,
            default_ttl_seconds=default_ttl_seconds,
            max_connections=max_connections,
            pool_timeout_seconds=pool_timeout_seconds,
            socket_timeout_seconds=socket_timeout_seconds,
            connect_timeout_seconds=connect_timeout_seconds,
            max_attempts=max_attempts,
            retry_base_delay_seconds=retry_base_delay_seconds,
            retry_max_delay_seconds=retry_max_delay_seconds,
            max_value_bytes=max_value_bytes,
            health_check_timeout_seconds=health_check_timeout_seconds,
        )
        self._setup(options=options, factory=None, client=client)

    def _setup(
        self,
        *,
        options: CacheOptions | None,
        factory: Callable[[], CacheOptions] | None,
        client: Redis | None = None,
    ) -> None:
        super()._setup(options=options, factory=factory)
        self._client = client
        self._owns_client = client is None
        self._closed = False
        self._reusable = factory is not None
        self._last_outage_log = -_OUTAGE_LOG_INTERVAL_SECONDS
        self._release_script: Any = None
        self._extend_script: Any = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        """The namespace in front of every key."""
        return self.options.key_prefix

    @property
    def client(self) -> Redis:
        """The underlying ``redis.asyncio.Redis`` (built on first access).

        Raises:
            CacheError: ``code="cache_closed"`` after :meth:`aclose` (non-lazy caches).
        """
        if self._client is None:
            if self._closed:
                raise CacheError("this RedisCache is closed; build a new one", code="cache_closed")
            opts = self.options
            pool = BlockingConnectionPool.from_url(
                opts.url,
                max_connections=opts.max_connections,
                timeout=opts.pool_timeout_seconds,
                socket_timeout=opts.socket_timeout_seconds,
                socket_connect_timeout=opts.connect_timeout_seconds,
                retry=_ObservedRetry(
                    ExponentialWithJitterBackoff(
                        base=opts.retry_base_delay_seconds, cap=opts.retry_max_delay_seconds
                    ),
                    retries=opts.max_attempts - 1,
                ),
                # Explicit, so every supported redis-py (>= 6.0) retries exactly these two,
                # whatever its defaults for Retry's supported errors.
                retry_on_error=[RedisConnectionError, RedisTimeoutError],
            )
            self._client = Redis.from_pool(pool)
        return self._client

    async def aclose(self) -> None:
        """Close the pool this cache built (an injected client is left open).

        A closed cache refuses further commands, except a lazy cache (the module-level
        :data:`redis`): it forgets its options and, on next use, reads the then-current settings
        and builds a new pool in the then-running event loop.
        """
        client, self._client = self._client, None
        self._release_script = self._extend_script = None
        if self._reusable:
            self._options = None
        else:
            self._closed = True
        if client is not None and self._owns_client:
            await client.aclose()

    # -- helpers ---------------------------------------------------------------------------

    def key(self, key: str) -> str:
        """Return the namespaced Redis key for ``key``.

        Args:
            key: The caller's key, such as ``"audio:3f2a..."``.

        Returns:
            ``{key_prefix}{key}``.

        Raises:
            ValidationError: ``code="invalid_cache_key"``: empty, too long, not a string, or
                starting with the reserved ``__``.
        """
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError(
                f"cache key must be a non-empty string of at most {MAX_KEY_LENGTH} characters, "
                f"got {key!r:.80}",
                code="invalid_cache_key",
            )
        if key.startswith(_RESERVED_KEY_START):
            raise ValidationError(
                f"cache keys starting with {_RESERVED_KEY_START!r} are reserved, got {key!r:.80}",
                code="invalid_cache_key",
            )
        return self.options.key_prefix + key

    def _ttl(self, seconds: int | None, *, name: str) -> int:
        if seconds is None:
            return self.options.default_ttl_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise ValidationError(
                f"{name} must be a whole number of seconds, got {seconds!r}", code="invalid_ttl"
            )
        if not 1 <= seconds <= MAX_TTL_SECONDS:
            raise ValidationError(
                f"{name} must be between 1 and {MAX_TTL_SECONDS} seconds, got {seconds}",
                code="invalid_ttl",
            )
        return seconds

    def _check_size(self, data: bytes, key: str) -> None:
        limit = self.options.max_value_bytes
        if len(data) > limit:
            raise ValidationError(
                f"value for cache key {key!r:.80} is {len(data)} bytes; the limit is {limit}",
                code="cache_value_too_large",
            )

    def _read_failed(self, operation: str, key: str, exc: RedisError) -> None:
        """Log a read that Redis could not serve (rate-limited to one warning per interval)."""
        now = time.monotonic()
        fields = {
            "operation": operation,
            "cache_key": key,
            "error_type": type(exc).__name__,
            "error": str(exc),
        }
        if now - self._last_outage_log >= _OUTAGE_LOG_INTERVAL_SECONDS:
            self._last_outage_log = now
            _logger.warning(
                "Redis unavailable; cache %s of %r reported as a miss", operation, key, extra=fields
            )
        else:
            _logger.debug(
                "Redis unavailable; cache %s of %r reported as a miss", operation, key, extra=fields
            )

    # -- strings ---------------------------------------------------------------------------

    async def set(
        self, key: str, value: str | bytes | int | float, *, ex: int | None = None, nx: bool = False
    ) -> bool:
        """Store a value under ``key`` for ``ex`` seconds.

        Args:
            key: The cache key (namespaced automatically).
            value: ``str`` (stored as UTF-8), ``bytes``, ``int`` or ``float``.
            ex: Seconds until the key expires; the default TTL when omitted.
            nx: Only store when the key does not exist yet (a reply lost to a timeout and
                retried is checked by reading the key back; see the module docstring).

        Returns:
            ``True`` when stored; ``False`` when ``nx`` was set and the key already existed.

        Raises:
            ValidationError: Bad key, TTL or value type, or the value is too large.
            ServiceUnavailableError: Redis could not be reached after the retries.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        ttl = self._ttl(ex, name="ex")
        data: bytes
        if isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            data = repr(value).encode("ascii")
        else:
            raise ValidationError(
                f"set() stores str, bytes, int or float, got {type(value).__name__}; "
                "use set_json() for other values",
                code="invalid_cache_value",
            )
        self._check_size(data, key)
        return await self._write(full_key, data, ttl, nx)

    async def _write(self, full_key: str, data: bytes, ttl: int, nx: bool) -> bool:
        try:
            if nx:
                return await self._set_nx(full_key, data, unique=False, ex=ttl)
            return bool(await self.client.set(full_key, data, ex=ttl))
        except RedisError as exc:
            raise translate_exception(exc, service="cache") from exc

    async def _set_nx(
        self,
        full_key: str,
        data: bytes,
        *,
        unique: bool,
        ex: int | None = None,
        px: int | None = None,
    ) -> bool:
        """``SET full_key data NX`` that also counts a write whose reply was lost as stored.

        redis-py retries a timed-out command; if the first ``SET NX`` was applied, the retry
        answers nil. So after a nil from a command that redis-py had to repeat, the key is read
        back and the write counts as ours when it holds ``data`` (exact for a ``unique`` value
        such as a lock token). A nil from a single attempt is final. With an injected client,
        whose retries cannot be observed, a ``unique`` value is always read back and any other
        nil is trusted.

        Args:
            full_key: The namespaced key.
            data: The value to store.
            unique: ``data`` cannot have been written by anyone else.
            ex: Expiry in seconds.
            px: Expiry in milliseconds.

        Returns:
            ``True`` when the key now holds our write.

        Raises:
            RedisError: From either command.
        """
        failures = [0]
        counting = _FAILED_ATTEMPTS.set(failures)
        try:
            stored = await self.client.set(full_key, data, nx=True, ex=ex, px=px)
        finally:
            _FAILED_ATTEMPTS.reset(counting)
        if stored:
            return True
        if failures[0] == 0 and (self._owns_client or not unique):
            return False  # answered by the only attempt: the key really was taken
        return bool(await self.client.get(full_key) == data)

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
        try:
            value = await self.client.get(full_key)
        except _UNAVAILABLE as exc:
            self._read_failed("get", key, exc)
            return None
        except RedisError as exc:
            raise translate_exception(exc, service="cache") from exc
        return cast(bytes | None, value)

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
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"cache key {key!r:.80} holds bytes that are not UTF-8; use get_bytes()",
                code="invalid_cache_value",
            ) from exc

    async def delete(self, *keys: str) -> int:
        """Remove keys.

        Args:
            *keys: One or more cache keys.

        Returns:
            How many of them existed.

        Raises:
            ValidationError: No key or a bad key.
            ServiceUnavailableError: Redis could not be reached after the retries.
            CacheError: Redis refused the command.
        """
        if not keys:
            raise ValidationError("delete() needs at least one key", code="invalid_cache_key")
        full_keys = [self.key(k) for k in keys]
        try:
            return int(await self.client.delete(*full_keys))
        except RedisError as exc:
            raise translate_exception(exc, service="cache") from exc

    async def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored (``False`` when Redis is unavailable).

        Args:
            key: The cache key.

        Returns:
            ``True`` when the key exists.

        Raises:
            ValidationError: Bad key.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        try:
            return bool(await self.client.exists(full_key))
        except _UNAVAILABLE as exc:
            self._read_failed("exists", key, exc)
            return False
        except RedisError as exc:
            raise translate_exception(exc, service="cache") from exc

    async def ttl(self, key: str) -> int | None:
        """Return the seconds before ``key`` expires.

        Args:
            key: The cache key.

        Returns:
            Remaining whole seconds; ``None`` when the key does not exist, has no expiry, or
            Redis is unavailable.

        Raises:
            ValidationError: Bad key.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        try:
            remaining = int(await self.client.ttl(full_key))
        except _UNAVAILABLE as exc:
            self._read_failed("ttl", key, exc)
            return None
        except RedisError as exc:
            raise translate_exception(exc, service="cache") from exc
        return remaining if remaining >= 0 else None

    async def expire(self, key: str, seconds: int) -> bool:
        """Set a new expiry on an existing key.

        Args:
            key: The cache key.
            seconds: Seconds from now until the key expires (1 to 30 days).

        Returns:
            ``True`` when the key existed and got the new expiry.

        Raises:
            ValidationError: Bad key or TTL.
            ServiceUnavailableError: Redis could not be reached after the retries.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        ttl = self._ttl(seconds, name="seconds")
        try:
            return bool(await self.client.expire(full_key, ttl))
        except RedisError as exc:
            raise translate_exception(exc, service="cache") from exc

    # -- JSON ------------------------------------------------------------------------------

    def _encode_json(self, key: str, value: Any) -> bytes:
        if value is None:
            raise ValidationError(
                "None cannot be cached: it would read back as a miss", code="invalid_cache_value"
            )
        try:
            data = pydantic_core.to_json(value)
        except pydantic_core.PydanticSerializationError as exc:
            raise ValidationError(
                f"value for cache key {key!r:.80} is not JSON-serialisable: {exc}",
                code="invalid_cache_value",
            ) from exc
        self._check_size(data, key)
        return data

    async def set_json(
        self, key: str, value: Any, *, ttl: int | None = None, nx: bool = False
    ) -> bool:
        """Store a JSON-serialisable value (a Pydantic model included) for ``ttl`` seconds.

        Args:
            key: The cache key.
            value: A ``dict``/``list``/scalar tree, a Pydantic model, or any value Pydantic can
                serialise (``Decimal``, ``UUID``, ``datetime`` become JSON strings).
            ttl: Seconds until the key expires; the default TTL when omitted.
            nx: Only store when the key does not exist yet (a reply lost to a timeout and
                retried is checked by reading the key back; see the module docstring).

        Returns:
            ``True`` when stored; ``False`` when ``nx`` was set and the key already existed.

        Raises:
            ValidationError: Bad key or TTL, ``None``, a value that is not JSON-serialisable, or
                one that is too large.
            ServiceUnavailableError: Redis could not be reached after the retries.
            CacheError: Redis refused the command.
        """
        full_key = self.key(key)
        seconds = self._ttl(ttl, name="ttl")
        return await self._write(full_key, self._encode_json(key, value), seconds, nx)

    def _decode_json(self, key: str, data: bytes, model: Any) -> Any:
        try:
            if model is None:
                return json.loads(data)
            return _validator(model)(data)
        except (ValueError, pydantic.ValidationError) as exc:
            _logger.warning(
                "Cache entry %r does not match %s; treated as a miss",
                key,
                "JSON" if model is None else _model_name(model),
                extra={
                    "cache_key": key,
                    "model": None if model is None else _model_name(model),
                    "error_type": type(exc).__name__,
                    "error": str(exc)[:500],
                },
            )
            return _MISS

    @overload
    async def get_json(self, key: str) -> Any: ...

    @overload
    async def get_json(self, key: str, *, model: type[T]) -> T | None: ...

    async def get_json(self, key: str, *, model: Any = None) -> Any:
        """Return the JSON value stored under ``key``, optionally validated into ``model``.

        Args:
            key: The cache key.
            model: A Pydantic model class, or any type a ``pydantic.TypeAdapter`` accepts; the
                stored JSON is validated into it. Without it, plain JSON is returned.

        Returns:
            The value; ``None`` on a miss, when Redis is unavailable, or when the stored value
            is not valid JSON or no longer matches ``model`` (both logged).

        Raises:
            ValidationError: Bad key.
            CacheError: Redis refused the command.
        """
        data = await self.get_bytes(key)
        if data is None:
            return None
        value = self._decode_json(key, data, model)
        return None if value is _MISS else value

    # -- single-flight compute -------------------------------------------------------------

    def _scripts(self) -> tuple[Any, Any]:
        if self._release_script is None:
            self._release_script = self.client.register_script(_RELEASE_LOCK)
            self._extend_script = self.client.register_script(_EXTEND_LOCK)
        return self._release_script, self._extend_script

    async def _keep_lock(self, lock_key: str, token: str, lock_ttl_ms: int) -> None:
        """Extend our lock every third of its TTL while the value is being computed."""
        _, extend = self._scripts()
        while True:
            await asyncio.sleep(lock_ttl_ms / 3000)
            try:
                if not await extend(keys=[lock_key], args=[token, lock_ttl_ms]):
                    return  # lost the lock (expired during an outage): nothing to extend
            except RedisError as exc:
                _logger.debug("Could not extend cache lock %r: %s", lock_key, exc)

    async def _release(self, lock_key: str, token: str) -> None:
        release, _ = self._scripts()
        try:
            await release(keys=[lock_key], args=[token])
        except RedisError as exc:  # it expires on its own
            _logger.debug("Could not release cache lock %r: %s", lock_key, exc)

    async def _store_computed(self, key: str, full_key: str, data: bytes, ttl: int) -> None:
        try:
            await self.client.set(full_key, data, ex=ttl)
        except RedisError as exc:
            _logger.warning(
                "Computed value for %r not cached: %s",
                key,
                exc,
                extra={"cache_key": key, "error_type": type(exc).__name__},
            )

    async def _compute_and_store(
        self, key: str, full_key: str, compute: Callable[[], Awaitable[Any]], ttl: int
    ) -> Any:
        value = await compute()
        await self._store_computed(key, full_key, self._encode_json(key, value), ttl)
        return value

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

        When many callers (in this process or others) miss at the same moment, one takes a short
        Redis lock (``SET NX PX`` on ``{prefix}__lock__:{key}``, extended while it computes, so a
        long computation keeps it) and runs ``compute``; the others poll until the value appears
        (20 ms, doubling to 250 ms) and return it. If the holder fails, the lock is released and
        a waiter takes over; if the holder dies, the lock expires after ``lock_ttl_seconds``.
        A lock whose ``SET NX`` reply was lost and retried is read back: holding our token, it
        is ours (the caller does not wait on its own lock).
        A waiter that has waited ``wait_timeout_seconds`` computes the value itself. When Redis
        is unavailable the value is computed without caching. Exceptions from ``compute``
        propagate unchanged.

        Args:
            key: The cache key.
            compute: Async callable producing the value (JSON-serialisable or a model).
            model: Validate cached values into this type (as for :meth:`get_json`); waiters then
                get the same type the computing caller gets.
            ttl: Seconds the computed value is cached; the default TTL when omitted.
            lock_ttl_seconds: Lock lifetime if its holder disappears (0.1 to 600 seconds).
            wait_timeout_seconds: Longest a caller waits for another's computation (up to 3600).

        Returns:
            The cached or computed value.

        Raises:
            ValidationError: Bad key, TTL or bounds, or a computed value that cannot be cached.
            CacheError: Redis refused a command.
        """
        full_key = self.key(key)
        seconds = self._ttl(ttl, name="ttl")
        if not 0.1 <= lock_ttl_seconds <= 600:
            raise ValidationError(
                f"lock_ttl_seconds must be in [0.1, 600], got {lock_ttl_seconds}",
                code="invalid_lock",
            )
        if not 0 <= wait_timeout_seconds <= 3600:
            raise ValidationError(
                f"wait_timeout_seconds must be in [0, 3600], got {wait_timeout_seconds}",
                code="invalid_lock",
            )
        lock_key = self.options.key_prefix + _LOCK_INFIX + key
        lock_ttl_ms = max(100, int(lock_ttl_seconds * 1000))
        deadline = time.monotonic() + wait_timeout_seconds
        delay = _LOCK_POLL_START_SECONDS
        while True:
            try:
                cached = await self._lookup(key, full_key, model)
                if cached is not _MISS:
                    return cached
                token = uuid.uuid4().hex
                acquired = await self._set_nx(
                    lock_key, token.encode("ascii"), unique=True, px=lock_ttl_ms
                )
                if acquired:
                    cached = await self._lookup(key, full_key, model)  # filled while we locked?
                    if cached is not _MISS:
                        await self._release(lock_key, token)
                        return cached
            except _UNAVAILABLE as exc:
                self._read_failed("get_or_set", key, exc)
                return await self._compute_and_store(key, full_key, compute, seconds)
            except RedisError as exc:
                raise translate_exception(exc, service="cache") from exc
            if acquired:
                keeper = asyncio.create_task(self._keep_lock(lock_key, token, lock_ttl_ms))
                try:
                    return await self._compute_and_store(key, full_key, compute, seconds)
                finally:
                    keeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await keeper
                    await self._release(lock_key, token)
            if time.monotonic() >= deadline:
                _logger.warning(
                    "Waited %.1fs for another caller to compute %r; computing it here",
                    wait_timeout_seconds,
                    key,
                    extra={"cache_key": key},
                )
                return await self._compute_and_store(key, full_key, compute, seconds)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _LOCK_POLL_MAX_SECONDS)

    async def _lookup(self, key: str, full_key: str, model: Any) -> Any:
        """GET and decode; Redis errors propagate (the caller decides), bad data is a miss."""
        data = cast(bytes | None, await self.client.get(full_key))
        if data is None:
            return _MISS
        return self._decode_json(key, data, model)

    # -- health ----------------------------------------------------------------------------

    async def health_check(self) -> bool:
        """Return whether Redis answers ``PING`` within ``health_check_timeout_seconds``.

        Returns:
            ``True`` when Redis answered; ``False`` on any failure (never raises).
        """
        try:
            timeout = self.options.health_check_timeout_seconds
            async with asyncio.timeout(timeout):
                return bool(await self.client.ping())
        except Exception as exc:  # the contract is "never raises"
            _logger.debug("Redis health check failed: %s: %s", type(exc).__name__, exc)
            return False


def _options_from_settings() -> CacheOptions:
    from runtime.config import get_settings

    settings = get_settings()
    return CacheOptions(
        url=settings.redis_url,
        key_prefix=settings.cache_key_prefix,
        default_ttl_seconds=settings.cache_ttl_seconds,
        max_connections=settings.redis_max_connections,
        socket_timeout_seconds=settings.redis_socket_timeout_seconds,
    )


#: The process-wide cache, configured from :mod:`runtime.config` on first use.
redis: RedisCache = RedisCache.lazy(_options_from_settings)


def get_redis() -> RedisCache:
    """Return the process-wide cache (the same object as :data:`redis`).

    Returns:
        The lazy, settings-backed :class:`RedisCache`.
    """
    return redis
