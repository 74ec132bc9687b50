"""Every cache call has a deadline: frozen (SIGSTOP), killed and restarting servers of our own.

Each test runs its own redis-server (``redis_server`` fixture) and faults only that one. The
budget under test is ``operation_timeout_seconds``: reads report a miss, writes raise
``ServiceUnavailableError`` and ``get_or_set`` computes without the lock once it is spent, and a
call succeeds within 1 s of the server coming back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from cache_support import RedisServer

from runtime.cache import DEFAULT_OPERATION_TIMEOUT_SECONDS, RedisCache
from runtime.cache._errors import DeadlineExceededError, Deadlines
from runtime.errors import ServiceUnavailableError

BUDGET = 0.8
SLACK = 0.5  # event-loop and OS scheduling on a loaded 2-core machine
RECOVERY = 1.0


def budget_client(url: str, budget: float = BUDGET) -> RedisCache:
    return RedisCache(url=url, operation_timeout_seconds=budget, socket_timeout_seconds=0.3)


async def timed(call: Awaitable[object]) -> tuple[object, float]:
    started = time.monotonic()
    try:
        result: object = await call
    except ServiceUnavailableError as exc:
        result = exc
    return result, time.monotonic() - started


async def test_a_deadline_holds_even_when_the_work_swallows_its_cancellation() -> None:
    # What redis-py's asyncio.wait_for can do on Python 3.11: the work ignores a cancellation.
    async def stubborn() -> None:
        for _ in range(6):
            try:
                await asyncio.sleep(0.1)
            except asyncio.CancelledError:
                continue

    deadlines = Deadlines()
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        await deadlines.run(stubborn(), 0.2)
    assert time.monotonic() - started < 0.2 + SLACK
    await deadlines.drain(3.0)


async def test_a_read_on_a_frozen_server_reports_a_miss_within_the_budget(
    redis_server: RedisServer,
) -> None:
    async with budget_client(redis_server.url) as cache:
        await cache.set("k", "v", ex=60)
        redis_server.freeze()
        result, elapsed = await timed(cache.get("k"))
    assert result is None
    assert elapsed < BUDGET + SLACK


async def test_a_write_on_a_frozen_server_fails_within_the_budget(
    redis_server: RedisServer,
) -> None:
    async with budget_client(redis_server.url) as cache:
        await cache.set("k", "v", ex=60)
        redis_server.freeze()
        result, elapsed = await timed(cache.set("k", "w", ex=60))
    assert isinstance(result, ServiceUnavailableError)
    assert result.retryable is True
    assert elapsed < BUDGET + SLACK


async def test_an_nx_write_whose_outcome_is_unknown_is_not_retryable(
    redis_server: RedisServer,
) -> None:
    async with budget_client(redis_server.url) as cache:
        await cache.set("k", "v", ex=60)
        redis_server.freeze()
        result, _ = await timed(cache.set("claim", "w", ex=60, nx=True))
    assert isinstance(result, ServiceUnavailableError)
    assert result.retryable is False
    assert result.details["outcome"] == "unknown"


async def test_get_or_set_on_a_frozen_server_computes_within_the_budget(
    redis_server: RedisServer,
) -> None:
    async def compute() -> int:
        await asyncio.sleep(0.1)
        return 5

    async with budget_client(redis_server.url) as cache:
        await cache.set("k", "v", ex=60)
        redis_server.freeze()
        result, elapsed = await timed(cache.get_or_set("song", compute, ttl=60))
    assert result == 5
    assert elapsed < BUDGET + 0.1 + SLACK  # one budget for the claim; no store attempted


async def test_health_check_on_a_frozen_server_is_false_within_its_timeout(
    redis_server: RedisServer,
) -> None:
    async with RedisCache(url=redis_server.url, health_check_timeout_seconds=0.3) as cache:
        assert await cache.health_check() is True
        redis_server.freeze()
        healthy, elapsed = await timed(cache.health_check())
    assert healthy is False
    assert elapsed < 0.3 + SLACK


async def test_the_default_budget_bounds_reads_writes_and_get_or_set_on_a_frozen_server(
    redis_server: RedisServer,
) -> None:
    # The finding: about 15 s per read or write and 30 s per get_or_set with the old defaults.
    async def compute() -> int:
        return 8

    async with RedisCache(url=redis_server.url) as cache:
        await cache.set("k", "v", ex=60)
        redis_server.freeze()
        outcomes = await asyncio.gather(
            timed(cache.get("k")),
            timed(cache.set("k", "w", ex=60)),
            timed(cache.get_or_set("song", compute, ttl=60)),
        )
    (read, _), (write, _), (computed, _) = outcomes
    assert (read, computed) == (None, 8)
    assert isinstance(write, ServiceUnavailableError)
    assert max(elapsed for _, elapsed in outcomes) < DEFAULT_OPERATION_TIMEOUT_SECONDS + SLACK


async def test_writes_fail_fast_while_the_server_is_dead(redis_server: RedisServer) -> None:
    async with budget_client(redis_server.url) as cache:
        await cache.set("k", "v", ex=60)
        redis_server.kill()
        outcomes = [await timed(cache.set("k", "w", ex=60)) for _ in range(5)]
    assert all(isinstance(result, ServiceUnavailableError) for result, _ in outcomes)
    assert max(elapsed for _, elapsed in outcomes) < BUDGET + SLACK


class Hammer:
    """Callers that write and read in a loop, recording when each call ended and how."""

    def __init__(self, cache: RedisCache, workers: int = 4) -> None:
        self.cache = cache
        self.calls: list[tuple[float, float, bool]] = []  # (started, ended, succeeded)
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(self._work(i)) for i in range(workers)]

    async def _work(self, worker: int) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                await self.cache.set(f"w{worker}", str(n), ex=60)
                ok = await self.cache.get(f"w{worker}") == str(n)
            except ServiceUnavailableError:
                ok = False
            self.calls.append((started, time.monotonic(), ok))
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.wait_for(asyncio.gather(*self._tasks), timeout=10)

    def first_success_after(self, moment: float) -> float:
        return min(ended for started, ended, ok in self.calls if ok and ended >= moment) - moment

    def longest_call(self) -> float:
        return max(ended - started for started, ended, _ in self.calls)


async def fault_then_recover(
    server: RedisServer, fault: Callable[[], None], recover: Callable[[], None]
) -> Hammer:
    async with budget_client(server.url) as cache:
        hammer = Hammer(cache)
        await asyncio.sleep(0.3)
        fault()
        await asyncio.sleep(1.5)
        await asyncio.to_thread(recover)
        back = time.monotonic()
        await asyncio.sleep(RECOVERY + 0.5)
        await hammer.stop()
        hammer.back = back  # type: ignore[attr-defined]
    return hammer


async def test_calls_succeed_within_a_second_of_a_frozen_server_thawing(
    redis_server: RedisServer,
) -> None:
    hammer = await fault_then_recover(redis_server, redis_server.freeze, redis_server.thaw)
    assert hammer.first_success_after(hammer.back) < RECOVERY  # type: ignore[attr-defined]
    # Each call did two operations (set, get), each bounded by the budget.
    assert hammer.longest_call() < 2 * BUDGET + SLACK


async def test_calls_succeed_within_a_second_of_a_killed_server_restarting(
    redis_server: RedisServer,
) -> None:
    hammer = await fault_then_recover(redis_server, redis_server.kill, redis_server.start)
    assert hammer.first_success_after(hammer.back) < RECOVERY  # type: ignore[attr-defined]
    assert hammer.longest_call() < 2 * BUDGET + SLACK
    assert any(not ok for _, _, ok in hammer.calls)  # the outage was seen
