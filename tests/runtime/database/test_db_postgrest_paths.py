"""The PostgREST path end to end: our client -> HTTP -> a PostgREST-style RPC endpoint -> the real
PostgreSQL, and real sockets for reconnection.

RpcGateway (db_support) answers POST/GET /rest/v1/rpc/<fn> by running the function as
service_role with the JSON arguments, returning the result or PostgREST's error body and status.
The same scenarios run over the direct path, and both must agree.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from db_support import (
    SERVICE_KEY,
    SUPABASE_URL,
    RpcGateway,
    fetch_all,
    job_money,
    make_job,
    pgrst_status,
)

from runtime._http import new_http_client
from runtime.cost_tracking import CostTracker
from runtime.database import Database, DatabaseOptions
from runtime.errors import BudgetExceededError, ConflictError, NotFoundError
from runtime.postgres import PostgresDatabase


@pytest.fixture
async def rest_db(schema_database: str) -> AsyncIterator[Database]:
    gateway = RpcGateway(schema_database)
    client = new_http_client(transport=httpx.MockTransport(gateway))
    async with Database(
        options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY), http_client=client
    ) as db:
        yield db
    await client.aclose()


@pytest.fixture(params=["postgrest", "direct"])
def either(request: pytest.FixtureRequest, rest_db: Database, pg_db: PostgresDatabase) -> Any:
    return rest_db if request.param == "postgrest" else pg_db


async def test_cost_tracking_scenario_gives_same_results_on_both_paths(
    either: Any, schema_database: str
) -> None:
    tracker = CostTracker(either, budget_limit=Decimal("1.00"))
    job = make_job(schema_database)
    recorded = await tracker.track_cost(
        job, "audio_analysis", "whisper", Decimal("0.006"), idempotency_key="a"
    )
    replay = await tracker.track_cost(
        job, "audio_analysis", "whisper", Decimal("0.006"), idempotency_key="a"
    )
    hold = await tracker.reserve(
        job, "video_generation", "svd", Decimal("0.90"), idempotency_key="clip"
    )
    with pytest.raises(BudgetExceededError) as over:
        await tracker.reserve(job, "video_generation", "svd", Decimal("0.10"))
    settled = await tracker.settle(hold, Decimal("0.85"))
    summary = await tracker.get_cost_summary(job)
    assert (recorded.recorded, replay.recorded, replay.cost_id) == (True, False, recorded.cost_id)
    assert over.value.details["reserved_cost"] == "0.900000"
    assert (settled.status, settled.total_cost, settled.reserved_cost) == (
        "settled",
        Decimal("0.856"),
        Decimal(0),
    )
    assert summary.by_stage == {
        "audio_analysis": Decimal("0.006"),
        "video_generation": Decimal("0.85"),
    }
    assert job_money(schema_database, job) == (Decimal("0.856"), Decimal(0), Decimal("0.856"))


async def test_errors_are_the_same_on_both_paths(either: Any, schema_database: str) -> None:
    tracker = CostTracker(either)
    job = make_job(schema_database)
    await tracker.track_cost(job, "audio_analysis", "whisper", Decimal("0.1"), idempotency_key="k")
    with pytest.raises(ConflictError) as conflict:
        await tracker.track_cost(
            job, "audio_analysis", "whisper", Decimal("0.2"), idempotency_key="k"
        )
    with pytest.raises(NotFoundError) as missing:
        await tracker.get_total_cost(uuid.uuid4())
    assert conflict.value.upstream_code == "23505"
    assert "different arguments" in conflict.value.message
    assert missing.value.upstream_code == "P0002"


async def test_transaction_is_atomic_on_both_paths(either: Any, schema_database: str) -> None:
    job = {
        "id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "audio_url": "https://example.com/a.mp3",
        "user_prompt": "p",
    }

    async def run() -> None:
        async with either.transaction() as tx:
            await tx.table("jobs").insert(job).execute()
            await (
                tx.table("job_stages")
                .insert({"job_id": job["id"], "stage_name": "Bad Name"})
                .execute()
            )

    with pytest.raises(Exception, match="job_stages_stage_name_check"):
        await run()
    assert fetch_all(schema_database, "SELECT id FROM public.jobs") == []
    async with either.transaction() as tx:
        await tx.table("jobs").insert(job).execute()
        await (
            tx.table("job_stages")
            .insert({"job_id": job["id"], "stage_name": "audio_analysis"})
            .execute()
        )
    assert len(fetch_all(schema_database, "SELECT id FROM public.job_stages")) == 1


async def test_health_check_on_both_paths(either: Any) -> None:
    assert await either.health_check() is True


# -- the stand-in answers with PostgREST's documented statuses -------------------------------


@pytest.mark.parametrize(
    ("sqlstate", "status"),
    [
        ("23503", 409),
        ("23505", 409),
        ("25006", 405),
        ("42883", 404),
        ("42P01", 404),
        ("42P17", 500),
        ("42501", 403),
        ("P0001", 400),
        ("P0002", 500),
        ("53400", 500),
        ("53300", 503),
        ("08006", 503),
        ("28P01", 403),
        ("0P000", 403),
        ("40001", 500),
        ("55000", 500),
        ("57014", 500),
        ("XX000", 500),
        ("PT402", 402),
        ("22023", 400),
        ("23514", 400),
        ("VGB01", 400),
        ("VGB02", 400),
    ],
)
def test_stand_in_status_follows_postgrests_documented_table(sqlstate: str, status: int) -> None:
    assert pgrst_status(sqlstate) == status


def test_stand_in_answers_insufficient_privilege_without_a_role_with_401() -> None:
    assert pgrst_status("42501", authenticated=False) == 401


async def test_missing_job_arrives_as_http_500_and_is_not_found(
    rest_db: Database, schema_database: str
) -> None:
    with pytest.raises(NotFoundError) as caught:
        await CostTracker(rest_db, budget_limit=Decimal(20)).get_total_cost(uuid.uuid4())
    assert (caught.value.status_code, caught.value.upstream_code) == (500, "P0002")


async def test_budget_refusal_over_the_stand_in_is_budget_exceeded_with_figures(
    rest_db: Database, schema_database: str
) -> None:
    job = make_job(schema_database)
    with pytest.raises(BudgetExceededError) as caught:
        await CostTracker(rest_db, budget_limit=Decimal(1)).reserve(
            job, "video_generation", "svd", Decimal(2)
        )
    assert caught.value.details["limit"] == "1.000000"


async def test_batch_rows_over_the_stand_in_carry_money_as_decimal_strings(
    rest_db: Database, schema_database: str
) -> None:
    job = make_job(schema_database)
    async with rest_db.transaction() as tx:
        write = await tx.table("jobs").update({"progress": 10}).eq("id", job).execute()
    assert write.rows is not None
    total = write.rows[0]["total_cost"]
    assert isinstance(total, str)
    assert Decimal(total) == 0


# -- real sockets: a server that drops connections -------------------------------------------


class FlakyServer:
    """A tiny HTTP/1.1 server: the first connection is closed without an answer (a broken
    connection); later requests get a PostgREST-style JSON answer and keep-alive, and the server
    then closes each connection after one answer (stale pooled connections)."""

    def __init__(self) -> None:
        self.connections = 0
        self.answered = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        await reader.readuntil(b"\r\n\r\n")
        if number > 1:
            body = b'[{"id": 1}]'
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
            await writer.drain()
            self.answered += 1
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def test_reconnects_after_broken_and_stale_connections() -> None:
    flaky = FlakyServer()
    async with (
        flaky as url,
        Database(options=DatabaseOptions(url=url, service_key=SERVICE_KEY)) as db,
    ):
        first = await db.table("jobs").select("*").execute()  # 1st connection dropped: retried
        await asyncio.sleep(0.05)  # the server has closed the pooled connection meanwhile
        second = await db.table("jobs").select("*").execute()
    assert first.data == second.data == [{"id": 1}]
    assert flaky.answered == 2
    assert flaky.connections >= 3
