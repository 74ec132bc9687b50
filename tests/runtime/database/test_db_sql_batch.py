"""apply_batch on the real PostgreSQL: atomic, allow-listed, values bound never spliced."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from db_support import (
    fetch_all,
    fetch_one,
    make_job,
    make_stage,
    scratch_database,
    service_connection,
)
from psycopg.types.json import Jsonb

AUDIO = "https://example.com/audio/song.mp3"


@pytest.fixture(scope="module")
def shared_database() -> Iterator[str]:
    """For the tests whose batches are refused before they change anything."""
    with scratch_database() as dsn:
        yield dsn


def batch(dsn: str, operations: Any) -> Any:
    with service_connection(dsn) as conn:
        row = conn.execute(
            "SELECT public.apply_batch(p_operations => %s) AS result", (Jsonb(operations),)
        ).fetchone()
    assert row is not None
    return row["result"]


def new_job(**values: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "audio_url": AUDIO,
        "user_prompt": "a prompt",
        **values,
    }


def test_batch_applies_inserts_in_order_and_returns_rows(schema_database: str) -> None:
    job = new_job()
    result = batch(
        schema_database,
        [
            {"op": "insert", "table": "jobs", "values": job},
            {
                "op": "insert",
                "table": "job_stages",
                "values": {"job_id": job["id"], "stage_name": "audio_analysis"},
            },
        ],
    )
    assert [(r["op"], r["table"], r["count"]) for r in result] == [
        ("insert", "jobs", 1),
        ("insert", "job_stages", 1),
    ]
    assert result[0]["rows"][0]["status"] == "queued"
    assert result[1]["rows"][0]["status"] == "pending"


def test_batch_returns_money_columns_as_decimal_strings(schema_database: str) -> None:
    job = new_job()
    result = batch(
        schema_database,
        [
            {"op": "insert", "table": "jobs", "values": job},
            {
                "op": "insert",
                "table": "job_stages",
                "values": {"job_id": job["id"], "stage_name": "audio_analysis"},
            },
            {
                "op": "update",
                "table": "jobs",
                "values": {"progress": 5},
                "match": {"id": job["id"]},
            },
        ],
    )
    inserted, stage, updated = (item["rows"][0] for item in result)
    money = [
        inserted["total_cost"],
        inserted["reserved_cost"],
        stage["cost"],
        updated["total_cost"],
    ]
    assert all(isinstance(value, str) for value in money)
    assert [Decimal(value) for value in money] == [Decimal(0)] * 4
    assert updated["progress"] == 5


def test_batch_money_strings_validate_into_the_generated_models(schema_database: str) -> None:
    from generated.job import Job, JobStage

    job = new_job()
    result = batch(
        schema_database,
        [
            {"op": "insert", "table": "jobs", "values": job},
            {
                "op": "insert",
                "table": "job_stages",
                "values": {"job_id": job["id"], "stage_name": "audio_analysis"},
            },
        ],
    )
    assert Job.model_validate_json(json.dumps(result[0]["rows"][0])).total_cost == Decimal(0)
    assert JobStage.model_validate_json(json.dumps(result[1]["rows"][0])).cost == Decimal(0)


def test_batch_is_all_or_nothing(schema_database: str) -> None:
    job = new_job()
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        batch(
            schema_database,
            [
                {"op": "insert", "table": "jobs", "values": job},
                {
                    "op": "insert",
                    "table": "job_stages",
                    "values": {"job_id": str(uuid.uuid4()), "stage_name": "audio_analysis"},
                },
            ],
        )
    assert fetch_one(schema_database, "SELECT count(*) AS n FROM public.jobs")["n"] == 0


def test_batch_update_changes_only_matched_rows(schema_database: str) -> None:
    first, second = make_job(schema_database), make_job(schema_database)
    result = batch(
        schema_database,
        [
            {
                "op": "update",
                "table": "jobs",
                "values": {"status": "processing", "progress": 10},
                "match": {"id": str(first)},
            }
        ],
    )
    assert result[0]["count"] == 1
    rows = fetch_all(schema_database, "SELECT id, status FROM public.jobs ORDER BY status")
    assert {r["id"]: r["status"] for r in rows} == {first: "processing", second: "queued"}


def test_batch_upsert_inserts_then_updates_on_natural_key(schema_database: str) -> None:
    job = make_job(schema_database)
    stage = {"job_id": str(job), "stage_name": "video_generation", "status": "processing"}
    batch(schema_database, [{"op": "upsert", "table": "job_stages", "values": stage}])
    batch(
        schema_database,
        [{"op": "upsert", "table": "job_stages", "values": {**stage, "status": "completed"}}],
    )
    rows = fetch_all(
        schema_database, "SELECT status FROM public.job_stages WHERE job_id = %s", (job,)
    )
    assert rows == [{"status": "completed"}]


def test_batch_delete_by_match(schema_database: str) -> None:
    job = make_job(schema_database)
    make_stage(schema_database, job, "audio_analysis")
    make_stage(schema_database, job, "scene_planning")
    result = batch(
        schema_database,
        [
            {
                "op": "delete",
                "table": "job_stages",
                "match": {"job_id": str(job), "stage_name": "audio_analysis"},
            }
        ],
    )
    assert result[0]["count"] == 1
    rows = fetch_all(schema_database, "SELECT stage_name FROM public.job_stages")
    assert rows == [{"stage_name": "scene_planning"}]


def test_batch_values_are_bound_not_spliced(schema_database: str) -> None:
    hostile = "x'); DROP TABLE public.jobs; --"
    job = new_job(user_prompt=hostile)
    batch(schema_database, [{"op": "insert", "table": "jobs", "values": job}])
    row = fetch_one(
        schema_database, "SELECT user_prompt FROM public.jobs WHERE id = %s", (job["id"],)
    )
    assert row["user_prompt"] == hostile


def test_batch_column_names_are_checked_not_spliced(shared_database: str) -> None:
    job = new_job()
    job["status\" = 'failed' --"] = "x"
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="is not allowed"):
        batch(shared_database, [{"op": "insert", "table": "jobs", "values": job}])


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "insert", "table": "job_costs", "values": {"cost": 1}},
            "table job_costs is not allowed",
        ),
        ({"op": "insert", "table": "cost_reservations", "values": {"amount": 1}}, "not allowed"),
        ({"op": "insert", "table": "pg_authid", "values": {"rolname": "x"}}, "not allowed"),
        (
            {"op": "update", "table": "jobs", "values": {"total_cost": 0}, "match": {"id": "x"}},
            "column total_cost is not allowed",
        ),
        (
            {"op": "update", "table": "jobs", "values": {"reserved_cost": 0}, "match": {"id": "x"}},
            "not allowed",
        ),
        (
            {"op": "update", "table": "jobs", "values": {"user_id": "x"}, "match": {"id": "x"}},
            "not allowed",
        ),
        (
            {"op": "update", "table": "job_stages", "values": {"cost": 0}, "match": {"id": "x"}},
            "not allowed",
        ),
        (
            {"op": "update", "table": "jobs", "values": {"status": "failed"}},
            '"match" must be a non-empty',
        ),
        (
            {"op": "update", "table": "jobs", "values": {"status": "failed"}, "match": {}},
            '"match" must be a non-empty',
        ),
        (
            {"op": "delete", "table": "jobs", "match": {"status": "failed"}},
            'column status is not allowed in "match"',
        ),
        ({"op": "delete", "table": "jobs", "match": {"id": None}}, "must not be null"),
        ({"op": "delete", "table": "jobs", "match": {"id": "x"}, "values": {"a": 1}}, "takes no"),
        ({"op": "insert", "table": "jobs", "values": {}}, "non-empty"),
        (
            {"op": "insert", "table": "jobs", "values": {"id": "x"}, "match": {"id": "x"}},
            "takes no",
        ),
        (
            {"op": "upsert", "table": "job_stages", "values": {"stage_name": "a"}},
            "conflict columns",
        ),
        ({"op": "truncate", "table": "jobs"}, "op must be one of"),
        ({"op": "insert", "table": "jobs", "values": {"id": "x"}, "where": "1=1"}, "unknown key"),
        ("not an object", "must be a JSON object"),
    ],
)
def test_batch_rejects_disallowed_operations(
    shared_database: str, operation: Any, message: str
) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        batch(shared_database, [operation])


def test_batch_error_names_the_operation_position(shared_database: str) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="batch operation 2:"):
        batch(
            shared_database,
            [{"op": "insert", "table": "jobs", "values": new_job()}, {"op": "drop"}],
        )


def test_batch_rejects_non_array(shared_database: str) -> None:
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="JSON array"):
        batch(shared_database, {"op": "insert"})


def test_batch_rejects_more_than_1000_operations(shared_database: str) -> None:
    operations = [{"op": "insert", "table": "jobs", "values": new_job()}] * 1001
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="at most 1000"):
        batch(shared_database, operations)


def test_batch_reports_bad_value_with_postgres_code(shared_database: str) -> None:
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        batch(
            shared_database, [{"op": "insert", "table": "jobs", "values": new_job(progress="lots")}]
        )


def test_empty_batch_returns_empty_list(shared_database: str) -> None:
    assert batch(shared_database, []) == []
