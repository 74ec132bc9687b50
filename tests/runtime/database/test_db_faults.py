"""Fault injection on the direct PostgreSQL path, against the real server.

Faults come from a local TCP proxy the tests start themselves (replies dropped after commit,
the "server" cut and restored, frozen) and from ``pg_terminate_backend`` on the test's own
backends. The shared server itself is never stopped. Every count and duration is a constant, so
the suite is bounded (about 30 s on two cores).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from db_support import fetch_all, fetch_one, job_money, make_job
from fault_support import PgProxy, ScratchPostgres
from pg_support import apply_schema

from runtime.cost_tracking import CostTracker
from runtime.errors import BudgetExceededError, PipelineError, ServiceUnavailableError
from runtime.postgres import PostgresDatabase, PostgresOptions
from runtime.retry import retry_with_backoff

DEADLINE = 1.0  # the call deadline the tests give the client
SLACK = 0.5  # scheduling slack allowed on top of a deadline on a loaded two-core machine
OUTAGE_SECONDS = 3.0
KILL_ROUNDS_SECONDS = 4.0
KILL_WORKERS = 8
LIMIT = Decimal("20.00")
RESTART_OUTAGE_CALLS = 4  # each spends its DEADLINE: a 4 s outage


def target_of(dsn: str) -> tuple[str, int]:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    return str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432)


@pytest.fixture
def proxy(schema_database: str) -> Iterator[PgProxy]:
    proxy = PgProxy(target_of(schema_database))
    try:
        yield proxy
    finally:
        proxy.close()


def cost_params(job: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "p_job_id": job,
        "p_stage_name": "video_generation",
        "p_api_name": "svd",
        "p_cost": Decimal("1.00"),
        **extra,
    }


def ledger_rows(dsn: str, job: uuid.UUID) -> int:
    return int(
        fetch_one(dsn, "SELECT count(*) AS n FROM public.job_costs WHERE job_id = %s", (job,))["n"]
    )


# -- finding 2: a reply lost after commit never charges twice ----------------------------------


async def test_record_cost_without_key_whose_reply_is_lost_after_commit_charges_once(
    schema_database: str, proxy: PgProxy
) -> None:
    job = make_job(schema_database)
    async with PostgresDatabase(
        options=PostgresOptions(dsn=proxy.dsn(schema_database), max_connections=2)
    ) as client:
        await client.call_function("health")

        @retry_with_backoff(max_attempts=5, base_delay=0)
        async def charge() -> Any:
            return await client.call_function("record_cost", cost_params(job))

        proxy.drop_reply_after_commit(b"record_cost")
        with pytest.raises(ServiceUnavailableError) as caught:
            await charge()
    assert proxy.dropped == 1
    assert caught.value.retryable is False
    assert ledger_rows(schema_database, job) == 1
    assert job_money(schema_database, job) == (Decimal("1.00"), Decimal(0), Decimal("1.00"))


async def test_idempotent_record_cost_whose_reply_is_lost_is_retried_and_replayed(
    schema_database: str, proxy: PgProxy
) -> None:
    job = make_job(schema_database)
    async with PostgresDatabase(
        options=PostgresOptions(dsn=proxy.dsn(schema_database), max_connections=2)
    ) as client:
        await client.call_function("health")
        proxy.drop_reply_after_commit(b"record_cost")
        result = await client.call_function(
            "record_cost", cost_params(job, p_idempotency_key="k1"), idempotent=True
        )
    assert proxy.dropped == 1
    assert result["recorded"] is False  # the retry found the first attempt's row
    assert ledger_rows(schema_database, job) == 1


async def test_tracker_spend_whose_reply_is_lost_is_recorded_once(
    schema_database: str, proxy: PgProxy
) -> None:
    job = make_job(schema_database)
    async with PostgresDatabase(
        options=PostgresOptions(dsn=proxy.dsn(schema_database), max_connections=2)
    ) as client:
        await client.call_function("health")
        proxy.drop_reply_after_commit(b"record_cost")
        record = await CostTracker(client, budget_limit=LIMIT).track_cost(
            job, "video_generation", "svd", Decimal("1.00")
        )
    assert record.total_cost == Decimal("1.00")
    assert ledger_rows(schema_database, job) == 1


# -- finding 4: every call ends within its deadline; recovery within 1 s ------------------------


async def test_call_fails_fast_when_the_server_is_down(
    schema_database: str, proxy: PgProxy
) -> None:
    async with PostgresDatabase(
        options=PostgresOptions(dsn=proxy.dsn(schema_database), call_deadline_seconds=DEADLINE)
    ) as client:
        await client.call_function("health")
        proxy.cut()
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError):
            await client.call_function("health")
        elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + SLACK


async def test_call_on_a_frozen_server_ends_at_its_deadline(
    schema_database: str, proxy: PgProxy
) -> None:
    job = make_job(schema_database)
    async with PostgresDatabase(
        options=PostgresOptions(
            dsn=proxy.dsn(schema_database), call_deadline_seconds=DEADLINE, min_connections=1
        )
    ) as client:
        await client.call_function("health")
        proxy.freeze()
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError) as caught:
            await client.call_function("record_cost", cost_params(job))
        elapsed = time.monotonic() - started
        proxy.restore()
    assert elapsed < DEADLINE + SLACK
    assert caught.value.code == "deadline_exceeded"
    assert caught.value.retryable is False  # the statement may have run: not repeated


async def test_call_succeeds_within_one_second_of_the_server_coming_back(
    schema_database: str, proxy: PgProxy
) -> None:
    async with PostgresDatabase(
        options=PostgresOptions(
            dsn=proxy.dsn(schema_database), call_deadline_seconds=DEADLINE, max_connections=4
        )
    ) as client:
        await asyncio.gather(*(client.call_function("health") for _ in range(4)))
        proxy.cut()
        outage_end = time.monotonic() + OUTAGE_SECONDS
        failures = 0
        while time.monotonic() < outage_end:  # calls during the outage fail within the budget
            started = time.monotonic()
            with pytest.raises(ServiceUnavailableError):
                await client.call_function("health")
            assert time.monotonic() - started < DEADLINE + SLACK
            failures += 1
        proxy.restore()
        back = time.monotonic()
        result = await client.call_function("health")
        recovered = time.monotonic() - back
    assert failures >= 2
    assert result["status"] == "ok"
    assert recovered < 1.0


# -- the budget under backend kills -------------------------------------------------------------


async def _kill_backends(dsn: str, application_name: str, stop: asyncio.Event) -> int:
    kills = 0
    rng = random.Random(7)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as admin:
        while not stop.is_set():
            await asyncio.sleep(rng.uniform(0.02, 0.1))
            cursor = await admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (application_name,),
            )
            row = await cursor.fetchone()
            kills += int(row[0]) if row else 0
    return kills


async def test_backend_kills_during_cost_calls_never_overspend_or_double_charge(
    schema_database: str,
) -> None:
    job = make_job(schema_database)
    app = f"vg-kill-{uuid.uuid4().hex[:8]}"
    outcomes: dict[str, str] = {}
    stop = asyncio.Event()

    async with PostgresDatabase(
        options=PostgresOptions(
            dsn=schema_database, application_name=app, max_connections=6, call_deadline_seconds=2.0
        )
    ) as client:
        tracker = CostTracker(client, budget_limit=LIMIT)

        async def worker(n: int) -> None:
            i = 0
            while not stop.is_set():
                key = f"w{n}-{i}"
                i += 1
                try:
                    if i % 2:
                        await tracker.track_cost(
                            job,
                            "video_generation",
                            "svd",
                            Decimal("0.05"),
                            idempotency_key=key,
                            limit=LIMIT,
                        )
                    else:
                        async with tracker.reserved(
                            job, "video_generation", "svd", Decimal("0.10"), idempotency_key=key
                        ) as hold:
                            hold.charge(Decimal("0.04"))
                    outcomes[key] = "ok"
                except BudgetExceededError:
                    outcomes[key] = "refused"
                except PipelineError:
                    outcomes[key] = "failed"

        killer = asyncio.create_task(_kill_backends(schema_database, app, stop))
        workers = [asyncio.create_task(worker(n)) for n in range(KILL_WORKERS)]
        await asyncio.sleep(KILL_ROUNDS_SECONDS)
        stop.set()
        await asyncio.gather(*workers)
        kills = await killer

    total, reserved, ledger = job_money(schema_database, job)
    rows = fetch_all(
        schema_database,
        "SELECT idempotency_key, count(*) AS n FROM public.job_costs WHERE job_id = %s "
        "GROUP BY idempotency_key",
        (job,),
    )
    assert kills > 0
    assert list(outcomes.values()).count("ok") > 0
    assert ledger == total  # ledger equals totals
    assert total + reserved <= LIMIT  # budget never exceeded
    assert all(row["n"] == 1 for row in rows)  # no key charged twice
    recorded_keys = {row["idempotency_key"] for row in rows}
    for key, outcome in outcomes.items():
        if outcome == "ok" and int(key.split("-")[1]) % 2 == 0:  # the track_cost calls
            assert key in recorded_keys


# -- a real server stopped and restarted --------------------------------------------------------


@pytest.fixture
def scratch_server() -> Iterator[ScratchPostgres]:
    server = ScratchPostgres()
    try:
        apply_schema(server.dsn)
        yield server
    finally:
        server.close()


@pytest.mark.slow
async def test_a_restarted_server_serves_calls_within_one_second(
    scratch_server: ScratchPostgres,
) -> None:
    job = make_job(scratch_server.dsn)
    # One connection: its reconnect attempts are the only way back (psycopg_pool's own backoff,
    # 1 s doubling, would next try about 3 s after a 4 s outage; the capped one within 0.25 s).
    async with PostgresDatabase(
        options=PostgresOptions(
            dsn=scratch_server.dsn, call_deadline_seconds=DEADLINE, max_connections=1
        )
    ) as client:
        tracker = CostTracker(client, budget_limit=LIMIT)
        await tracker.track_cost(job, "video_generation", "svd", Decimal("1.00"))
        await asyncio.to_thread(scratch_server.stop)
        for _ in range(RESTART_OUTAGE_CALLS):  # calls during the outage fail within their budget
            started = time.monotonic()
            with pytest.raises(ServiceUnavailableError):
                await tracker.track_cost(job, "video_generation", "svd", Decimal("1.00"))
            assert time.monotonic() - started < DEADLINE + SLACK
        await asyncio.to_thread(scratch_server.start)
        back = time.monotonic()
        await tracker.track_cost(job, "video_generation", "svd", Decimal("1.00"))
        recovered = time.monotonic() - back
    assert recovered < 1.0
    # The calls refused while the server was down never reached it: two spends, no more.
    assert job_money(scratch_server.dsn, job) == (Decimal("2.00"), Decimal(0), Decimal("2.00"))
