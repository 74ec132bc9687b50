"""The direct PostgreSQL path (runtime.postgres) end to end on the real server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import psycopg
import pytest
from db_support import as_url, fetch_all, fetch_one, make_job, settings_values
from fault_support import PgBouncer
from pg_support import ADMIN_DSN

from runtime.config import Settings, override_settings
from runtime.db._pool import CappedPool
from runtime.errors import (
    BudgetExceededError,
    ConfigError,
    ConflictError,
    DatabaseError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
)
from runtime.postgres import PostgresDatabase, PostgresOptions, repeat_is_safe
from runtime.testing import capture_logs


@pytest.fixture(scope="module")
def module_bouncer() -> Iterator[PgBouncer]:
    """A transaction-mode PgBouncer of this module's own (the session-wide one serves the cost
    suites; one bouncer for both held too many idle server connections at once)."""
    server = PgBouncer(ADMIN_DSN, default_pool_size=5)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["direct", "pgbouncer"])
async def pg_db(
    request: pytest.FixtureRequest, schema_database: str
) -> AsyncIterator[PostgresDatabase]:
    """The direct client, straight to PostgreSQL and through a transaction-mode PgBouncer: this
    module's suite (calls, transactions, errors) runs on both (issue 15)."""
    dsn = schema_database
    if request.param == "pgbouncer":
        dsn = request.getfixturevalue("module_bouncer").dsn(schema_database)
    async with PostgresDatabase(options=PostgresOptions(dsn=dsn, max_connections=10)) as client:
        yield client


UNREACHABLE_DSN = "postgresql://postgres@127.0.0.1:1/postgres"


def new_job(**values: object) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "audio_url": "https://example.com/audio/song.mp3",
        "user_prompt": "a prompt",
        **values,
    }


async def test_call_function_returns_json_result(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    job = make_job(schema_database)
    result = await pg_db.call_function(
        "record_cost",
        {
            "p_job_id": job,
            "p_stage_name": "audio_analysis",
            "p_api_name": "whisper",
            "p_cost": Decimal("0.006"),
            "p_idempotency_key": "a",
        },
        idempotent=True,
    )
    assert result["recorded"] is True
    assert result["total_cost"] == "0.006000"


async def test_call_function_returns_scalar_as_json(pg_db: PostgresDatabase) -> None:
    assert (await pg_db.call_function("health"))["status"] == "ok"


async def test_budget_error_becomes_budget_exceeded(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    job = make_job(schema_database)
    with pytest.raises(BudgetExceededError, match="budget exceeded") as caught:
        await pg_db.call_function(
            "reserve_cost",
            {
                "p_job_id": job,
                "p_stage_name": "video_generation",
                "p_api_name": "svd",
                "p_amount": Decimal("25"),
                "p_limit": Decimal("20"),
                "p_idempotency_key": None,
            },
            job_id=job,
        )
    assert caught.value.job_id == job
    assert isinstance(caught.value.__cause__, psycopg.Error)


async def test_missing_job_becomes_not_found(pg_db: PostgresDatabase) -> None:
    with pytest.raises(NotFoundError):
        await pg_db.call_function("job_cost_summary", {"p_job_id": uuid.uuid4()})


async def test_unknown_function_is_a_database_error(pg_db: PostgresDatabase) -> None:
    with pytest.raises(DatabaseError, match="does not exist") as caught:
        await pg_db.call_function("no_such_function", {"p_x": 1})
    assert caught.value.upstream_code == "42883"
    assert caught.value.retryable is False


async def test_function_name_that_is_not_an_identifier_is_refused_before_any_io(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    with pytest.raises(ValidationError):
        await pg_db.call_function("health(); DROP TABLE public.jobs; --")
    assert (
        fetch_one(schema_database, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'jobs'")[
            "n"
        ]
        == 1
    )


async def test_bad_parameter_name_is_a_validation_error(pg_db: PostgresDatabase) -> None:
    with pytest.raises(ValidationError):
        await pg_db.call_function("health", {"": 1})


@pytest.mark.parametrize("params", [{"": 1}, {"a)": 1}, {1: "x"}, {"p_a": 1, "bad name": 2}])
async def test_bad_parameter_names_are_refused_every_time(
    pg_db: PostgresDatabase, params: dict[object, object]
) -> None:
    # A checked signature is cached; a refused one never is, so the second call refuses too.
    for _ in range(2):
        with pytest.raises(ValidationError, match="parameter name"):
            await pg_db.call_function("health", params)  # type: ignore[arg-type]


async def test_a_float_for_a_money_argument_is_refused_before_any_io(
    pg_db: PostgresDatabase,
) -> None:
    # As on the PostgREST path; sent, the unknown job would be a NotFoundError instead.
    with pytest.raises(ValidationError, match="p_cost is money"):
        await pg_db.call_function(
            "record_cost",
            {"p_job_id": uuid.uuid4(), "p_stage_name": "x", "p_api_name": "y", "p_cost": 0.1},
        )


async def test_transaction_commits_every_write(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    job = new_job()
    async with pg_db.transaction() as tx:
        inserted = await tx.table("jobs").insert(job).execute()
        await (
            tx.table("job_stages")
            .insert(
                [
                    {"job_id": job["id"], "stage_name": "audio_analysis"},
                    {"job_id": job["id"], "stage_name": "scene_planning"},
                ]
            )
            .execute()
        )
        await tx.table("jobs").update({"status": "processing"}).eq("id", job["id"]).execute()
    assert tx.state == "committed"
    assert inserted.rows is not None
    assert inserted.rows[0]["id"] == str(job["id"])
    assert fetch_one(schema_database, "SELECT status FROM public.jobs")["status"] == "processing"
    assert len(fetch_all(schema_database, "SELECT 1 FROM public.job_stages")) == 2


async def test_transaction_sends_nothing_when_block_raises(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    tx = pg_db.transaction()

    async def run() -> None:
        async with tx:
            await tx.table("jobs").insert(new_job()).execute()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await run()
    assert tx.state == "discarded"
    assert fetch_one(schema_database, "SELECT count(*) AS n FROM public.jobs")["n"] == 0


async def test_transaction_rolls_back_everything_when_one_write_fails(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    job = new_job()
    tx = pg_db.transaction()

    async def run() -> None:
        async with tx:
            await tx.table("jobs").insert(job).execute()
            await tx.table("jobs").insert(job).execute()  # duplicate primary key

    with pytest.raises(ConflictError):
        await run()
    assert tx.state == "failed"
    assert fetch_one(schema_database, "SELECT count(*) AS n FROM public.jobs")["n"] == 0


async def test_transaction_refuses_write_built_but_not_executed(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    async def run() -> None:
        async with pg_db.transaction() as tx:
            await tx.table("jobs").insert(new_job()).execute()
            tx.table("jobs").insert(new_job())

    with pytest.raises(ValidationError, match="never executed"):
        await run()
    assert fetch_one(schema_database, "SELECT count(*) AS n FROM public.jobs")["n"] == 0


async def test_transaction_delete_with_match(pg_db: PostgresDatabase, schema_database: str) -> None:
    job = make_job(schema_database)
    async with pg_db.transaction(job_id=job) as tx:
        deleted = await tx.table("jobs").delete().match({"id": job}).execute()
    assert deleted.rows is not None
    assert [row["id"] for row in deleted.rows] == [str(job)]


async def test_transaction_upsert(pg_db: PostgresDatabase, schema_database: str) -> None:
    job = make_job(schema_database)
    stage = {"job_id": job, "stage_name": "video_generation", "status": "processing"}
    async with pg_db.transaction() as tx:
        await tx.table("job_stages").upsert(stage).execute()
    async with pg_db.transaction() as tx:
        await tx.table("job_stages").upsert({**stage, "status": "completed"}).execute()
    assert fetch_all(schema_database, "SELECT status FROM public.job_stages") == [
        {"status": "completed"}
    ]


async def test_health_check_true_on_ready_database(pg_db: PostgresDatabase) -> None:
    assert await pg_db.health_check() is True


async def test_health_check_false_without_schema(fresh_database: str) -> None:
    async with PostgresDatabase(options=PostgresOptions(dsn=fresh_database)) as client:
        assert await client.health_check() is False


async def test_health_check_false_quickly_when_server_unreachable() -> None:
    client = PostgresDatabase(
        options=PostgresOptions(dsn=UNREACHABLE_DSN, connect_timeout_seconds=2, min_connections=0)
    )
    try:
        started = asyncio.get_running_loop().time()
        with capture_logs() as logs:
            assert await client.health_check(timeout_seconds=0.5) is False
        assert asyncio.get_running_loop().time() - started < 2.0
        assert logs.filter(message="Direct database health check failed: TimeoutError")
    finally:
        await client.aclose()


async def test_unreachable_server_raises_service_unavailable_after_retries() -> None:
    client = PostgresDatabase(
        options=PostgresOptions(
            dsn=UNREACHABLE_DSN, pool_timeout_seconds=0.3, min_connections=0, max_attempts=3
        )
    )
    try:
        with capture_logs() as logs, pytest.raises(ServiceUnavailableError) as caught:
            await client.call_function("health")
        assert caught.value.retryable is True
        retries = [m for m in logs.messages if m.startswith("Retrying")]
        assert len(retries) == 2
    finally:
        await client.aclose()


async def test_reconnects_after_server_drops_connections(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    assert (await pg_db.call_function("health"))["status"] == "ok"
    with psycopg.connect(schema_database, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = 'videogen-runtime'"
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 1
    await wait_until_gone(schema_database, "videogen-runtime")
    assert (await pg_db.call_function("health"))["status"] == "ok"


async def wait_until_gone(dsn: str, application_name: str) -> None:
    """pg_terminate_backend only signals: wait until the backends have exited."""
    for _ in range(100):
        with psycopg.connect(dsn, autocommit=True) as admin:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            ).fetchone()
        if row is not None and row[0] == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the terminated backends did not exit within 2 s")


async def test_pool_never_opens_more_than_max_connections(schema_database: str) -> None:
    async with PostgresDatabase(
        options=PostgresOptions(dsn=schema_database, max_connections=3, application_name="vg-bound")
    ) as client:
        results = await asyncio.gather(*(client.call_function("health") for _ in range(30)))
        stats = client.pool.get_stats()
    assert all(r["status"] == "ok" for r in results)
    assert stats["pool_max"] == 3
    assert stats["pool_size"] <= 3


async def test_closed_client_refuses_calls(schema_database: str) -> None:
    client = PostgresDatabase(options=PostgresOptions(dsn=schema_database))
    await client.call_function("health")
    await client.aclose()
    with pytest.raises(DatabaseError, match="closed") as caught:
        await client.call_function("health")
    assert caught.value.code == "client_closed"


async def test_lazy_client_reads_database_url_from_settings(schema_database: str) -> None:
    lazy = PostgresDatabase.lazy(PostgresOptions.from_settings)
    settings = Settings(_env_file=None, **settings_values(database_url=as_url(schema_database)))
    with override_settings(settings):
        assert await lazy.health_check() is True
        await lazy.aclose()
        assert await lazy.health_check() is True  # a lazy client reopens after aclose
        await lazy.aclose()


def test_module_pg_without_database_url_raises_config_error() -> None:
    settings = Settings(_env_file=None, **settings_values())
    with override_settings(settings), pytest.raises(ConfigError, match="DATABASE_URL"):
        PostgresOptions.from_settings()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_connections": 0},
        {"max_connections": 11},
        {"max_attempts": 0},
        {"pool_timeout_seconds": 0},
        {"statement_timeout_seconds": -1},
        {"min_connections": 11},
        {"retry_base_delay_seconds": -1},
    ],
)
def test_bad_bounds_raise_config_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        PostgresDatabase(options=PostgresOptions(dsn="postgresql://localhost/x", **kwargs))  # type: ignore[arg-type]


def test_missing_dsn_raises_config_error() -> None:
    with pytest.raises(ConfigError):
        PostgresOptions()  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="postgresql://"):
        PostgresDatabase(options=PostgresOptions(dsn="mysql://x"))


@pytest.mark.parametrize(
    ("exc", "connected", "idempotent", "expected"),
    [
        (psycopg.OperationalError("connection refused"), False, False, True),
        (psycopg.OperationalError("server closed the connection"), True, False, False),
        (psycopg.OperationalError("server closed the connection"), True, True, True),
        (psycopg.errors.SerializationFailure("could not serialize"), True, False, True),
        (psycopg.errors.DeadlockDetected("deadlock"), True, False, True),
        (psycopg.errors.AdminShutdown("terminating"), True, True, True),
        (psycopg.errors.UniqueViolation("dup"), True, True, False),
        (ValueError("x"), False, True, False),
    ],
)
def test_repeat_is_safe_only_when_no_double_write_is_possible(
    exc: Exception, connected: bool, idempotent: bool, expected: bool
) -> None:
    assert repeat_is_safe(exc, connected=connected, idempotent=idempotent) is expected


async def test_reconnect_backoff_starts_small_and_never_exceeds_its_cap() -> None:
    pool = CappedPool("postgresql://127.0.0.1:1/x", reconnect_max_delay=0.25, open=False)
    attempt = pool._backoff(timeout=300)
    delays = []
    for step in range(12):
        attempt.update_delay(float(step))
        delays.append(attempt.delay)
    assert delays[0] <= 0.06
    assert max(delays) == pytest.approx(0.25)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_connections": "10"},  # strict: no silent coercion
        {"call_deadline_seconds": 0},
        {"reconnect_max_delay_seconds": -1},
        {"no_such_option": 1},
        {"retry_base_delay_seconds": 2.0, "retry_max_delay_seconds": 1.0},
    ],
)
def test_options_are_validated_by_one_model(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="invalid PostgresOptions"):
        PostgresDatabase(options=PostgresOptions(dsn="postgresql://localhost/x", **kwargs))


def test_invalid_options_never_echo_the_dsn() -> None:
    with pytest.raises(ConfigError) as caught:
        PostgresDatabase(
            options=PostgresOptions(dsn="postgresql://user:hunter2@localhost/x", max_connections=0)
        )
    assert "hunter2" not in str(caught.value)


def test_a_dsn_and_keyword_options_build_the_same_options_as_options() -> None:
    dsn = "postgresql://localhost/x"
    client = PostgresDatabase(dsn, max_connections=5, call_deadline_seconds=2.0)
    assert client.options == PostgresOptions(dsn=dsn, max_connections=5, call_deadline_seconds=2.0)


def test_keyword_options_are_validated_like_options() -> None:
    with pytest.raises(ConfigError, match="invalid PostgresOptions: max_connections"):
        PostgresDatabase("postgresql://localhost/x", max_connections=0)


def test_options_and_keyword_options_together_are_refused() -> None:
    options = PostgresOptions(dsn="postgresql://localhost/x")
    with pytest.raises(ConfigError, match="either options= or keyword options"):
        PostgresDatabase(options=options, max_connections=5)


def test_a_client_without_dsn_or_options_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs a dsn or options="):
        PostgresDatabase()
