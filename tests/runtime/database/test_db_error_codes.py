"""Our SQL functions' error codes map to our errors, the same way on both database paths.

The direct path raises psycopg errors; PostgREST sends the same error as JSON (code, details,
hint, message) with an HTTP status. Both must translate to the same class and fields.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from db_support import make_job, postgrest_error_body, service_connection
from postgrest.exceptions import APIError

from runtime.error_mapping import translate_exception
from runtime.errors import BudgetExceededError, ConflictError, NotFoundError, PipelineError


def sql_error(dsn: str, statement: str, params: Any) -> psycopg.Error:
    with service_connection(dsn) as conn:
        try:
            conn.execute(statement, params)
        except psycopg.Error as exc:
            return exc
    raise AssertionError("the statement did not fail")


def both_paths(exc: psycopg.Error) -> tuple[PipelineError, PipelineError]:
    direct = translate_exception(exc, service="database")
    over_http = translate_exception(APIError(postgrest_error_body(exc)), service="database")
    return direct, over_http


def test_missing_job_is_not_found_on_both_paths(schema_database: str) -> None:
    exc = sql_error(
        schema_database,
        "SELECT public.record_cost(%s, 'audio_analysis', 'whisper', 0.1, NULL)",
        (uuid.uuid4(),),
    )
    for error in both_paths(exc):
        assert isinstance(error, NotFoundError)
        assert error.upstream_code == "P0002"
        assert "not found" in error.message


def test_settle_after_release_is_a_conflict_on_both_paths(schema_database: str) -> None:
    job = make_job(schema_database)
    with service_connection(schema_database) as conn:
        held = conn.execute(
            "SELECT public.reserve_cost(%s, 'video_generation', 'svd', 1, 20, NULL) AS r", (job,)
        ).fetchone()
        assert held is not None
        conn.execute("SELECT public.release_cost(%s)", (held["r"]["reservation_id"],))
    exc = sql_error(
        schema_database,
        "SELECT public.settle_cost(%s, 1)",
        (held["r"]["reservation_id"],),
    )
    for error in both_paths(exc):
        assert isinstance(error, ConflictError)
        assert error.upstream_code == "55000"


def test_budget_exceeded_keeps_figures_on_both_paths(schema_database: str) -> None:
    job = make_job(schema_database)
    exc = sql_error(
        schema_database,
        "SELECT public.reserve_cost(%s, 'video_generation', 'svd', %s, 20, NULL)",
        (job, Decimal("20.01")),
    )
    direct, over_http = both_paths(exc)
    for error in (direct, over_http):
        assert isinstance(error, BudgetExceededError)
        assert error.retryable is False
        assert "requested 20.010000" in error.message
        assert '"limit": "20.000000"' in error.details["upstream_details"]
    assert direct.to_dict() == over_http.to_dict()


@pytest.mark.parametrize("path", ["direct", "postgrest"])
def test_idempotency_conflict_is_conflict_error(schema_database: str, path: str) -> None:
    job = make_job(schema_database)
    statement = "SELECT public.record_cost(%s, 'audio_analysis', 'whisper', %s, 'k')"
    with service_connection(schema_database) as conn:
        conn.execute(statement, (job, Decimal("0.1")))
    exc = sql_error(schema_database, statement, (job, Decimal("0.2")))
    direct, over_http = both_paths(exc)
    error = direct if path == "direct" else over_http
    assert isinstance(error, ConflictError)
    assert "recorded: stage=audio_analysis" in error.details["upstream_details"]


def test_replay_of_a_settled_reservation_is_a_conflict_on_both_paths(schema_database: str) -> None:
    job = make_job(schema_database)
    reserve = "SELECT public.reserve_cost(%s, 'video_generation', 'svd', 1, 20, 'clip-1') AS r"
    with service_connection(schema_database) as conn:
        held = conn.execute(reserve, (job,)).fetchone()
        assert held is not None
        conn.execute("SELECT public.settle_cost(%s, 1)", (held["r"]["reservation_id"],))
    direct, over_http = both_paths(sql_error(schema_database, reserve, (job,)))
    for error in (direct, over_http):
        assert isinstance(error, ConflictError)
        assert error.upstream_code == "VGB02"
        assert error.retryable is False
        assert "already settled" in error.message
    assert direct.to_dict() == over_http.to_dict()


def test_settle_past_the_limit_is_budget_exceeded_on_both_paths(schema_database: str) -> None:
    job = make_job(schema_database)
    with service_connection(schema_database) as conn:
        held = conn.execute(
            "SELECT public.reserve_cost(%s, 'video_generation', 'svd', 1, 20, NULL) AS r", (job,)
        ).fetchone()
    assert held is not None
    exc = sql_error(
        schema_database,
        "SELECT public.settle_cost(%s, 100, 20)",
        (held["r"]["reservation_id"],),
    )
    direct, over_http = both_paths(exc)
    for error in (direct, over_http):
        assert isinstance(error, BudgetExceededError)
        assert '"actual_cost": "100.000000"' in error.details["upstream_details"]
    assert direct.to_dict() == over_http.to_dict()
