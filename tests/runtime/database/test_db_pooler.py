"""The direct path through a real PgBouncer in transaction mode (issue 15, point 1).

Each test starts its own PgBouncer (``pool_mode = transaction``) on a free port in front of the
test database, with its own ini and userlist in a temporary directory, and stops it afterwards.
First the failures that session state causes behind such a pooler, shown with plain psycopg;
then this library's client, which keeps no session state, working through it, raced by several
processes with more clients than server connections.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from db_support import job_money, make_job
from fault_support import PgBouncer
from test_db_concurrency_processes import run_race

from runtime.cost_tracking import CostTracker
from runtime.postgres import PostgresDatabase, PostgresOptions

RACE_WORKERS = 4
RACE_CLIENTS = 10
RACE_CALLS = 30
POOL_SIZE = 5


@pytest.fixture
def bouncer(schema_database: str) -> Iterator[PgBouncer]:
    server = PgBouncer(schema_database, default_pool_size=POOL_SIZE)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def single_bouncer(schema_database: str) -> Iterator[PgBouncer]:
    """One server connection shared by every client: what one client leaves, the next sees."""
    server = PgBouncer(schema_database, default_pool_size=1)
    try:
        yield server
    finally:
        server.stop()


# -- what session state does behind a transaction-mode pooler ----------------------------------


def test_statement_timeout_as_a_startup_option_is_refused(
    bouncer: PgBouncer, schema_database: str
) -> None:
    with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter: options"):
        psycopg.connect(bouncer.dsn(schema_database), options="-c statement_timeout=30000")


def test_a_session_set_leaks_to_another_client(
    single_bouncer: PgBouncer, schema_database: str
) -> None:
    dsn = single_bouncer.dsn(schema_database)
    with (
        psycopg.connect(dsn, autocommit=True) as first,
        psycopg.connect(dsn, autocommit=True) as second,
    ):
        first.execute("SET statement_timeout = '1234ms'")
        row = second.execute("SHOW statement_timeout").fetchone()
    assert row == ("1234ms",)  # another client's setting, on "its own" connection


def test_server_side_prepared_statements_collide_between_clients(
    single_bouncer: PgBouncer, schema_database: str
) -> None:
    dsn = single_bouncer.dsn(schema_database)
    with (
        psycopg.connect(dsn, autocommit=True, prepare_threshold=0) as first,
        psycopg.connect(dsn, autocommit=True, prepare_threshold=0) as second,
    ):
        first.execute("SELECT 1 + %s", (1,))
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            second.execute("SELECT 2 + %s", (1,))


# -- this library through the pooler -----------------------------------------------------------


async def test_cost_tracking_works_through_the_pooler(
    bouncer: PgBouncer, schema_database: str
) -> None:
    job = make_job(schema_database)
    async with PostgresDatabase(
        options=PostgresOptions(dsn=bouncer.dsn(schema_database))
    ) as client:
        tracker = CostTracker(client, budget_limit=Decimal("20.00"))
        await tracker.track_cost(job, "audio_analysis", "whisper", Decimal("0.006"))
        async with tracker.reserved(job, "video_generation", "svd", Decimal("0.10")) as hold:
            hold.charge(Decimal("0.06"))
        summary = await tracker.get_cost_summary(job)
    assert summary.total_cost == Decimal("0.066")
    assert job_money(schema_database, job) == (Decimal("0.066"), Decimal(0), Decimal("0.066"))


async def test_transactions_work_through_the_pooler(
    bouncer: PgBouncer, schema_database: str
) -> None:
    job = make_job(schema_database)
    async with (
        PostgresDatabase(options=PostgresOptions(dsn=bouncer.dsn(schema_database))) as client,
        client.transaction() as tx,
    ):
        await tx.table("jobs").update({"status": "processing"}).eq("id", job).execute()
        await (
            tx.table("job_stages")
            .insert({"id": uuid.uuid4(), "job_id": job, "stage_name": "audio_analysis"})
            .execute()
        )
    with psycopg.connect(schema_database) as conn:
        row = conn.execute(
            "SELECT j.status, count(s.id) FROM public.jobs j "
            "LEFT JOIN public.job_stages s ON s.job_id = j.id WHERE j.id = %s GROUP BY j.status",
            (job,),
        ).fetchone()
    assert row == ("processing", 1)


async def test_the_statement_timeout_does_not_leak_to_other_clients(
    single_bouncer: PgBouncer, schema_database: str
) -> None:
    dsn = single_bouncer.dsn(schema_database)
    async with PostgresDatabase(
        options=PostgresOptions(dsn=dsn, statement_timeout_seconds=1.5, max_connections=1)
    ) as client:
        await client.call_function("health")
        with psycopg.connect(dsn, autocommit=True) as other:
            row = other.execute("SHOW statement_timeout").fetchone()
    assert row == ("0",)


@pytest.mark.slow
def test_processes_racing_reservations_through_the_pooler_never_overspend(
    bouncer: PgBouncer, schema_database: str
) -> None:
    assert RACE_WORKERS * RACE_CLIENTS > POOL_SIZE  # more clients than server connections
    run_race(
        schema_database,
        worker_dsn=bouncer.dsn(schema_database),
        workers=RACE_WORKERS,
        calls=RACE_CALLS,
        connections=RACE_CLIENTS,
    )
