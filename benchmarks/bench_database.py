"""Figures for the database layer: atomic reservations under contention, on the real PostgreSQL.

Run with ``nox -s bench -- database`` (against the installed wheel) or directly with Python. It
creates a scratch database on ``VIDEOGEN_TEST_PG_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), applies the Supabase stand-in and every
shipped SQL script, prints one line per figure and drops the database. Nothing is asserted.

Figures:

* ``reserve_cost`` calls per second with 1, 8 and 32 concurrent callers (one connection each),
  all on one job and spread over 32 jobs, next to a plain single-row ``UPDATE`` of the same jobs
  by the same callers in the same run, and the ratio of the two;
* the same through ``CostTracker.reserve`` over ``runtime.postgres`` (pool of 10), which adds the
  Python side (validation, pool, retry wrapper, JSON decoding);
* overspend: 32 callers race for a small budget on one job until it is exhausted; the largest
  ``total_cost + reserved_cost`` ever seen is compared with the limit (must never exceed it).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from runtime.cost_tracking import CostTracker
from runtime.errors import BudgetExceededError
from runtime.postgres import PostgresDatabase
from runtime.resources import sql_scripts

ADMIN_DSN = os.environ.get("VIDEOGEN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SHIM = Path(__file__).resolve().parent.parent / "tests" / "support" / "supabase_shim.sql"
DURATION_SECONDS = float(os.environ.get("VIDEOGEN_BENCH_SECONDS", "1.5"))
JOBS = 32


def dsn_for(name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


def create_database() -> tuple[str, str]:
    name = f"vg_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    dsn = dsn_for(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SHIM.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        for _name, text in sql_scripts():
            conn.execute(text)  # type: ignore[arg-type]
    return name, dsn


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def make_jobs(dsn: str, count: int) -> list[uuid.UUID]:
    jobs = [uuid.uuid4() for _ in range(count)]
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.jobs (id, user_id, audio_url, user_prompt) "
            "VALUES (%s, %s, 'https://example.com/bench.mp3', 'benchmark')",
            [(job, uuid.uuid4()) for job in jobs],
        )
    return jobs


Operation = Callable[[psycopg.AsyncConnection[Any], uuid.UUID], Awaitable[None]]


async def reserve_op(conn: psycopg.AsyncConnection[Any], job: uuid.UUID) -> None:
    await conn.execute(
        "SELECT public.reserve_cost(%s, 'video_generation', 'svd', 0.000001, 1000000, NULL)",
        (job,),
    )


async def update_op(conn: psycopg.AsyncConnection[Any], job: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE public.jobs SET progress = (progress + 1) %% 100 WHERE id = %s", (job,)
    )


async def rate(dsn: str, jobs: list[uuid.UUID], callers: int, operation: Operation) -> float:
    """Operations per second for ``callers`` connections, each looping until the deadline."""
    connections = [
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(callers)
    ]
    try:
        for conn in connections:
            await conn.execute("SET ROLE service_role")
        counts = [0] * callers
        start = time.perf_counter()
        deadline = start + DURATION_SECONDS

        async def caller(index: int) -> None:
            job = jobs[index % len(jobs)]
            while time.perf_counter() < deadline:
                await operation(connections[index], job)
                counts[index] += 1

        await asyncio.gather(*(caller(i) for i in range(callers)))
        return sum(counts) / (time.perf_counter() - start)
    finally:
        for conn in connections:
            await conn.close()


async def tracker_rate(dsn: str, jobs: list[uuid.UUID], callers: int) -> float:
    async with PostgresDatabase(dsn, max_connections=10) as db:
        count = 0
        start = time.perf_counter()
        deadline = start + DURATION_SECONDS

        async def caller(index: int) -> None:
            nonlocal count
            tracker = CostTracker(db, budget_limit=Decimal(1000000))
            job = jobs[index % len(jobs)]
            while time.perf_counter() < deadline:
                await tracker.reserve(job, "video_generation", "svd", Decimal("0.000001"))
                count += 1

        await asyncio.gather(*(caller(i) for i in range(callers)))
        return count / (time.perf_counter() - start)


async def overspend(dsn: str, *, callers: int = 32) -> tuple[int, int, Decimal, Decimal]:
    """Race ``callers`` for a $5 budget in $0.07 holds; return accepted, refused, peak, limit."""
    limit, amount = Decimal("5.00"), Decimal("0.07")
    (job,) = make_jobs(dsn, 1)
    accepted = refused = 0
    peak = Decimal(0)
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            while not done.is_set():
                cur = await conn.execute(
                    "SELECT total_cost + reserved_cost FROM public.jobs WHERE id = %s", (job,)
                )
                row = await cur.fetchone()
                assert row is not None
                peak = max(peak, row[0])
                await asyncio.sleep(0.001)

    async with PostgresDatabase(dsn, max_connections=callers, min_connections=callers) as db:

        async def caller() -> None:
            nonlocal accepted, refused
            tracker = CostTracker(db, budget_limit=limit)
            while True:
                try:
                    hold = await tracker.reserve(job, "video_generation", "svd", amount)
                except BudgetExceededError:
                    refused += 1
                    return
                accepted += 1
                if accepted % 3 == 0:
                    await tracker.settle(hold, amount)

        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(caller() for _ in range(callers)))
        done.set()
        await watcher
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT total_cost + reserved_cost FROM public.jobs WHERE id = %s", (job,)
        ).fetchone()
    assert row is not None
    return accepted, refused, max(peak, row[0]), limit


async def run(dsn: str) -> None:
    many = make_jobs(dsn, JOBS)
    (single,) = make_jobs(dsn, 1)
    print(f"{'scenario':<44} {'reserve/s':>11} {'UPDATE/s':>11} {'ratio':>7}")
    for label, jobs in (("one job", [single]), (f"{JOBS} jobs", many)):
        for callers in (1, 8, 32):
            reserves = await rate(dsn, jobs, callers, reserve_op)
            updates = await rate(dsn, jobs, callers, update_op)
            name = f"reserve_cost, {callers:>2} callers, {label}"
            print(f"{name:<44} {reserves:11.0f} {updates:11.0f} {reserves / updates:7.2f}")
    for callers in (1, 8):
        per_second = await tracker_rate(dsn, many, callers)
        name = f"CostTracker.reserve (pool 10), {callers} callers, {JOBS} jobs"
        print(f"{name:<44} {per_second:11.0f}")
    accepted, refused, peak, limit = await overspend(dsn)
    print(
        f"overspend race: 32 callers, $0.07 holds, limit ${limit}: accepted {accepted}, "
        f"refused {refused}, peak committed ${peak}, overspend ${max(Decimal(0), peak - limit)}"
    )


def main() -> None:
    name, dsn = create_database()
    try:
        asyncio.run(run(dsn))
    finally:
        drop_database(name)


if __name__ == "__main__":
    main()
