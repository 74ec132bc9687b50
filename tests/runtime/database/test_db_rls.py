"""Row-level security and privileges, proved by switching role and claims the way PostgREST does.

service_role: full access. authenticated: reads only its own jobs and their stages and costs,
writes nothing, no reservations, no functions. anon: nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from db_support import (
    as_api_role,
    fetch_all,
    make_job,
    make_stage,
    scratch_database,
    service_connection,
)
from psycopg.types.json import Jsonb

SHIM_SQL = Path(__file__).parents[2] / "support" / "supabase_shim.sql"

TABLES = ("jobs", "job_stages", "job_costs", "cost_reservations")
FUNCTIONS = (
    "record_cost(uuid, text, text, numeric, text, numeric)",
    "reserve_cost(uuid, text, text, numeric, numeric, text, integer)",
    "release_expired_reservations(uuid)",
    "_vg_release_expired(uuid)",
    "settle_cost(uuid, numeric, numeric)",
    "_vg_budget_exceeded(text, uuid, numeric, numeric, numeric, numeric, jsonb, text)",
    "_vg_reservation_replay(public.cost_reservations, text, text, numeric, numeric, text)",
    "release_cost(uuid)",
    "job_cost_summary(uuid)",
    "apply_batch(jsonb)",
    "health()",
)


def user_claims(user_id: uuid.UUID) -> dict[str, str]:
    return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture(scope="module")
def rls_database() -> Iterator[str]:
    """One database for this module: every test below only reads or rolls back."""
    with scratch_database() as dsn:
        yield dsn


@pytest.fixture(scope="module")
def two_users(rls_database: str) -> dict[str, uuid.UUID]:
    """Alice owns a job with a stage, a cost and a reservation; Bob owns another job."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    alice_job = make_job(rls_database, user_id=alice)
    bob_job = make_job(rls_database, user_id=bob)
    for job in (alice_job, bob_job):
        make_stage(rls_database, job, "audio_analysis")
        with service_connection(rls_database) as conn:
            conn.execute(
                "SELECT public.record_cost(%s, 'audio_analysis', 'whisper', 0.10, NULL)", (job,)
            )
            conn.execute(
                "SELECT public.reserve_cost(%s, 'video_generation', 'svd', 1, 20, NULL)", (job,)
            )
    return {"alice": alice, "bob": bob, "alice_job": alice_job, "bob_job": bob_job}


@pytest.fixture
def schema_database(rls_database: str) -> str:
    """This module's shared database (overrides the per-test fixture of the same name)."""
    return rls_database


def test_every_public_table_has_row_level_security_enabled(schema_database: str) -> None:
    rows = fetch_all(
        schema_database,
        "SELECT relname, relrowsecurity FROM pg_class "
        "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')",
    )
    assert {r["relname"] for r in rows} >= set(TABLES)
    assert all(r["relrowsecurity"] for r in rows), rows


def test_auth_uid_reads_sub_from_request_claims(schema_database: str) -> None:
    user = uuid.uuid4()
    with as_api_role(schema_database, "authenticated", user_claims(user)) as conn:
        row = conn.execute("SELECT auth.uid() AS uid, auth.role() AS role").fetchone()
    assert row == {"uid": user, "role": "authenticated"}


def test_authenticated_user_reads_only_own_job(
    schema_database: str, two_users: dict[str, uuid.UUID]
) -> None:
    with as_api_role(schema_database, "authenticated", user_claims(two_users["alice"])) as conn:
        rows = conn.execute("SELECT id FROM public.jobs").fetchall()
    assert rows == [{"id": two_users["alice_job"]}]


@pytest.mark.parametrize("table", ["job_stages", "job_costs"])
def test_authenticated_user_reads_only_own_jobs_children(
    schema_database: str, two_users: dict[str, uuid.UUID], table: str
) -> None:
    with as_api_role(schema_database, "authenticated", user_claims(two_users["alice"])) as conn:
        rows = conn.execute(f"SELECT job_id FROM public.{table}").fetchall()
    assert rows == [{"job_id": two_users["alice_job"]}]


def test_authenticated_without_sub_sees_no_jobs(
    schema_database: str, two_users: dict[str, uuid.UUID]
) -> None:
    with as_api_role(schema_database, "authenticated", {"role": "authenticated"}) as conn:
        assert conn.execute("SELECT id FROM public.jobs").fetchall() == []


def test_authenticated_cannot_read_reservations(
    schema_database: str, two_users: dict[str, uuid.UUID]
) -> None:
    with (
        as_api_role(schema_database, "authenticated", user_claims(two_users["alice"])) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT * FROM public.cost_reservations")


WRITES = [
    (
        "INSERT INTO public.jobs (user_id, audio_url, user_prompt) "
        "VALUES ({alice}, 'https://example.com/a.mp3', 'p')"
    ),
    "UPDATE public.jobs SET progress = 50 WHERE id = {alice_job}",
    "UPDATE public.jobs SET total_cost = 0 WHERE id = {alice_job}",
    "DELETE FROM public.jobs WHERE id = {alice_job}",
    "INSERT INTO public.job_stages (job_id, stage_name) VALUES ({alice_job}, 'scene_planning')",
    "UPDATE public.job_stages SET status = 'failed'",
    "DELETE FROM public.job_stages",
    (
        "INSERT INTO public.job_costs (job_id, stage_name, api_name, cost) "
        "VALUES ({alice_job}, 'audio_analysis', 'x', 0)"
    ),
    "DELETE FROM public.job_costs",
    "TRUNCATE public.jobs CASCADE",
    "TRUNCATE public.job_costs",
]


@pytest.mark.parametrize("statement", WRITES)
@pytest.mark.parametrize("role", ["authenticated", "anon"])
def test_api_roles_cannot_write(
    schema_database: str, two_users: dict[str, uuid.UUID], statement: str, role: str
) -> None:
    sql = statement.format(alice=f"'{two_users['alice']}'", alice_job=f"'{two_users['alice_job']}'")
    claims = user_claims(two_users["alice"]) if role == "authenticated" else {"role": "anon"}
    with (
        as_api_role(schema_database, role, claims) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.mark.parametrize("table", TABLES)
def test_anon_cannot_read(
    schema_database: str, two_users: dict[str, uuid.UUID], table: str
) -> None:
    with (
        as_api_role(schema_database, "anon") as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(f"SELECT * FROM public.{table}")  # type: ignore[arg-type]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("role", ["authenticated", "anon"])
def test_api_roles_cannot_execute_our_functions(
    schema_database: str, function: str, role: str
) -> None:
    with as_api_role(schema_database, role) as conn:
        allowed = conn.execute(
            "SELECT has_function_privilege(%s, %s, 'EXECUTE') AS ok", (role, f"public.{function}")
        ).fetchone()
    assert allowed == {"ok": False}


def test_earlier_cost_function_signatures_without_a_limit_are_gone(schema_database: str) -> None:
    found = fetch_all(
        schema_database,
        "SELECT p.oid::regprocedure::text AS signature FROM pg_proc p "
        "WHERE p.proname IN ('record_cost', 'settle_cost') ORDER BY 1",
    )
    assert [row["signature"] for row in found] == [
        "record_cost(uuid,text,text,numeric,text,numeric)",
        "settle_cost(uuid,numeric,numeric)",
    ]


def test_authenticated_call_to_reserve_cost_is_denied(
    schema_database: str, two_users: dict[str, uuid.UUID]
) -> None:
    with (
        as_api_role(schema_database, "authenticated", user_claims(two_users["alice"])) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(
            "SELECT public.reserve_cost(%s, 'video_generation', 'svd', 0, 1000, NULL)",
            (two_users["alice_job"],),
        )


@pytest.mark.parametrize("table", TABLES)
def test_service_role_reads_every_row(
    schema_database: str, two_users: dict[str, uuid.UUID], table: str
) -> None:
    with as_api_role(schema_database, "service_role") as conn:
        column = "id" if table == "jobs" else "job_id"
        rows = conn.execute(f"SELECT {column} AS job_id FROM public.{table}").fetchall()  # type: ignore[arg-type]
    assert {r["job_id"] for r in rows} == {two_users["alice_job"], two_users["bob_job"]}


def test_service_role_writes_every_table_and_calls_functions(
    schema_database: str, two_users: dict[str, uuid.UUID]
) -> None:
    job = two_users["bob_job"]
    with as_api_role(schema_database, "service_role") as conn:
        conn.execute("UPDATE public.jobs SET progress = 40 WHERE id = %s", (job,))
        conn.execute("UPDATE public.job_stages SET status = 'completed' WHERE job_id = %s", (job,))
        conn.execute("DELETE FROM public.cost_reservations WHERE job_id = %s", (job,))
        recorded = conn.execute(
            "SELECT public.record_cost(%s, 'scene_planning', 'gpt-4o', 0.02, NULL) AS r", (job,)
        ).fetchone()
        batch = conn.execute(
            "SELECT public.apply_batch(%s) AS r",
            (
                Jsonb(
                    [
                        {
                            "op": "update",
                            "table": "jobs",
                            "values": {"progress": 60},
                            "match": {"id": str(job)},
                        }
                    ]
                ),
            ),
        ).fetchone()
        progress = conn.execute("SELECT progress FROM public.jobs WHERE id = %s", (job,)).fetchone()
    assert recorded is not None
    assert Decimal(recorded["r"]["total_cost"]) == Decimal("0.12")
    assert batch is not None
    assert batch["r"][0]["count"] == 1
    assert progress == {"progress": 60}


def test_shim_can_be_applied_again(schema_database: str) -> None:
    with psycopg.connect(schema_database, autocommit=True) as conn:
        conn.execute(SHIM_SQL.read_text(encoding="utf-8"))  # type: ignore[call-overload]
        assert conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'service_role'"
        ).fetchone() == (1,)
