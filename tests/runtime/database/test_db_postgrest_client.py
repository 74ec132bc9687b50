"""runtime.database (the PostgREST path) at the HTTP boundary.

Requests are checked against the shapes PostgREST expects (paths, query parameters, headers,
JSON bodies) and answered with the bodies and statuses PostgREST really returns, through an
httpx.MockTransport on the client's own bounded httpx.AsyncClient.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from db_support import SERVICE_KEY, SUPABASE_URL, Recorder, pgrst_error, settings_values

from runtime._http import new_http_client
from runtime.config import Settings, override_settings
from runtime.database import (
    MAX_BATCH_OPERATIONS,
    MAX_CONNECTIONS,
    Database,
    DatabaseOptions,
    repeat_is_safe,
    to_json_value,
)
from runtime.errors import (
    BudgetExceededError,
    ConfigError,
    ConflictError,
    DatabaseError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ValidationError,
)
from runtime.testing import capture_logs

JOB = uuid.UUID("6f1c1b0e-8d1c-4a58-9b8e-2f7e4c1d2a10")
ROW = {"id": str(JOB), "status": "queued", "progress": 0}


def database(recorder: Recorder, **kwargs: Any) -> Database:
    client = new_http_client(transport=httpx.MockTransport(recorder))
    return Database(
        options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY, **kwargs),
        http_client=client,
    )


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def db(recorder: Recorder) -> Any:
    client = database(recorder)
    yield client
    await client.http_client.aclose()


# -- request shapes -------------------------------------------------------------------------


async def test_select_sends_get_with_filters_and_service_key(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.append(httpx.Response(200, json=[ROW]))
    result = await db.table("jobs").select("*").eq("id", str(JOB)).execute()
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("GET", "/rest/v1/jobs")
    assert dict(request.url.params) == {"select": "*", "id": f"eq.{JOB}"}
    assert request.headers["apikey"] == SERVICE_KEY
    assert request.headers["authorization"] == f"Bearer {SERVICE_KEY}"
    assert request.headers["accept-profile"] == "public"
    assert result.data == [ROW]


async def test_insert_sends_json_with_exact_values(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(httpx.Response(201, json=[ROW]))
    created = datetime(2025, 11, 14, 10, 30, tzinfo=UTC)
    await (
        db.table("jobs")
        .insert(
            {"id": JOB, "user_id": JOB, "total_cost": Decimal("0.060000"), "completed_at": created}
        )
        .execute()
    )
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("POST", "/rest/v1/jobs")
    assert request.headers["prefer"] == "return=representation"
    assert recorder.body() == {
        "id": str(JOB),
        "user_id": str(JOB),
        "total_cost": "0.060000",
        "completed_at": "2025-11-14T10:30:00+00:00",
    }


async def test_values_given_as_the_json_keyword_are_sent_exactly(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.append(httpx.Response(201, json=[ROW]))
    await db.table("jobs").upsert(json={"id": JOB, "total_cost": Decimal("1.50")}).execute()
    assert recorder.body() == {"id": str(JOB), "total_cost": "1.50"}


def test_query_forwards_the_builders_attributes(db: Database) -> None:
    query = db.table("jobs").select("id")
    assert query.negate_next is False  # a plain attribute of the builder, passed through
    assert query.request is query.builder.request
    assert repr(query) == f"<Query {type(query.builder).__name__}>"


async def test_update_sends_patch_with_filter(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(httpx.Response(200, json=[ROW]))
    await db.table("jobs").update({"progress": 50}).eq("id", str(JOB)).execute()
    request = recorder.requests[0]
    assert (request.method, str(request.url.params)) == ("PATCH", f"id=eq.{JOB}")
    assert recorder.body() == {"progress": 50}


async def test_not_filter_property_keeps_our_policy(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(pgrst_error(400, "42703", "column jobs.nope does not exist"))
    with pytest.raises(DatabaseError):
        await db.table("jobs").select("id").not_.is_("video_url", "null").execute()
    assert recorder.requests[0].url.params["video_url"] == "not.is.null"


async def test_rpc_sends_post_with_named_arguments(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(httpx.Response(200, json={"status": "ok"}))
    data = await db.call_function("reserve_cost", {"p_job_id": JOB, "p_amount": Decimal("0.10")})
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("POST", "/rest/v1/rpc/reserve_cost")
    assert recorder.body() == {"p_job_id": str(JOB), "p_amount": "0.10"}
    assert data == {"status": "ok"}


async def test_call_function_without_params_sends_an_empty_object(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.append(httpx.Response(200, json={"status": "ok"}))
    assert await db.call_function("health") == {"status": "ok"}
    assert recorder.body() == {}


async def test_query_without_operation_cannot_execute(db: Database) -> None:
    with pytest.raises(ValidationError, match="nothing to execute"):
        await db.table("jobs").execute()


def test_table_name_must_be_a_string(db: Database) -> None:
    with pytest.raises(ValidationError):
        db.table("")
    with pytest.raises(ValidationError):
        db.rpc("")


# -- errors ---------------------------------------------------------------------------------


async def test_duplicate_key_becomes_conflict_with_postgrest_fields(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.append(
        pgrst_error(
            409,
            "23505",
            'duplicate key value violates unique constraint "jobs_pkey"',
            details=f"Key (id)=({JOB}) already exists.",
        )
    )
    with pytest.raises(ConflictError) as caught:
        await db.table("jobs").insert(ROW).execute()
    error = caught.value
    assert (error.status_code, error.upstream_code, error.hint) == (409, "23505", None)
    assert error.message == 'duplicate key value violates unique constraint "jobs_pkey"'
    assert error.details["upstream_details"] == f"Key (id)=({JOB}) already exists."
    assert error.retryable is False
    assert len(recorder.requests) == 1


async def test_single_with_no_row_becomes_not_found(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(
        pgrst_error(
            406,
            "PGRST116",
            "Cannot coerce the result to a single JSON object",
            details="The result contains 0 rows",
        )
    )
    with pytest.raises(NotFoundError) as caught:
        await db.table("jobs").select("*").eq("id", str(JOB)).single().execute()
    assert (caught.value.status_code, caught.value.upstream_code) == (406, "PGRST116")
    assert recorder.requests[0].headers["accept"] == "application/vnd.pgrst.object+json"


async def test_budget_error_from_rpc_becomes_budget_exceeded(
    db: Database, recorder: Recorder
) -> None:
    detail = json.dumps({"limit": "20.000000", "requested": "1.000000"})
    recorder.queue.append(
        pgrst_error(400, "VGB01", "budget exceeded for job x", details=detail, hint="Reduce it.")
    )
    with pytest.raises(BudgetExceededError) as caught:
        await db.call_function("reserve_cost", {"p_job_id": JOB}, idempotent=True, job_id=JOB)
    assert caught.value.job_id == JOB
    assert caught.value.details["upstream_details"] == detail
    assert caught.value.details["hint"] == "Reduce it."
    assert len(recorder.requests) == 1


async def test_permission_denied_is_not_retried(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(pgrst_error(403, "42501", "permission denied for table jobs"))
    with pytest.raises(PermissionDeniedError):
        await db.table("jobs").select("*").execute()
    assert len(recorder.requests) == 1


# -- retries --------------------------------------------------------------------------------


def gateway_502() -> httpx.Response:
    return httpx.Response(502, text="<html>502 Bad Gateway</html>")


def kong_503() -> httpx.Response:
    return httpx.Response(
        503, json={"message": "An invalid response was received from the upstream server"}
    )


def pgrst_503() -> httpx.Response:
    return pgrst_error(503, "PGRST001", "Database client error. Retrying the connection.")


async def test_read_is_retried_after_gateway_error(db: Database, recorder: Recorder) -> None:
    recorder.queue.extend([gateway_502(), kong_503(), httpx.Response(200, json=[ROW])])
    with capture_logs() as logs:
        result = await db.table("jobs").select("*").execute()
    assert result.data == [ROW]
    assert len(recorder.requests) == 3
    assert len([m for m in logs.messages if m.startswith("Retrying")]) == 2


async def test_read_gives_up_after_three_attempts(db: Database, recorder: Recorder) -> None:
    recorder.queue.extend([kong_503(), kong_503(), kong_503()])
    with pytest.raises(ServiceUnavailableError) as caught:
        await db.table("jobs").select("*").execute()
    assert len(recorder.requests) == 3
    assert caught.value.status_code == 503
    assert caught.value.retryable is True


async def test_write_is_retried_when_postgrest_could_not_reach_database(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.extend([pgrst_503(), httpx.Response(201, json=[ROW])])
    result = await db.table("jobs").insert(ROW).execute()
    assert result.data == [ROW]
    assert len(recorder.requests) == 2


async def test_write_is_retried_after_connect_error(db: Database, recorder: Recorder) -> None:
    recorder.queue.extend(
        [httpx.ConnectError("connection refused"), httpx.Response(201, json=[ROW])]
    )
    await db.table("jobs").insert(ROW).execute()
    assert len(recorder.requests) == 2


async def test_write_is_not_retried_after_gateway_error(db: Database, recorder: Recorder) -> None:
    recorder.queue.extend([gateway_502(), httpx.Response(201, json=[ROW])])
    with pytest.raises(ServiceUnavailableError) as caught:
        await db.table("jobs").insert(ROW).execute()
    assert len(recorder.requests) == 1
    assert caught.value.retryable is False
    assert "not idempotent" in caught.value.details["not_retried"]


async def test_write_is_not_retried_after_read_timeout(db: Database, recorder: Recorder) -> None:
    recorder.queue.extend([httpx.ReadTimeout("timed out"), httpx.Response(201, json=[ROW])])
    with pytest.raises(ServiceUnavailableError):
        await db.table("jobs").insert(ROW).execute()
    assert len(recorder.requests) == 1


async def test_idempotent_rpc_is_retried_after_read_timeout(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.extend([httpx.ReadTimeout("timed out"), httpx.Response(200, json={"ok": True})])
    assert await db.call_function("settle_cost", {"p_reservation_id": JOB}, idempotent=True) == {
        "ok": True
    }
    assert len(recorder.requests) == 2


async def test_rolled_back_transaction_is_retried(db: Database, recorder: Recorder) -> None:
    recorder.queue.extend(
        [pgrst_error(500, "40001", "could not serialize access"), httpx.Response(200, json=[])]
    )
    assert await db.call_function("apply_batch", {"p_operations": []}) == []
    assert len(recorder.requests) == 2


async def test_bad_request_is_never_retried(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(pgrst_error(400, "22P02", 'invalid input syntax for type uuid: "x"'))
    with pytest.raises(DatabaseError):
        await db.table("jobs").select("*").eq("id", "x").execute()
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("exc", "status", "idempotent", "expected"),
    [
        (httpx.PoolTimeout("pool"), None, False, True),
        (httpx.RemoteProtocolError("closed"), None, False, False),
        (httpx.RemoteProtocolError("closed"), None, True, True),
        (ValueError("x"), None, True, False),
    ],
)
def test_repeat_is_safe(
    exc: Exception, status: int | None, idempotent: bool, expected: bool
) -> None:
    assert repeat_is_safe(exc, status=status, idempotent=idempotent) is expected


# -- health ---------------------------------------------------------------------------------


async def test_health_check_true_when_health_function_answers_ok(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.append(httpx.Response(200, json={"status": "ok", "schema_ready": True}))
    assert await db.health_check() is True
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("GET", "/rest/v1/rpc/health")


async def test_health_check_false_when_schema_missing(db: Database, recorder: Recorder) -> None:
    recorder.queue.append(httpx.Response(200, json={"status": "schema_missing"}))
    assert await db.health_check() is False


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, json={"message": "no healthy upstream"}),
        pgrst_error(
            404,
            "PGRST202",
            "Could not find the function public.health without parameters in the schema cache",
        ),
        httpx.ConnectError("connection refused"),
    ],
)
async def test_health_check_false_on_failure_without_retrying(
    db: Database, recorder: Recorder, answer: Any
) -> None:
    recorder.queue.append(answer)
    assert await db.health_check() is False
    assert len(recorder.requests) == 1


async def test_health_check_false_within_timeout_when_server_hangs(recorder: Recorder) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(10)
        return httpx.Response(200, json={"status": "ok"})

    client = new_http_client(transport=httpx.MockTransport(hang))
    slow = Database(
        options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY), http_client=client
    )
    started = asyncio.get_running_loop().time()
    assert await slow.health_check(timeout_seconds=0.2) is False
    assert asyncio.get_running_loop().time() - started < 1.0
    await client.aclose()


async def test_health_check_false_without_configuration() -> None:
    def broken() -> Any:
        raise ConfigError("SUPABASE_URL is missing")

    assert await Database.lazy(broken).health_check() is False


# -- transactions ---------------------------------------------------------------------------


async def test_transaction_sends_one_apply_batch_call(db: Database, recorder: Recorder) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        operations = json.loads(request.content)["p_operations"]
        return httpx.Response(
            200,
            json=[
                {"op": o["op"], "table": o["table"], "count": 1, "rows": [{"n": i}]}
                for i, o in enumerate(operations)
            ],
        )

    recorder.queue.append(answer)
    async with db.transaction(job_id=JOB) as tx:
        job = await tx.table("jobs").insert({"id": JOB, "user_id": JOB}).execute()
        stages = (
            await tx.table("job_stages")
            .insert(
                [
                    {"job_id": JOB, "stage_name": "audio_analysis"},
                    {"job_id": JOB, "stage_name": "scene_planning"},
                ]
            )
            .execute()
        )
        await tx.table("jobs").update({"status": "processing"}).eq("id", JOB).execute()
        assert recorder.requests == []
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("POST", "/rest/v1/rpc/apply_batch")
    assert recorder.body() == {
        "p_operations": [
            {"op": "insert", "table": "jobs", "values": {"id": str(JOB), "user_id": str(JOB)}},
            {
                "op": "insert",
                "table": "job_stages",
                "values": {"job_id": str(JOB), "stage_name": "audio_analysis"},
            },
            {
                "op": "insert",
                "table": "job_stages",
                "values": {"job_id": str(JOB), "stage_name": "scene_planning"},
            },
            {
                "op": "update",
                "table": "jobs",
                "match": {"id": str(JOB)},
                "values": {"status": "processing"},
            },
        ]
    }
    assert (job.rows, stages.rows) == ([{"n": 0}], [{"n": 1}, {"n": 2}])
    assert tx.results is not None
    assert len(tx.results) == 4


async def test_transaction_batch_is_not_retried_after_gateway_error(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.append(gateway_502())

    async def run() -> None:
        async with db.transaction() as tx:
            await tx.table("jobs").delete().eq("id", JOB).execute()

    with pytest.raises(ServiceUnavailableError):
        await run()
    assert len(recorder.requests) == 1


async def test_transaction_sends_nothing_when_block_raises(
    db: Database, recorder: Recorder
) -> None:
    async def run() -> None:
        async with db.transaction() as tx:
            await tx.table("jobs").insert(ROW).execute()
            raise KeyError("stop")

    with pytest.raises(KeyError):
        await run()
    assert recorder.requests == []


async def test_empty_transaction_sends_nothing(db: Database, recorder: Recorder) -> None:
    async with db.transaction() as tx:
        pass
    assert (recorder.requests, tx.results, tx.state) == ([], [], "committed")


async def test_table_write_inside_transaction_is_refused(db: Database, recorder: Recorder) -> None:
    async def run() -> None:
        async with db.transaction():
            await db.table("jobs").insert(ROW).execute()

    with pytest.raises(ValidationError, match=r"tx\.table"):
        await run()
    assert recorder.requests == []


async def test_reads_and_rpcs_inside_transaction_are_allowed(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.extend([httpx.Response(200, json=[ROW]), httpx.Response(200, json={"ok": 1})])
    async with db.transaction():
        await db.table("jobs").select("*").execute()
        await db.call_function("job_cost_summary", {"p_job_id": JOB})
    assert [r.method for r in recorder.requests] == ["GET", "POST"]


async def test_unexpected_batch_result_is_a_database_error(
    db: Database, recorder: Recorder
) -> None:
    recorder.queue.append(httpx.Response(200, json={"not": "a list"}))

    async def run() -> None:
        async with db.transaction() as tx:
            await tx.table("jobs").insert(ROW).execute()

    with pytest.raises(DatabaseError, match="unexpected result"):
        await run()


async def test_transaction_misuse_is_refused(db: Database) -> None:
    tx = db.transaction()
    with pytest.raises(ValidationError, match="inside `async with"):
        tx.table("jobs")
    async with tx:
        with pytest.raises(ValidationError, match="do not nest"):
            await db.transaction().__aenter__()
        with pytest.raises(ValidationError, match="needs a filter"):
            await tx.table("jobs").delete().execute()
        with pytest.raises(ValidationError, match="takes no filters"):
            tx.table("jobs").insert(ROW).eq("id", JOB)
        with pytest.raises(ValidationError, match="must not be None"):
            tx.table("jobs").update({"progress": 1}).eq("id", None)
        with pytest.raises(ValidationError, match="at least one row"):
            tx.table("jobs").insert([])
        with pytest.raises(ValidationError, match="one mapping"):
            tx.table("jobs").update([{"progress": 1}])  # type: ignore[arg-type]
        write = await tx.table("jobs").update({"progress": 1}).eq("id", JOB).execute()
        with pytest.raises(ValidationError, match="already queued"):
            await write.execute()
        with pytest.raises(ValidationError, match="already queued"):
            write.eq("status", "queued")
        assert len(tx.operations) == 1
        tx._operations.clear()  # leave nothing to send
        tx._queued.clear()
        for pending in list(tx._writes):
            pending.queued = True
    with pytest.raises(ValidationError, match="only once"):
        await tx.__aenter__()


async def test_transaction_holds_at_most_max_operations(db: Database) -> None:
    async with db.transaction() as tx:
        with pytest.raises(ValidationError, match=f"at most {MAX_BATCH_OPERATIONS}"):
            await (
                tx.table("job_stages")
                .insert([{"stage_name": "x"}] * (MAX_BATCH_OPERATIONS + 1))
                .execute()
            )
        tx._writes.clear()


# -- lifecycle ------------------------------------------------------------------------------


async def test_aclose_closes_the_client_it_built() -> None:
    client = Database(options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY))
    http = client.http_client
    limits = http._transport._pool  # type: ignore[attr-defined]
    assert limits._max_connections == 10
    assert http.timeout.read == 10.0
    assert http.timeout.connect == 5.0
    await client.aclose()
    assert http.is_closed
    with pytest.raises(DatabaseError, match="closed") as caught:
        client.table("jobs")
    assert caught.value.code == "client_closed"


async def test_aclose_leaves_an_injected_client_open(recorder: Recorder) -> None:
    injected = new_http_client(transport=httpx.MockTransport(recorder))
    async with Database(
        options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY), http_client=injected
    ) as client:
        assert client.http_client is injected
    assert not injected.is_closed
    await injected.aclose()


async def test_lazy_client_reads_settings_on_first_use_and_reopens_after_close() -> None:
    lazy = Database.lazy(DatabaseOptions.from_settings)
    assert lazy._options is None
    settings = Settings(
        _env_file=None, **settings_values(db_pool_max_connections=4, http_timeout_seconds=3.5)
    )
    with override_settings(settings):
        assert lazy.options.max_connections == 4
        first = lazy.http_client
        assert first.timeout.read == 3.5
        assert str(lazy.client.rest_url) == "http://localhost:54321/rest/v1"
        await lazy.aclose()
        assert first.is_closed
        second = lazy.http_client
        assert second is not first
        await lazy.aclose()


def test_module_db_is_the_lazy_singleton() -> None:
    import runtime.database
    import runtime.db
    from runtime.database import db

    assert runtime.db.db is db
    assert set(runtime.db.__all__) <= set(dir(runtime.db))
    from runtime.db._common import money_fields

    assert money_fields() == runtime.database.MONEY_FIELDS  # the former constant
    assert not hasattr(runtime.db, "to_json_value")  # plumbing: private, or runtime.database
    with pytest.raises(AttributeError):
        runtime.db.get_database  # noqa: B018 - deleted: it only returned db
    with pytest.raises(AttributeError):
        runtime.database.get_database  # noqa: B018


@pytest.mark.parametrize(
    ("name", "loaded", "not_loaded"),
    [
        ("pg", {"psycopg", "psycopg_pool"}, {"postgrest", "supabase", "httpx", "generated"}),
        ("db", {"postgrest", "httpx"}, {"psycopg", "psycopg_pool", "supabase", "generated"}),
        ("Transaction", set(), {"psycopg", "postgrest", "supabase", "httpx", "generated"}),
    ],
)
def test_each_path_loads_only_its_own_backend(
    name: str, loaded: set[str], not_loaded: set[str]
) -> None:
    script = (
        f"import sys\nfrom runtime.db import {name}\n"
        f"print(sorted(m for m in {sorted(loaded | not_loaded)!r} if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=root
    )
    assert done.stdout.strip() == repr(sorted(loaded)), done.stderr


def test_importing_opens_nothing_and_reads_no_configuration() -> None:
    script = (
        "import runtime.database as d, runtime.postgres as p, runtime.cost_tracking as c\n"
        "assert d.db._options is None and d.db._client is None and d.db._http is None\n"
        "assert p.pg._options is None and p.pg._pool is None\n"
        "assert c.cost_tracker.database is d.db\n"
        "import sys; assert 'supabase' not in sys.modules\n"
        "print('ok')\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert done.stdout.strip() == "ok", done.stderr


def test_settings_refuse_more_than_ten_database_connections() -> None:
    assert Settings(_env_file=None, **settings_values(db_pool_max_connections=10))
    with pytest.raises(ConfigError, match="DB_POOL_MAX_CONNECTIONS") as caught:
        Settings(_env_file=None, **settings_values(db_pool_max_connections=11))
    assert "1 to 10" in str(caught.value)


def test_client_refuses_more_than_ten_connections() -> None:
    assert Database(
        options=DatabaseOptions(
            url=SUPABASE_URL, service_key=SERVICE_KEY, max_connections=MAX_CONNECTIONS
        )
    )
    with pytest.raises(ConfigError, match="max_connections"):
        Database(
            options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY, max_connections=11)
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_connections": 0},
        {"max_attempts": 11},
        {"timeout_seconds": 0},
        {"retry_base_delay_seconds": -1},
        {"schema": "public"},  # an option nobody set, deleted: refused like any unknown one
    ],
)
def test_bad_bounds_raise_config_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Database(options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY, **kwargs))


def test_missing_url_or_key_raises_config_error() -> None:
    with pytest.raises(ConfigError):
        Database(options=DatabaseOptions(url=SUPABASE_URL))
    with pytest.raises(ConfigError, match="http"):
        Database(options=DatabaseOptions(url="localhost:54321", service_key=SERVICE_KEY))
    with pytest.raises(ConfigError, match="empty"):
        Database(options=DatabaseOptions(url=SUPABASE_URL, service_key=""))


# -- JSON values ----------------------------------------------------------------------------


def test_to_json_value_converts_exactly() -> None:
    from enum import Enum

    from pydantic import BaseModel

    class Colour(Enum):
        RED = "red"

    class Model(BaseModel):
        amount: Decimal

    value = {"a": [JOB, Decimal("1.10"), Colour.RED, (1, 2.5)], "m": Model(amount=Decimal("2.5"))}
    assert to_json_value(value) == {
        "a": [str(JOB), "1.10", "red", [1, 2.5]],
        "m": {"amount": "2.5"},
    }


def test_to_json_value_converts_subclasses_as_their_base() -> None:
    class Text(str):
        pass

    class Number(float):
        pass

    class Amount(Decimal):
        pass

    class Count(int):
        pass

    class Id(uuid.UUID):
        pass

    values = [Text("a"), Number(1.5), Amount("2.50"), Count(3), Id(str(JOB)), (1, Text("b"))]
    assert to_json_value(values) == ["a", 1.5, "2.50", 3, str(JOB), [1, "b"]]
    for bad in (Text("a\x00"), Number("nan"), Amount("NaN")):
        with pytest.raises(ValidationError):
            to_json_value(bad)


@pytest.mark.parametrize("value", [float("nan"), Decimal("Infinity"), {1: "x"}, {"x": object()}])
def test_to_json_value_rejects_what_cannot_be_sent(value: Any) -> None:
    with pytest.raises(ValidationError):
        to_json_value(value)


# -- the call deadline ---------------------------------------------------------------------


def slow_database(seconds: float, **kwargs: Any) -> Database:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(seconds)
        return httpx.Response(200, json=[ROW])

    client = new_http_client(transport=httpx.MockTransport(handler))
    return Database(
        options=DatabaseOptions(url=SUPABASE_URL, service_key=SERVICE_KEY, **kwargs),
        http_client=client,
    )


async def test_a_read_that_outlives_the_deadline_fails_at_the_deadline() -> None:
    slow = slow_database(5.0, call_deadline_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as caught:
        await slow.table("jobs").select("*").execute()
    elapsed = time.monotonic() - started
    await slow.http_client.aclose()
    assert elapsed < 0.3 + 0.5
    assert caught.value.code == "deadline_exceeded"
    assert caught.value.retryable is True  # a read: a caller may try again later


async def test_a_write_that_outlives_the_deadline_is_not_retryable() -> None:
    slow = slow_database(5.0, call_deadline_seconds=0.3)
    with pytest.raises(ServiceUnavailableError) as caught:
        await slow.table("jobs").insert({"id": JOB}).execute()
    await slow.http_client.aclose()
    assert caught.value.code == "deadline_exceeded"
    assert caught.value.retryable is False  # it may have been applied


def test_keyword_options_build_the_same_options_as_options() -> None:
    client = Database(url=SUPABASE_URL, service_key=SERVICE_KEY, max_attempts=5)
    assert client.options == DatabaseOptions(
        url=SUPABASE_URL, service_key=SERVICE_KEY, max_attempts=5
    )


def test_a_client_missing_a_required_option_is_refused() -> None:
    with pytest.raises(ConfigError, match="service_key"):
        Database(url=SUPABASE_URL)
