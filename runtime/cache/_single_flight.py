"""The single-flight ``get_or_set``: one computation per missing key, on redis-py's ``Lock``.

One caller takes ``{prefix}__lock__:{key}`` (redis-py's :class:`redis.asyncio.lock.Lock`, a
``SET NX PX`` with a token unique to the caller) and computes; a keeper task resets the lock's
TTL every third of it (``Lock.reacquire``) while the computation runs. The others poll for the
value (20 ms, doubling to 250 ms) and take over if the lock disappears without a value.

Nothing here can hang:

* the keeper is stopped by an event it checks before every renewal, and by its owner task being
  done, never by cancellation alone (a cancellation can be swallowed under redis-py on Python
  3.11); each renewal runs under its own deadline;
* every Redis step runs under :class:`~runtime.cache._errors.Deadlines` with the client's
  operation budget: the claim (``GET``, ``SET NX``, ``GET``) and, after ``compute``, the store
  and release together;
* waiting for another caller ends ``wait_timeout_seconds`` after the call started.

So apart from the time ``compute`` takes, a call returns within ``wait_timeout_seconds`` plus two
operation budgets (the last poll may start just before the wait ends, and the store follows the
computation).
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from runtime.cache._errors import (
    STORE_FAILED,
    DeadlineExceededError,
    GaveUp,
    debug,
    gave_up,
    not_cached,
    storing,
    warn,
)
from runtime.cache._values import (
    MISS,
    check_callable,
    check_key,
    check_lock_bounds,
    check_ttl,
    encode_json,
    validator_for,
)
from runtime.errors import ValidationError

if TYPE_CHECKING:
    from runtime.cache._core import CacheCore

__all__ = ["LOCK_INFIX", "SingleFlight"]

LOCK_INFIX: Final = "__lock__:"
_POLL_START_SECONDS: Final = 0.02
_POLL_MAX_SECONDS: Final = 0.25
_LOCKED: Final = object()
_HELD: Final = object()


class _CacheLock(Lock):
    """redis-py's ``Lock`` whose ``SET NX`` counts a retried write holding our token as ours."""

    def __init__(
        self,
        client: Redis,
        name: str,
        timeout: float,
        set_nx: Callable[[str, bytes, int], Awaitable[bool]],
    ) -> None:
        super().__init__(client, name, timeout=timeout, blocking=False, thread_local=False)
        self.key = name
        self._set_nx = set_nx

    async def do_acquire(self, token: str | bytes) -> bool:
        data = token.encode("ascii") if isinstance(token, str) else bytes(token)
        assert self.timeout is not None
        return await self._set_nx(self.key, data, int(self.timeout * 1000))


class SingleFlight:
    """``get_or_set`` for one :class:`~runtime.cache.RedisCache`.

    Args:
        cache: The cache whose client, options, deadlines and lookups are used.
    """

    def __init__(self, cache: CacheCore) -> None:
        self._cache = cache

    async def get_or_set(
        self,
        key: str,
        compute: Callable[[], Awaitable[Any]],
        model: Any,
        ttl: int | None,
        lock_ttl_seconds: float,
        wait_timeout_seconds: float,
    ) -> Any:
        """Check the arguments of ``RedisCache.get_or_set`` (before any I/O), then :meth:`run`.

        Raises:
            ValidationError: Bad key, TTL, bounds, ``compute`` or ``model``.
        """
        check_key(key)
        check_callable(compute, name="compute")
        seconds = check_ttl(ttl, name="ttl", default=self._cache.options.default_ttl_seconds)
        lock_ttl, wait = check_lock_bounds(lock_ttl_seconds, wait_timeout_seconds)
        validate = validator_for(model)
        return await self.run(
            key,
            compute,
            validate=validate,
            model=model,
            ttl=seconds,
            lock_ttl=lock_ttl,
            wait_timeout=wait,
        )

    async def run(
        self,
        key: str,
        compute: Callable[[], Awaitable[Any]],
        *,
        validate: Callable[[bytes], Any] | None,
        model: Any,
        ttl: int,
        lock_ttl: float,
        wait_timeout: float,
    ) -> Any:
        """Return the cached value for ``key`` or compute it once (see the module docstring).

        Raises:
            ValidationError: The computed value cannot be cached.
            CacheError: Redis refused a command.
        """
        cache = self._cache
        budget = cache.options.operation_timeout_seconds
        loop = asyncio.get_running_loop()
        wait_until = loop.time() + wait_timeout
        delay = _POLL_START_SECONDS
        while True:
            lock = _CacheLock(cache.client, cache._lock_key(key), lock_ttl, self._take)
            found = await cache._deadlines.attempt(self._claim(key, lock, validate, model), budget)
            if isinstance(found, GaveUp):
                gave_up("get_or_set", key, found.error, "computes without the lock")
                # A frozen server would eat a second budget: store only after a quick failure.
                store = not isinstance(found.error, DeadlineExceededError)
                return await self._compute_unlocked(key, compute, ttl, store=store)
            if found is _LOCKED:
                return await self._compute_locked(key, compute, lock, ttl)
            if found is not _HELD:
                return found
            now = loop.time()
            if now >= wait_until:
                warn(
                    "cache_wait_timeout",
                    "Waited %.1fs for another caller to compute %r; computing it here",
                    wait_timeout,
                    key,
                    cache_key=key,
                )
                return await self._compute_unlocked(key, compute, ttl, store=True)
            await asyncio.sleep(min(delay, wait_until - now))
            delay = min(delay * 2, _POLL_MAX_SECONDS)

    async def _take(self, name: str, token: bytes, px: int) -> bool:
        return bool(await self._cache._set_nx(name, token, unique=True, px=px))

    async def _claim(
        self, key: str, lock: _CacheLock, validate: Callable[[bytes], Any] | None, model: Any
    ) -> Any:
        """The cached value; else ``_LOCKED`` (we hold ``lock``) or ``_HELD`` (someone else)."""
        cache = self._cache
        value = await cache._lookup(key, validate, model)
        if value is not MISS:
            return value
        if not await lock.acquire(token=lock_token()):
            return _HELD
        value = await cache._lookup(key, validate, model)  # filled while we locked?
        if value is MISS:
            return _LOCKED
        await _release(lock)
        return value

    async def _compute_locked(
        self, key: str, compute: Callable[[], Awaitable[Any]], lock: _CacheLock, ttl: int
    ) -> Any:
        cache = self._cache
        stop = asyncio.Event()
        owner = asyncio.current_task()
        assert owner is not None
        keeper = asyncio.create_task(self._keep(lock, stop, owner))
        data: bytes | None = None
        try:
            value = await _call(compute)
            data = encode_json(key, value, limit=cache.options.max_value_bytes)
        finally:
            stop.set()  # the keeper stops at its next check, whatever happens to cancellations
            try:
                await cache._deadlines.run(
                    self._wrap_up(key, lock, keeper, data, ttl),
                    cache.options.operation_timeout_seconds,
                )
            except DeadlineExceededError as exc:
                if data is not None:
                    not_cached(key, exc)
        return value

    async def _wrap_up(
        self, key: str, lock: _CacheLock, keeper: asyncio.Task[None], data: bytes | None, ttl: int
    ) -> None:
        """Store the value (when there is one), release the lock, let the keeper end."""
        if data is not None:
            with storing(key):
                await self._cache.client.set(self._cache.key(key), data, ex=ttl)
        await _release(lock)
        await asyncio.wait((keeper,))

    async def _keep(self, lock: _CacheLock, stop: asyncio.Event, owner: asyncio.Task[Any]) -> None:
        """Reset the lock's TTL every third of it until ``stop`` is set or ``owner`` is done."""
        assert lock.timeout is not None
        interval = lock.timeout / 3
        budget = min(self._cache.options.operation_timeout_seconds, lock.timeout)
        stopped = asyncio.ensure_future(stop.wait())
        try:
            while True:
                await asyncio.wait((stopped,), timeout=interval)
                if stop.is_set() or owner.done():
                    return
                try:
                    await self._cache._deadlines.run(lock.reacquire(), budget)
                except LockError:  # released meanwhile, or lapsed: the release will tell which
                    return
                except STORE_FAILED as exc:
                    debug("Could not extend cache lock %r: %s", lock.key, exc)
        finally:
            stopped.cancel()

    async def _compute_unlocked(
        self, key: str, compute: Callable[[], Awaitable[Any]], ttl: int, *, store: bool
    ) -> Any:
        cache = self._cache
        value = await _call(compute)
        data = encode_json(key, value, limit=cache.options.max_value_bytes)
        if not store:
            not_cached(key, DeadlineExceededError(cache.options.operation_timeout_seconds))
            return value
        with storing(key):
            await cache._deadlines.run(
                cache.client.set(cache.key(key), data, ex=ttl),
                cache.options.operation_timeout_seconds,
            )
        return value


def lock_token() -> bytes:
    """A token no other caller holds."""
    return uuid.uuid4().hex.encode("ascii")


async def _release(lock: _CacheLock) -> bool:
    """Release ``lock``; ``False`` when it was no longer ours (it lapsed while we held it)."""
    try:
        await lock.release()
    except LockError as exc:
        warn(
            "cache_lock_lost",
            "The cache lock %r lapsed while its holder computed (renewals did not land within "
            "its TTL); another caller may have computed too",
            lock.key,
            cache_key=lock.key,
            error=str(exc),
        )
        return False
    except STORE_FAILED as exc:  # it expires on its own
        debug("Could not release cache lock %r: %s", lock.key, exc)
    return True


async def _call(compute: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``compute``; a plain function that returns a value, not an awaitable, is refused."""
    result = compute()
    if not inspect.isawaitable(result):
        raise ValidationError(
            "compute must be an async function (or return an awaitable); it returned a "
            f"{type(result).__name__}: pass `async def compute(): ...` or `lambda: coro(...)`",
            code="invalid_compute",
        )
    return await result
