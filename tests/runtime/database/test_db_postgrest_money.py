"""Money through the PostgREST path is exact: read as Decimal, never sent as a float.

PostgREST sends numeric columns as JSON numbers (``"total_cost": 0.060000``). The bodies here are
made by the real PostgreSQL exactly the way PostgREST makes them (``json_agg`` over the selected
rows), served at the HTTP boundary through httpx.MockTransport, read with ``db.table(...)``, and
validated into the generated models, which refuse floats for money.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from db_support import SERVICE_KEY, SUPABASE_URL, Recorder, make_job, make_stage

from generated.job import CostReservation, Job, JobCost, JobStage
from runtime._http import new_http_client
from runtime.database import Database, DatabaseOptions, loads_exact, to_json_value
from runtime.db._common import money_fields
from runtime.errors import ValidationError
from runtime.postgres import PostgresDatabase

JOB = uuid.UUID("6f1c1b0e-8d1c-4a58-9b8e-2f7e4c1d2a10")


def postgrest_body(dsn: str, table: str, job_id: uuid.UUID, *, single: bool = False) -> bytes:
    """The body PostgREST sends for ``GET /rest/v1/<table>?job_id=eq.<id>`` (or ``id=eq.``).

    PostgREST's read query is ``SELECT coalesce(json_agg(_postgrest_t), '[]') FROM (SELECT
    "public"."<table>".* FROM "public"."<table>" WHERE ...) _postgrest_t``; for an
    ``application/vnd.pgrst.object+json`` request it sends the one object instead.
    """
    column = "id" if table == "jobs" else "job_id"
    query = psycopg.sql.SQL(
        "SELECT coalesce(json_agg(_postgrest_t), '[]')::character varying "
        "FROM (SELECT {t}.* FROM {t} WHERE {t}.{c} = %s) _postgrest_t"
    ).format(t=psycopg.sql.Identifier("public", table), c=psycopg.sql.Identifier(column))
    if single:
        query = psycopg.sql.SQL(
            "SELECT (json_agg(_postgrest_t) -> 0)::character varying "
            "FROM (SELECT {t}.* FROM {t} WHERE {t}.{c} = %s) _postgrest_t"
        ).format(t=psycopg.sql.Identifier("public", table), c=psycopg.sql.Identifier(column))
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(query, (job_id,)).fetchone()
    assert row is not None
    return str(row[0]).encode()


def answer(body: bytes) -> httpx.Response:
    return httpx.Response(
        200, content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )


@pytest.fixture
async def served() -> AsyncIterator[tuple[Database, Recorder]]:
    recorder = Recorder()
    client = new_http_client(transport=httpx.MockTransport(recorder))
    async with Database(
        options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY), http_client=client
    ) as db:
        yield db, recorder
    await client.aclose()


def spent_job(dsn: str) -> uuid.UUID:
    """A job with a stage, two recorded spends and a held reservation (all on the real server)."""
    job = make_job(dsn)
    make_stage(dsn, job, "video_generation")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT public.record_cost(%s, 'video_generation', 'svd', 0.06)", (job,))
        conn.execute("SELECT public.record_cost(%s, 'video_generation', 'svd', 0.123456)", (job,))
        conn.execute(
            "SELECT public.reserve_cost(%s, 'video_generation', 'svd', 1.5, 20, 'clip-1')", (job,)
        )
    return job


def test_postgrest_style_body_carries_money_as_json_numbers(schema_database: str) -> None:
    body = postgrest_body(schema_database, "jobs", spent_job(schema_database))
    plain = json.loads(body)[0]  # what a client without our decoding gets
    assert isinstance(plain["total_cost"], float)
    assert isinstance(plain["reserved_cost"], float)


async def test_jobs_row_read_through_table_validates_into_job(
    served: tuple[Database, Recorder], schema_database: str
) -> None:
    db, recorder = served
    job_id = spent_job(schema_database)
    recorder.queue.append(answer(postgrest_body(schema_database, "jobs", job_id)))
    result = await db.table("jobs").select("*").eq("id", str(job_id)).execute()
    job = Job.model_validate(result.data[0])
    assert (job.id, job.total_cost, job.reserved_cost) == (
        job_id,
        Decimal("0.183456"),
        Decimal("1.500000"),
    )


@pytest.mark.parametrize(
    ("table", "model", "field", "expected"),
    [
        ("job_stages", JobStage, "cost", Decimal("0.183456")),
        ("job_costs", JobCost, "cost", Decimal("0.060000")),
        ("cost_reservations", CostReservation, "amount", Decimal("1.500000")),
    ],
)
async def test_cost_rows_read_through_table_validate_into_their_models(
    served: tuple[Database, Recorder],
    schema_database: str,
    table: str,
    model: Any,
    field: str,
    expected: Decimal,
) -> None:
    db, recorder = served
    job_id = spent_job(schema_database)
    recorder.queue.append(answer(postgrest_body(schema_database, table, job_id)))
    result = await db.table(table).select("*").eq("job_id", str(job_id)).execute()
    rows = [model.model_validate(row) for row in result.data]
    assert getattr(rows[0], field) == expected


async def test_single_row_money_is_decimal(
    served: tuple[Database, Recorder], schema_database: str
) -> None:
    db, recorder = served
    job_id = spent_job(schema_database)
    recorder.queue.append(answer(postgrest_body(schema_database, "jobs", job_id, single=True)))
    result = await db.table("jobs").select("*").eq("id", str(job_id)).single().execute()
    assert result.data["total_cost"] == Decimal("0.183456")
    assert isinstance(result.data["total_cost"], Decimal)


async def test_maybe_single_row_money_is_decimal(
    served: tuple[Database, Recorder], schema_database: str
) -> None:
    db, recorder = served
    job_id = spent_job(schema_database)
    recorder.queue.append(answer(postgrest_body(schema_database, "jobs", job_id)))
    result = await db.table("jobs").select("*").eq("id", str(job_id)).maybe_single().execute()
    assert result is not None
    assert Job.model_validate(result.data).total_cost == Decimal("0.183456")


async def test_integers_outside_money_fields_stay_integers(
    served: tuple[Database, Recorder],
) -> None:
    db, recorder = served
    recorder.queue.append(answer(b'[{"progress": 40, "total_cost": 0.500000}]'))
    result = await db.table("jobs").select("progress,total_cost").execute()
    assert result.data == [{"progress": 40, "total_cost": Decimal("0.500000")}]
    assert type(result.data[0]["progress"]) is int


async def test_whole_money_amounts_are_decimal(served: tuple[Database, Recorder]) -> None:
    db, recorder = served
    recorder.queue.append(answer(b'[{"cost": 20, "done": true}]'))
    result = await db.table("job_costs").select("cost,done").execute()
    assert result.data == [{"cost": Decimal(20), "done": True}]
    assert isinstance(result.data[0]["cost"], Decimal)


async def test_job_with_a_whole_dollar_total_validates_into_job(
    served: tuple[Database, Recorder], schema_database: str
) -> None:
    db, recorder = served
    job_id = make_job(schema_database)
    with psycopg.connect(schema_database, autocommit=True) as conn:
        conn.execute("UPDATE public.jobs SET total_cost = 20 WHERE id = %s", (job_id,))
    recorder.queue.append(answer(postgrest_body(schema_database, "jobs", job_id)))
    result = await db.table("jobs").select("*").eq("id", str(job_id)).execute()
    assert Job.model_validate(result.data[0]).total_cost == Decimal(20)


async def test_rpc_result_numbers_are_decimal(served: tuple[Database, Recorder]) -> None:
    db, recorder = served
    recorder.queue.append(answer(b'{"spent": 0.1}'))
    assert await db.call_function("summary") == {"spent": Decimal("0.1")}


async def test_non_json_success_body_is_left_as_postgrest_read_it(
    served: tuple[Database, Recorder],
) -> None:
    db, recorder = served
    recorder.queue.append(httpx.Response(200, text="plain text", headers={"Content-Type": "text"}))
    result = await db.call_function("text_answer")
    assert result == "plain text"


async def test_insert_refuses_a_float_for_money_and_sends_nothing(
    served: tuple[Database, Recorder],
) -> None:
    db, recorder = served
    with pytest.raises(ValidationError, match=r"total_cost is money .*Decimal\('0.06'\)"):
        await db.table("jobs").insert({"id": JOB, "total_cost": 0.06}).execute()
    assert recorder.requests == []


async def test_rpc_refuses_a_float_for_a_money_argument(served: tuple[Database, Recorder]) -> None:
    db, recorder = served
    with pytest.raises(ValidationError, match="p_cost is money"):
        await db.call_function("record_cost", {"p_job_id": JOB, "p_cost": 0.06})
    assert recorder.requests == []


def test_to_json_value_refuses_a_float_for_money_inside_a_list_of_rows() -> None:
    with pytest.raises(ValidationError, match="cost is money"):
        to_json_value([{"stage_name": "a", "cost": 1.5}])


def test_to_json_value_accepts_floats_outside_money_fields() -> None:
    assert to_json_value({"metadata": {"bpm": 120.5}}) == {"metadata": {"bpm": 120.5}}


@pytest.mark.parametrize("model", [Job, JobStage, JobCost, CostReservation])
def test_money_fields_cover_every_money_column_of_the_generated_models(model: Any) -> None:
    money = {name for name, info in model.model_fields.items() if "Decimal" in str(info.annotation)}
    assert money
    assert money <= money_fields()


def test_loads_exact_reads_fractions_and_exponents_as_decimal() -> None:
    assert loads_exact('{"a": 0.1, "b": 1e-7, "c": 3}') == {
        "a": Decimal("0.1"),
        "b": Decimal("1E-7"),
        "c": 3,
    }


def test_loads_exact_keeps_booleans_under_money_keys() -> None:
    assert loads_exact('{"cost": true}') == {"cost": True}


async def test_direct_path_reads_json_numbers_as_decimal(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    with psycopg.connect(schema_database, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION public.vg_test_numbers() RETURNS jsonb LANGUAGE sql "
            'AS $$ SELECT \'{"cost": 0.060000, "count": 2}\'::jsonb $$'
        )
    assert await pg_db.call_function("vg_test_numbers") == {"cost": Decimal("0.060000"), "count": 2}
