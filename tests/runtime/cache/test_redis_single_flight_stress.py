"""Stress: thousands of get_or_set calls with 0.1 s locks and computations near that TTL.

Against the machine's Redis (a prefix of our own) and against a redis-server of the test's own
that is frozen (SIGSTOP) or killed in the middle of the run. Every call must end within its
documented deadline: ``wait_timeout_seconds + 2 x operation_timeout_seconds`` beyond the time its
own ``compute`` took. Afterwards no lock is left (no keeper renews one forever) and no task of
ours is still running. Counts, durations and the budget are constants; the figures are printed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cache_support import REDIS_URL, RedisServer, delete_prefix
from redis.asyncio import Redis

from runtime.cache import RedisCache
from runtime.cache._errors import LIMITER

CALLS = 4000
CALLERS_PER_KEY = 5  # consecutive calls share a key, so they race for its lock
CLIENTS = 3  # separate pools, as separate workers would have
CONCURRENCY = 200
LOCK_TTL = 0.1
COMPUTE_SECONDS = (0.02, 0.15)  # around the lock TTL: renewals matter
WAIT_TIMEOUT = 2.0
BUDGET = 1.0
FAIL_EVERY = 20  # 5 % of the computations raise
CANCEL_EVERY = 50  # 2 % of the callers are cancelled while in flight
RUN_BOUND_SECONDS = 120.0  # a run still going then has hung calls
SLACK = 0.25  # event-loop scheduling on a loaded 2-core machine

FAULT_CALLS = 600
FAULT_BUDGET = 0.5
FAULT_WAIT_TIMEOUT = 1.0
FAULT_START_INTERVAL = 0.005  # calls start over 3 s, so some are in flight during the fault


class Boom(Exception):
    """A computation that fails (the lock must still be released)."""


@dataclass
class Call:
    key: str
    elapsed: float = 0.0
    computing: float = 0.0  # time spent in this caller's own compute
    outcome: str = "pending"


@dataclass
class Run:
    calls: list[Call]
    computations: Counter[str]
    pending: int
    cancel_latency: list[float]
    lags: list[float]

    def finished(self) -> list[Call]:
        return [c for c in self.calls if c.outcome in ("value", "boom")]

    def overrun(self) -> list[float]:
        return [c.elapsed - c.computing for c in self.finished()]

    def summary(self, deadline: float) -> str:
        overrun = self.overrun()
        return (
            f"{len(self.calls)} calls, {len(self.finished())} finished, {self.pending} hung, "
            f"{sum(c.outcome == 'cancelled' for c in self.calls)} cancelled; "
            f"max latency {max(c.elapsed for c in self.calls):.3f} s, max beyond compute "
            f"{max(overrun):.3f} s (deadline {deadline:.2f} s); computations "
            f"{sum(self.computations.values())} for {len(self.computations)} keys "
            f"(max {max(self.computations.values())} per key; locks lapsed "
            f"{LIMITER.seen['cache_lock_lost']}, computed without the lock "
            f"{LIMITER.seen['cache_unavailable:get_or_set']}); max cancel latency "
            f"{max(self.cancel_latency, default=0):.3f} s; event-loop lag p50/p99/max "
            f"{self.lag(0.5):.3f}/{self.lag(0.99):.3f}/{self.lag(1.0):.3f} s"
        )

    def lag(self, quantile: float) -> float:
        ordered = sorted(self.lags) or [0.0]
        return ordered[min(len(ordered) - 1, int(len(ordered) * quantile))]


async def run_calls(
    clients: list[RedisCache],
    count: int,
    *,
    wait_timeout: float,
    lock_ttl: float = LOCK_TTL,
    compute_seconds: tuple[float, float] = COMPUTE_SECONDS,
    start_interval: float = 0.0,
    during: Callable[[], Awaitable[None]] | None = None,
) -> Run:
    rng = random.Random(9)
    calls = [Call(key=f"k{i // CALLERS_PER_KEY}") for i in range(count)]
    computations: Counter[str] = Counter()
    cancel_latency: list[float] = []
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int, call: Call) -> None:
        seconds = rng.uniform(*compute_seconds)

        async def compute() -> dict[str, str]:
            computations[call.key] += 1
            began = time.monotonic()
            try:
                await asyncio.sleep(seconds)
            finally:
                call.computing += time.monotonic() - began
            if i % FAIL_EVERY == 0:
                raise Boom
            return {"key": call.key}

        began = time.monotonic()
        try:
            async with slots:
                began = time.monotonic()  # the deadline starts with the call, not the queue
                value = await clients[i % len(clients)].get_or_set(
                    call.key,
                    compute,
                    ttl=60,
                    lock_ttl_seconds=lock_ttl,
                    wait_timeout_seconds=wait_timeout,
                )
            call.outcome = "value" if value == {"key": call.key} else f"wrong {value!r}"
        except Boom:
            call.outcome = "boom"
        except asyncio.CancelledError:
            call.outcome = "cancelled"
            raise
        finally:
            call.elapsed = time.monotonic() - began

    async def cancel_later(task: asyncio.Task[None]) -> None:
        await asyncio.sleep(rng.uniform(0.0, 0.2))
        asked = time.monotonic()
        task.cancel()
        await asyncio.wait((task,))
        cancel_latency.append(time.monotonic() - asked)

    lags: list[float] = []
    running = True

    async def probe() -> None:  # how late the event loop runs a 10 ms timer
        while running:
            began = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - began - 0.01)

    prober = asyncio.create_task(probe())
    tasks: list[asyncio.Task[None]] = []
    helpers: list[asyncio.Task[None]] = []
    fault = asyncio.create_task(during()) if during is not None else None
    for i, call in enumerate(calls):
        task = asyncio.create_task(one(i, call))
        tasks.append(task)
        if i % CANCEL_EVERY == 1:
            helpers.append(asyncio.create_task(cancel_later(task)))
        if start_interval:
            await asyncio.sleep(start_interval)
    _, pending = await asyncio.wait(tasks, timeout=RUN_BOUND_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*helpers, return_exceptions=True)
    if fault is not None:
        await fault
    running = False
    await prober
    return Run(calls, computations, len(pending), cancel_latency, lags)


async def assert_nothing_left(url: str, prefix: str, lock_ttl: float = LOCK_TTL) -> None:
    await asyncio.sleep(3 * lock_ttl)
    raw = Redis.from_url(url)
    try:
        locks = [k async for k in raw.scan_iter(match=f"{prefix}__lock__:*", count=1000)]
    finally:
        await raw.aclose()
    assert locks == []  # every lock was released or expired: no keeper renews one forever
    current = asyncio.current_task()
    running = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert running == []  # no keeper, no abandoned command still running


def check(run: Run, *, deadline: float) -> None:
    print(run.summary(deadline))
    assert run.pending == 0
    assert [c.outcome for c in run.calls if c.outcome.startswith(("wrong", "pending"))] == []
    assert max(run.overrun()) <= deadline + SLACK
    assert max(run.cancel_latency, default=0) <= BUDGET + SLACK


async def test_thousands_of_short_lock_calls_all_end_within_their_deadline(prefix: str) -> None:
    clients = [
        RedisCache(url=REDIS_URL, key_prefix=prefix, operation_timeout_seconds=BUDGET)
        for _ in range(CLIENTS)
    ]
    try:
        run = await run_calls(clients, CALLS, wait_timeout=WAIT_TIMEOUT)
        check(run, deadline=WAIT_TIMEOUT + 2 * BUDGET)
        await assert_nothing_left(REDIS_URL, prefix)
    finally:
        for client in clients:
            await client.aclose()
        await delete_prefix(REDIS_URL, prefix)


LONG_CALLS = 300
LONG_LOCK_TTL = 1.5
LONG_COMPUTE_SECONDS = (1.5, 2.0)  # the finding's other set-up: 1.5 s locks, 2 s computations
LONG_WAIT_TIMEOUT = 5.0  # waiters outlast the computation: only the lock keeps them waiting


async def test_long_computations_on_long_locks_all_end_within_their_deadline(prefix: str) -> None:
    clients = [
        RedisCache(url=REDIS_URL, key_prefix=prefix, operation_timeout_seconds=BUDGET)
        for _ in range(CLIENTS)
    ]
    try:
        run = await run_calls(
            clients,
            LONG_CALLS,
            wait_timeout=LONG_WAIT_TIMEOUT,
            lock_ttl=LONG_LOCK_TTL,
            compute_seconds=LONG_COMPUTE_SECONDS,
        )
        check(run, deadline=LONG_WAIT_TIMEOUT + 2 * BUDGET)
        await assert_nothing_left(REDIS_URL, prefix, LONG_LOCK_TTL)
    finally:
        for client in clients:
            await client.aclose()
        await delete_prefix(REDIS_URL, prefix)


def fault_clients(server: RedisServer, prefix: str) -> list[RedisCache]:
    return [
        RedisCache(
            url=server.url,
            key_prefix=prefix,
            operation_timeout_seconds=FAULT_BUDGET,
            socket_timeout_seconds=0.2,
            connect_timeout_seconds=0.2,
        )
        for _ in range(2)
    ]


async def test_calls_end_within_their_deadline_when_redis_freezes_mid_run(
    redis_server: RedisServer, prefix: str
) -> None:
    async def freeze_for_a_while() -> None:
        await asyncio.sleep(0.8)
        redis_server.freeze()
        await asyncio.sleep(1.2)
        redis_server.thaw()

    clients = fault_clients(redis_server, prefix)
    try:
        run = await run_calls(
            clients,
            FAULT_CALLS,
            wait_timeout=FAULT_WAIT_TIMEOUT,
            start_interval=FAULT_START_INTERVAL,
            during=freeze_for_a_while,
        )
        check(run, deadline=FAULT_WAIT_TIMEOUT + 2 * FAULT_BUDGET)
        await assert_nothing_left(redis_server.url, prefix)
    finally:
        for client in clients:
            await client.aclose()


async def test_calls_end_within_their_deadline_when_redis_is_killed_mid_run(
    redis_server: RedisServer, prefix: str
) -> None:
    async def kill_and_restart() -> None:
        await asyncio.sleep(0.8)
        redis_server.kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(redis_server.start)

    clients = fault_clients(redis_server, prefix)
    try:
        run = await run_calls(
            clients,
            FAULT_CALLS,
            wait_timeout=FAULT_WAIT_TIMEOUT,
            start_interval=FAULT_START_INTERVAL,
            during=kill_and_restart,
        )
        check(run, deadline=FAULT_WAIT_TIMEOUT + 2 * FAULT_BUDGET)
        await assert_nothing_left(redis_server.url, prefix)
    finally:
        for client in clients:
            await client.aclose()
