"""The plumbing under :class:`runtime.cache.RedisCache`: construction, lifecycle, deadlines.

:class:`CacheCore` owns the redis-py client (built by :func:`runtime.cache._connect.connect`),
runs every operation under the one budget (``operation_timeout_seconds``) and turns an outage
into a miss (reads) or ``ServiceUnavailableError`` (writes). The public methods live on
``RedisCache``; the single-flight ``get_or_set`` in :mod:`runtime.cache._single_flight`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Self, TypedDict, TypeVar, Unpack, cast

from runtime._lifecycle import LazyClient
from runtime.cache._connect import FAILED_ATTEMPTS, Connection, connect
from runtime.cache._errors import Deadlines, GaveUp, gave_up, unavailable, warn
from runtime.cache._single_flight import LOCK_INFIX, SingleFlight
from runtime.cache._values import MISS, check_flag, check_key, check_ttl, decode_json, model_name
from runtime.errors import CacheError, ConfigError

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from runtime.cache._options import CacheOptions

__all__ = ["CacheCore", "OptionFields", "options_from_settings"]

T = TypeVar("T")


class OptionFields(TypedDict, total=False):
    """Keyword arguments of :class:`RedisCache`: the :class:`CacheOptions` fields but ``url``."""

    key_prefix: str
    default_ttl_seconds: int
    operation_timeout_seconds: float
    max_connections: int
    pool_timeout_seconds: float | None
    socket_timeout_seconds: float
    connect_timeout_seconds: float
    max_attempts: int
    retry_base_delay_seconds: float
    retry_max_delay_seconds: float
    max_value_bytes: int
    health_check_timeout_seconds: float


def options_from_settings() -> CacheOptions:
    """The options :mod:`runtime.config` gives (pydantic and the settings load only now)."""
    from runtime.cache._options import CacheOptions

    return CacheOptions.from_settings()


class CacheCore(LazyClient["CacheOptions"]):
    """Construction, lifecycle and the deadline of a Redis cache (see ``RedisCache``).

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

    def __init__(
        self,
        *,
        url: str | None = None,
        options: CacheOptions | None = None,
        client: Redis | None = None,
        **fields: Unpack[OptionFields],
    ) -> None:
        if options is None:
            from runtime.cache._options import CacheOptions

            if url is None and client is None:
                raise ConfigError("RedisCache needs url=, options= or client=")
            url = url if url is not None else "redis://injected"
            options = CacheOptions.model_validate({"url": url, **fields})
        elif url is not None or fields:
            raise ConfigError("give RedisCache either options= or url= and keyword options")
        self._setup(options=options, factory=None, client=client)

    @classmethod
    def from_settings(cls) -> Self:
        """Build a cache from :mod:`runtime.config` now (the lazy :data:`redis` does it later).

        Returns:
            A new cache; ``async with`` it or call :meth:`aclose`.
        """
        return cls(options=options_from_settings())

    def _setup(
        self,
        *,
        options: CacheOptions | None,
        factory: Callable[[], CacheOptions] | None,
        client: Redis | None = None,
    ) -> None:
        super()._setup(options=options, factory=factory)
        self._client = client
        self._connection: Connection | None = None
        self._closed = False
        self._reusable = factory is not None
        self._deadlines = Deadlines()
        self._single_flight = SingleFlight(self)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def key_prefix(self) -> str:
        """The namespace in front of every key."""
        return self.options.key_prefix

    @property
    def client(self) -> Redis:
        """The underlying redis-py client, built on first access.

        A ``RedisCluster`` for a ``redis+cluster://`` URL.

        Raises:
            CacheError: ``code="cache_closed"`` after :meth:`aclose` (non-lazy caches).
        """
        if self._client is None:
            if self._closed:
                raise CacheError("this RedisCache is closed; build a new one", code="cache_closed")
            self._connection = connect(self.options)
            self._client = self._connection.client
        return self._client

    async def aclose(self) -> None:
        """Close the pool this cache built (an injected client is left open).

        Operations that overran their deadline are given up to one budget to end first. A
        closed cache refuses further commands, except a lazy cache (the module-level
        :data:`redis`): it forgets its options and, on next use, reads the then-current settings
        and builds a new pool in the then-running event loop.
        """
        if self._options is not None:
            await self._deadlines.drain(self.options.operation_timeout_seconds)
        connection, self._connection, self._client = self._connection, None, None
        if self._reusable:
            self._options = None
        else:
            self._closed = True
        if connection is not None:
            await connection.aclose()

    # -- helpers ---------------------------------------------------------------------------

    def key(self, key: str) -> str:
        """Return the namespaced Redis key for ``key``.

        Args:
            key: The caller's key, such as ``"audio:3f2a..."``.

        Returns:
            ``{key_prefix}{key}``.

        Raises:
            ValidationError: ``code="invalid_cache_key"``: empty, too long, not a string,
                starting with the reserved ``__``, or not encodable as UTF-8.
        """
        return self.options.key_prefix + check_key(key)

    def _lock_key(self, key: str) -> str:
        return self.options.key_prefix + LOCK_INFIX + key

    async def _run(
        self, operation: str, key: str, work: Awaitable[T], *, miss: Any = None, nx: bool = False
    ) -> T:
        """Run ``work`` under the budget; an outage is a miss (reads) or an error (writes).

        ``miss`` is what a read reports when Redis is unavailable; writes pass the
        :data:`~runtime.cache._values.MISS` sentinel and raise instead.
        """
        result = await self._deadlines.attempt(work, self.options.operation_timeout_seconds)
        if not isinstance(result, GaveUp):
            return result
        if miss is MISS:
            raise unavailable(operation, result.error, outcome_known=not nx) from result.error
        gave_up(operation, key, result.error, "reported as a miss")
        return cast(T, miss)

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
        """
        failures = [0]
        counting = FAILED_ATTEMPTS.set(failures)
        try:
            stored = await self.client.set(full_key, data, nx=True, ex=ex, px=px)
        finally:
            FAILED_ATTEMPTS.reset(counting)
        if stored:
            return True
        counted = self._connection is not None and self._connection.counts_retries
        if failures[0] == 0 and (counted or not unique):
            return False  # answered by the only attempt: the key really was taken
        return bool(await self.client.get(full_key) == data)

    async def _write(
        self,
        operation: str,
        key: str,
        value: Any,
        encode: Callable[..., bytes],
        *,
        ttl: int | None,
        ttl_name: str,
        nx: bool,
    ) -> bool:
        """Check the key, TTL and ``nx``, encode the value (nothing sent unless all pass), SET."""
        full_key = self.key(key)
        seconds = check_ttl(ttl, name=ttl_name, default=self.options.default_ttl_seconds)
        check_flag(nx, name="nx")
        data = encode(key, value, limit=self.options.max_value_bytes)
        work: Awaitable[Any] = (
            self._set_nx(full_key, data, unique=False, ex=seconds)
            if nx
            else self.client.set(full_key, data, ex=seconds)
        )
        return bool(await self._run(operation, key, work, miss=MISS, nx=nx))

    async def _lookup(self, key: str, validate: Callable[[bytes], Any] | None, model: Any) -> Any:
        """GET and decode; Redis errors propagate, data that does not decode is a logged miss."""
        data = cast(bytes | None, await self.client.get(self.key(key)))
        return MISS if data is None else self._decode(key, data, validate, model)

    def _decode(
        self, key: str, data: bytes, validate: Callable[[bytes], Any] | None, model: Any
    ) -> Any:
        try:
            return decode_json(data, validate)
        except ValueError as exc:
            warn(
                "cache_bad_entry",
                "Cache entry %r does not match %s; treated as a miss",
                key,
                model_name(model),
                cache_key=key,
                model=None if model is None else model_name(model),
                error_type=type(exc).__name__,
                error=str(exc)[:500],
            )
            return MISS

    # -- health ----------------------------------------------------------------------------

    async def health_check(self) -> bool:
        """Return whether Redis answers ``PING`` within ``health_check_timeout_seconds``.

        Returns:
            ``True`` when Redis answered; ``False`` on any failure (never raises).
        """
        try:
            timeout = self.options.health_check_timeout_seconds
            return bool(await self._deadlines.run(self.client.ping(), timeout))
        except Exception as exc:  # the contract is "never raises"
            warn(
                "cache_health",
                "Redis health check failed: %s",
                type(exc).__name__,
                error_type=type(exc).__name__,
                error=str(exc)[:300],
            )
            return False
