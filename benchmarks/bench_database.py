"""Figures for the database layer: atomic reservations under contention, on the real PostgreSQL.

Run with ``nox -s bench -- database`` (against the installed wheel) or directly with Python. It
creates a scratch database on ``VIDEOGEN_TEST_PG_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), applies the Supabase stand-in and every
shipped SQL script, prints one line per figure and drops the database.

Figures (each the median of ``VIDEOGEN_BENCH_RUNS`` runs, 3 by default, of
``VIDEOGEN_BENCH_SECONDS`` each, 1.0 by default, after a warm-up; min-max in brackets):

* ``reserve_cost`` calls per second with 1, 8 and 32 concurrent callers (one connection each),
  all on one job, and spread round-robin over 32 jobs (every caller cycles through all of them),
  next to a plain single-row ``UPDATE`` of the same jobs by the same callers in the same run, and
  the ratio of the two medians. Reservations and UPDATEs alternate which one runs first, so
  neither always gets the warmer cache;
* the same through ``CostTracker.reserve`` over ``runtime.postgres`` (a pool of 10, the most the
  client allows), which adds the Python side (validation, pool, retry wrapper, JSON decoding);
* overspend: 32 callers race for a small budget on one job until it is exhausted, once over 32
  direct connections calling the SQL functions and once through ``CostTracker`` on a pool of 10;
  the largest ``total_cost + reserved_cost`` ever seen is compared with the limit, and
  ``sum(job_costs)`` with ``jobs.total_cost`` at the end.

* overhead (issue 9, finding 6): ``CostTracker.track_cost`` over ``runtime.postgres`` against raw
  psycopg running the same ``record_cost`` call on a psycopg_pool of the same size (once as one
  prepared ``SELECT``, once sending exactly the client's pooler-safe statements), 16 callers,
  rotating which runs first; calls per second, p50, p99 and both ratios (target >= 0.80);
* fleet scale (issue 15): 4 worker processes x 25 clients recording costs through a real
  PgBouncer in transaction mode on 5 server connections, and the same directly (4 x 10 server
  connections); calls per second, p50 and p99.

The script exits with status 1 if any overspend (or a ledger mismatch) is observed.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from runtime.cost_tracking import CostTracker
from runtime.errors import BudgetExceededError
from runtime.postgres import PostgresDatabase, PostgresOptions
from runtime.resources import sql_scripts

ADMIN_DSN = os.environ.get("VIDEOGEN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SHIM = Path(__file__).resolve().parent.parent / "tests" / "support" / "supabase_shim.sql"
DURATION_SECONDS = float(os.environ.get("VIDEOGEN_BENCH_SECONDS", "1.0"))
WARMUP_SECONDS = min(0.3, DURATION_SECONDS)
RUNS = max(1, int(os.environ.get("VIDEOGEN_BENCH_RUNS", "3")))
JOBS = 32
POOL = 10


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


async def timed(callers: int, seconds: float, call: Callable[[int, int], Awaitable[None]]) -> float:
    """Calls per second for ``callers`` tasks, each calling ``call(caller, n)`` until the end.

    Caller ``i``'s ``n``-th call goes to job ``(i + n) % len(jobs)``: with several jobs every
    caller cycles through all of them (round-robin), with one job they all share it.
    """
    counts = [0] * callers
    start = time.perf_counter()
    deadline = start + seconds

    async def caller(index: int) -> None:
        while time.perf_counter() < deadline:
            await call(index, counts[index])
            counts[index] += 1

    await asyncio.gather(*(caller(i) for i in range(callers)))
    return sum(counts) / (time.perf_counter() - start)


async def sql_rates(
    dsn: str, jobs: list[uuid.UUID], callers: int
) -> tuple[list[float], list[float]]:
    """RUNS measurements each of reserve_cost and UPDATE, on one connection per caller."""
    connections = [
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(callers)
    ]
    try:
        for conn in connections:
            await conn.execute("SET ROLE service_role")

        def runner(operation: Operation) -> Callable[[int, int], Awaitable[None]]:
            async def call(index: int, n: int) -> None:
                await operation(connections[index], jobs[(index + n) % len(jobs)])

            return call

        reserve, update = runner(reserve_op), runner(update_op)
        await timed(callers, WARMUP_SECONDS, reserve)
        await timed(callers, WARMUP_SECONDS, update)
        reserves: list[float] = []
        updates: list[float] = []
        for run in range(RUNS):
            if run % 2 == 0:
                reserves.append(await timed(callers, DURATION_SECONDS, reserve))
                updates.append(await timed(callers, DURATION_SECONDS, update))
            else:
                updates.append(await timed(callers, DURATION_SECONDS, update))
                reserves.append(await timed(callers, DURATION_SECONDS, reserve))
        return reserves, updates
    finally:
        for conn in connections:
            await conn.close()


async def tracker_rates(dsn: str, jobs: list[uuid.UUID], callers: int) -> list[float]:
    async with PostgresDatabase(
        options=PostgresOptions(dsn=dsn, max_connections=POOL, min_connections=POOL)
    ) as db:
        trackers = [CostTracker(db, budget_limit=Decimal(1000000)) for _ in range(callers)]

        async def call(index: int, n: int) -> None:
            job = jobs[(index + n) % len(jobs)]
            await trackers[index].reserve(job, "video_generation", "svd", Decimal("0.000001"))

        await timed(callers, WARMUP_SECONDS, call)
        return [await timed(callers, DURATION_SECONDS, call) for _ in range(RUNS)]


class Race:
    """A budget race on one job, watched from another connection while it runs."""

    limit = Decimal("5.00")
    amount = Decimal("0.07")

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        (self.job,) = make_jobs(dsn, 1)
        self.accepted = 0
        self.refused = 0
        self.peak = Decimal(0)

    async def watch(self, done: asyncio.Event) -> None:
        async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
            while not done.is_set():
                cur = await conn.execute(
                    "SELECT total_cost + reserved_cost FROM public.jobs WHERE id = %s",
                    (self.job,),
                )
                row = await cur.fetchone()
                assert row is not None
                self.peak = max(self.peak, row[0])
                await asyncio.sleep(0.001)

    async def run(self, callers: list[Callable[[], Awaitable[None]]]) -> None:
        done = asyncio.Event()
        watcher = asyncio.create_task(self.watch(done))
        try:
            await asyncio.gather(*(caller() for caller in callers))
        finally:
            done.set()
            await watcher

    def final(self) -> tuple[Decimal, Decimal]:
        """(total_cost + reserved_cost, total_cost - sum(job_costs)) after the race."""
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute(
                "SELECT j.total_cost + j.reserved_cost, j.total_cost - "
                "(SELECT coalesce(sum(c.cost), 0) FROM public.job_costs c WHERE c.job_id = j.id) "
                "FROM public.jobs j WHERE j.id = %s",
                (self.job,),
            ).fetchone()
        assert row is not None
        return row[0], row[1]


async def race_sql(dsn: str, callers: int = 32) -> Race:
    """``callers`` direct connections calling reserve_cost/settle_cost until refused."""
    race = Race(dsn)
    connections = [
        await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(callers)
    ]
    try:

        def caller(conn: psycopg.AsyncConnection[Any]) -> Callable[[], Awaitable[None]]:
            async def loop() -> None:
                await conn.execute("SET ROLE service_role")
                while True:
                    try:
                        cur = await conn.execute(
                            "SELECT public.reserve_cost(%s, 'video_generation', 'svd', %s, %s)",
                            (race.job, race.amount, race.limit),
                        )
                    except psycopg.Error as exc:
                        if exc.sqlstate != "VGB01":
                            raise
                        race.refused += 1
                        return
                    row = await cur.fetchone()
                    assert row is not None
                    race.accepted += 1
                    if race.accepted % 3 == 0:
                        await conn.execute(
                            "SELECT public.settle_cost(%s, %s, %s)",
                            (row[0]["reservation_id"], race.amount, race.limit),
                        )

            return loop

        await race.run([caller(conn) for conn in connections])
    finally:
        for conn in connections:
            await conn.close()
    return race


async def race_tracker(dsn: str, callers: int = 32) -> Race:
    """``callers`` tasks reserving through CostTracker over one pool of 10 connections."""
    race = Race(dsn)
    async with PostgresDatabase(
        options=PostgresOptions(dsn=dsn, max_connections=POOL, min_connections=POOL)
    ) as db:

        def caller() -> Callable[[], Awaitable[None]]:
            tracker = CostTracker(db, budget_limit=race.limit)  # one per task: no local lock

            async def loop() -> None:
                while True:
                    try:
                        hold = await tracker.reserve(
                            race.job, "video_generation", "svd", race.amount
                        )
                    except BudgetExceededError:
                        race.refused += 1
                        return
                    race.accepted += 1
                    if race.accepted % 3 == 0:
                        await tracker.settle(hold, race.amount)

            return loop

        await race.run([caller() for _ in range(callers)])
    return race


# -- the direct path against raw psycopg, same SQL, same machine, side by side -----------------

RECORD_SQL = (
    "SELECT to_jsonb(public.record_cost(p_job_id => %s, p_stage_name => %s, p_api_name => %s, "
    "p_cost => %s, p_idempotency_key => %s, p_limit => %s))"
)
OVERHEAD_CALLERS = 16


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def latencies(
    callers: int, seconds: float, call: Callable[[int, int], Awaitable[None]]
) -> tuple[float, list[float]]:
    """Closed loop: ``callers`` tasks calling back to back; (calls/s, per-call seconds)."""
    samples: list[float] = []
    start = time.perf_counter()
    deadline = start + seconds

    async def caller(index: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await call(index, n)
            samples.append(time.perf_counter() - began)
            n += 1

    await asyncio.gather(*(caller(i) for i in range(callers)))
    return len(samples) / (time.perf_counter() - start), samples


async def raw_record_costs(
    dsn: str, jobs: list[uuid.UUID], *, same_statements: bool = False
) -> tuple[float, list[float]]:
    """Raw psycopg: the same call, a psycopg_pool of the same size, nothing else.

    ``same_statements``: send exactly what the direct client sends (``SET LOCAL
    statement_timeout`` in front, client-side binding, no prepared statements: what a
    transaction-mode pooler needs) instead of one prepared ``SELECT``; the difference between the
    two is the server's cost of that pooler-safe statement timeout, not the client's.
    """
    from psycopg_pool import AsyncConnectionPool

    kwargs: dict[str, Any] = {"autocommit": True}
    sql = RECORD_SQL
    if same_statements:
        kwargs.update(cursor_factory=psycopg.AsyncClientCursor, prepare_threshold=None)
        sql = "SET LOCAL statement_timeout = 4990; " + RECORD_SQL
    async with AsyncConnectionPool(
        dsn, min_size=POOL, max_size=POOL, kwargs=kwargs, open=False
    ) as pool:
        await pool.wait()

        async def call(index: int, n: int) -> None:
            job = jobs[(index + n) % len(jobs)]
            async with pool.connection() as conn:
                cur = await conn.execute(
                    sql,
                    (job, "video_generation", "svd", Decimal("0.000001"), uuid.uuid4().hex, None),
                )
                if same_statements:
                    cur.nextset()  # past the SET LOCAL's result
                await cur.fetchone()

        await latencies(OVERHEAD_CALLERS, WARMUP_SECONDS, call)
        return await latencies(OVERHEAD_CALLERS, DURATION_SECONDS, call)


async def raw_same_statements(dsn: str, jobs: list[uuid.UUID]) -> tuple[float, list[float]]:
    """:func:`raw_record_costs` sending exactly the direct client's statements."""
    return await raw_record_costs(dsn, jobs, same_statements=True)


async def tracker_record_costs(dsn: str, jobs: list[uuid.UUID]) -> tuple[float, list[float]]:
    """This library: ``CostTracker.track_cost`` over ``runtime.postgres``, same pool size."""
    async with PostgresDatabase(
        options=PostgresOptions(dsn=dsn, max_connections=POOL, min_connections=POOL)
    ) as db:
        tracker = CostTracker(db, budget_limit=Decimal(1000000))

        async def call(index: int, n: int) -> None:
            job = jobs[(index + n) % len(jobs)]
            await tracker.track_cost(job, "video_generation", "svd", Decimal("0.000001"))

        await latencies(OVERHEAD_CALLERS, WARMUP_SECONDS, call)
        return await latencies(OVERHEAD_CALLERS, DURATION_SECONDS, call)


async def overhead(dsn: str) -> None:
    """track_cost through the direct path vs raw psycopg with the same SQL, rotating the order."""
    jobs = make_jobs(dsn, JOBS)
    measures = (raw_record_costs, raw_same_statements, tracker_record_costs)
    rates: dict[str, list[float]] = {m.__name__: [] for m in measures}
    samples: dict[str, list[float]] = {m.__name__: [] for m in measures}
    for run in range(RUNS):
        for measure in measures[run % 3 :] + measures[: run % 3]:
            rate, seconds = await measure(dsn, jobs)
            rates[measure.__name__].append(rate)
            samples[measure.__name__].extend(seconds)

    def figure(name: str) -> str:
        values = rates[name]
        return (
            f"{statistics.median(values):.0f}/s {spread(values)} "
            f"p50 {percentile(samples[name], 0.5) * 1000:.2f} ms "
            f"p99 {percentile(samples[name], 0.99) * 1000:.2f} ms"
        )

    raw = statistics.median(rates["raw_record_costs"])
    same = statistics.median(rates["raw_same_statements"])
    lib = statistics.median(rates["tracker_record_costs"])
    print(
        f"record_cost, {OVERHEAD_CALLERS} callers, pool {POOL}, {JOBS} jobs: raw psycopg "
        f"{figure('raw_record_costs')}; raw psycopg sending the client's statements "
        f"{figure('raw_same_statements')}; CostTracker.track_cost "
        f"{figure('tracker_record_costs')}; ratio {lib / raw:.2f} to the prepared SELECT "
        f"(target >= 0.80), {lib / same:.2f} to the same statements"
    )


# -- through a transaction-mode pooler (PgBouncer) vs direct, at fleet scale ------------------

FLEET_PROCESSES = 4
FLEET_CLIENTS = 25
FLEET_SERVER_CONNECTIONS = 5
FLEET_WORKER = r"""
import asyncio, json, sys, time, uuid
from decimal import Decimal
from runtime.cost_tracking import CostTracker
from runtime.postgres import PostgresDatabase, PostgresOptions

dsn, seconds, clients, jobs = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
jobs = [uuid.UUID(j) for j in jobs]


async def main() -> None:
    options = PostgresOptions(dsn=dsn, max_connections=10, call_deadline_seconds=30.0)
    async with PostgresDatabase(options=options) as db:
        tracker = CostTracker(db, budget_limit=Decimal(1000000))
        await db.call_function("health")
        print("ready", flush=True)
        sys.stdin.readline()
        samples = []
        end = time.perf_counter() + seconds

        async def client(i: int) -> None:
            n = 0
            while time.perf_counter() < end:
                began = time.perf_counter()
                await tracker.track_cost(jobs[(i + n) % len(jobs)], "video_generation", "svd",
                                         Decimal("0.000001"))
                samples.append(time.perf_counter() - began)
                n += 1

        await asyncio.gather(*(client(i) for i in range(clients)))
        print(json.dumps(samples), flush=True)


asyncio.run(main())
"""


def fleet(dsn: str, jobs: list[uuid.UUID]) -> tuple[float, list[float]]:
    """FLEET_PROCESSES worker processes x FLEET_CLIENTS tasks recording costs on ``dsn``."""
    import logging
    import subprocess

    logging.disable(logging.INFO)
    args = [str(DURATION_SECONDS), str(FLEET_CLIENTS), *(str(job) for job in jobs)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", FLEET_WORKER, dsn, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(FLEET_PROCESSES)
    ]
    try:
        for proc in workers:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for proc in workers:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=DURATION_SECONDS + 60)[0] for proc in workers]
        elapsed = time.perf_counter() - started
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    samples = [value for out in outputs for value in json.loads(out.strip().splitlines()[-1])]
    return len(samples) / elapsed, samples


def pooler_vs_direct(dsn: str) -> None:
    """Cost records per second and p99: through PgBouncer (transaction mode) vs direct."""
    import shutil

    if shutil.which("pgbouncer") is None and not Path("/usr/sbin/pgbouncer").exists():
        print("pooler vs direct: skipped (pgbouncer is not installed)")
        return
    sys.path.insert(
        0, str(Path(__file__).resolve().parent.parent / "tests" / "runtime" / "database")
    )
    from fault_support import PgBouncer

    jobs = make_jobs(dsn, JOBS)
    bouncer = PgBouncer(dsn, default_pool_size=FLEET_SERVER_CONNECTIONS)
    try:
        for label, target in (("direct", dsn), ("pgbouncer", bouncer.dsn(dsn))):
            rate, samples = fleet(target, jobs)
            connections = (
                f"{FLEET_SERVER_CONNECTIONS} server connections"
                if label == "pgbouncer"
                else f"{FLEET_PROCESSES * 10} server connections"
            )
            print(
                f"track_cost {label:<9} {FLEET_PROCESSES} processes x {FLEET_CLIENTS} clients "
                f"({connections}): {rate:.0f}/s p50 {percentile(samples, 0.5) * 1000:.1f} ms "
                f"p99 {percentile(samples, 0.99) * 1000:.1f} ms"
            )
    finally:
        bouncer.stop()


def spread(values: list[float]) -> str:
    return f"[{min(values):.0f}-{max(values):.0f}]"


async def run(dsn: str) -> bool:
    """Print every figure; return whether the budget held everywhere."""
    many = make_jobs(dsn, JOBS)
    (single,) = make_jobs(dsn, 1)
    print(
        f"median of {RUNS} runs x {DURATION_SECONDS:g}s after a {WARMUP_SECONDS:g}s warm-up; "
        "[min-max]"
    )
    print(f"{'scenario':<44} {'reserve/s':>22} {'UPDATE/s':>22} {'ratio':>6}")
    for label, jobs in (("one job", [single]), (f"{JOBS} jobs round-robin", many)):
        for callers in (1, 8, 32):
            reserves, updates = await sql_rates(dsn, jobs, callers)
            reserve, update = statistics.median(reserves), statistics.median(updates)
            name = f"reserve_cost, {callers:>2} callers, {label}"
            print(
                f"{name:<44} {reserve:9.0f} {spread(reserves):>12} "
                f"{update:9.0f} {spread(updates):>12} {reserve / update:6.2f}"
            )
    for callers in (1, 8, 32):
        rates = await tracker_rates(dsn, many, callers)
        name = f"CostTracker.reserve (pool {POOL}), {callers:>2} callers, {JOBS} jobs"
        print(f"{name:<44} {statistics.median(rates):9.0f} {spread(rates):>12}")
    await overhead(dsn)
    pooler_vs_direct(dsn)
    held = True
    for label, race in (
        ("32 direct connections", await race_sql(dsn)),
        (f"32 tasks, CostTracker, pool {POOL}", await race_tracker(dsn)),
    ):
        final, mismatch = race.final()
        peak = max(race.peak, final)
        overspend = max(Decimal(0), peak - race.limit)
        print(
            f"overspend race ({label}), ${race.amount} holds, limit ${race.limit}: "
            f"accepted {race.accepted}, refused {race.refused}, peak committed ${peak}, "
            f"overspend ${overspend}, total_cost - sum(job_costs) ${mismatch}"
        )
        held = held and overspend == 0 and mismatch == 0
    if not held:
        print("FAIL: the budget was exceeded or the ledger disagrees with total_cost")
    return held


def main() -> int:
    name, dsn = create_database()
    try:
        held = asyncio.run(run(dsn))
    finally:
        drop_database(name)
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
