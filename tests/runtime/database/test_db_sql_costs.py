"""The cost SQL functions on the real PostgreSQL, called as service_role."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from db_support import fetch_all, fetch_one, job_money, make_job, make_stage, service_connection


def call(dsn: str, function: str, **params: Any) -> Any:
    args = ", ".join(f"{name} => %({name})s" for name in params)
    with service_connection(dsn) as conn:
        row = conn.execute(f"SELECT public.{function}({args}) AS result", params).fetchone()
    assert row is not None
    return row["result"]


def record(dsn: str, job_id: uuid.UUID, cost: str, key: str | None = None, **extra: Any) -> Any:
    return call(
        dsn,
        "record_cost",
        p_job_id=job_id,
        p_stage_name=extra.get("stage", "video_generation"),
        p_api_name=extra.get("api", "svd"),
        p_cost=Decimal(cost),
        p_idempotency_key=key,
    )


def reserve(
    dsn: str, job_id: uuid.UUID, amount: str, limit: str = "20", key: str | None = None
) -> Any:
    return call(
        dsn,
        "reserve_cost",
        p_job_id=job_id,
        p_stage_name="video_generation",
        p_api_name="svd",
        p_amount=Decimal(amount),
        p_limit=Decimal(limit),
        p_idempotency_key=key,
    )


# -- record_cost ----------------------------------------------------------------------------


def test_record_cost_adds_ledger_row_and_total(schema_database: str) -> None:
    job = make_job(schema_database)
    result = record(schema_database, job, "0.06")
    assert result["recorded"] is True
    assert result["total_cost"] == "0.060000"
    assert job_money(schema_database, job) == (Decimal("0.06"), Decimal(0), Decimal("0.06"))
    row = fetch_one(
        schema_database, "SELECT * FROM public.job_costs WHERE id = %s", (result["cost_id"],)
    )
    assert (row["stage_name"], row["api_name"], row["cost"]) == (
        "video_generation",
        "svd",
        Decimal("0.06"),
    )


def test_record_cost_with_same_key_charges_once(schema_database: str) -> None:
    job = make_job(schema_database)
    first = record(schema_database, job, "0.50", key="clip-1")
    again = record(schema_database, job, "0.50", key="clip-1")
    assert again["recorded"] is False
    assert again["cost_id"] == first["cost_id"]
    assert job_money(schema_database, job) == (Decimal("0.5"), Decimal(0), Decimal("0.5"))


def test_record_cost_same_key_different_amount_is_a_conflict(schema_database: str) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "0.50", key="clip-1")
    with pytest.raises(psycopg.errors.UniqueViolation, match="different arguments"):
        record(schema_database, job, "0.70", key="clip-1")
    assert job_money(schema_database, job)[0] == Decimal("0.5")


def test_record_cost_for_missing_job_raises_no_data_found(schema_database: str) -> None:
    with pytest.raises(psycopg.errors.NoDataFound, match="not found"):
        record(schema_database, uuid.uuid4(), "0.10")


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("-0.01", "must be >= 0"),
        ("0.0000001", "more than 6 decimal places"),
        ("1000000000000", "out of range"),
    ],
)
def test_record_cost_rejects_bad_amounts(schema_database: str, cost: str, message: str) -> None:
    job = make_job(schema_database)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        record(schema_database, job, cost)


def test_record_cost_rejects_reserved_key_prefix(schema_database: str) -> None:
    job = make_job(schema_database)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="reserved"):
        record(schema_database, job, "0.10", key="reservation:x")


def test_record_cost_rejects_empty_stage(schema_database: str) -> None:
    job = make_job(schema_database)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="stage_name must not be empty"):
        record(schema_database, job, "0.10", stage=" ")


def test_record_cost_adds_to_existing_stage_row(schema_database: str) -> None:
    job = make_job(schema_database)
    make_stage(schema_database, job, "video_generation")
    record(schema_database, job, "0.25")
    record(schema_database, job, "0.25")
    stage = fetch_one(
        schema_database, "SELECT cost FROM public.job_stages WHERE job_id = %s", (job,)
    )
    assert stage["cost"] == Decimal("0.5")


# -- reserve / settle / release --------------------------------------------------------------


def test_reserve_holds_amount_within_limit(schema_database: str) -> None:
    job = make_job(schema_database)
    result = reserve(schema_database, job, "5.00")
    assert (result["status"], result["replayed"], result["reserved_cost"]) == (
        "held",
        False,
        "5.000000",
    )
    assert job_money(schema_database, job) == (Decimal(0), Decimal(5), Decimal(0))


def test_reserve_up_to_exactly_the_limit_is_allowed(schema_database: str) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "12.50")
    result = reserve(schema_database, job, "7.50", limit="20")
    assert result["reserved_cost"] == "7.500000"


def test_reserve_over_limit_raises_vgb01_with_figures_and_holds_nothing(
    schema_database: str,
) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "12.00")
    reserve(schema_database, job, "7.00")
    with pytest.raises(psycopg.Error) as caught:
        reserve(schema_database, job, "1.50")
    assert caught.value.sqlstate == "VGB01"
    assert "12.000000 + reserved 7.000000 + requested 1.500000" in str(caught.value)
    figures = json.loads(caught.value.diag.message_detail or "")
    assert figures == {
        "job_id": str(job),
        "total_cost": "12.000000",
        "reserved_cost": "7.000000",
        "requested": "1.500000",
        "limit": "20.000000",
    }
    assert job_money(schema_database, job)[1] == Decimal(7)
    assert (
        fetch_one(schema_database, "SELECT count(*) AS n FROM public.cost_reservations")["n"] == 1
    )


def test_reserve_for_missing_job_raises_no_data_found(schema_database: str) -> None:
    with pytest.raises(psycopg.errors.NoDataFound):
        reserve(schema_database, uuid.uuid4(), "1")


def test_reserve_with_same_key_holds_once(schema_database: str) -> None:
    job = make_job(schema_database)
    first = reserve(schema_database, job, "15", key="clip-3")
    again = reserve(schema_database, job, "15", key="clip-3")
    assert again["replayed"] is True
    assert again["reservation_id"] == first["reservation_id"]
    assert job_money(schema_database, job)[1] == Decimal(15)


def test_settle_moves_hold_into_ledger_and_total(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "0.10")
    settled = call(
        schema_database,
        "settle_cost",
        p_reservation_id=held["reservation_id"],
        p_actual_cost=Decimal("0.06"),
    )
    assert (settled["status"], settled["actual_cost"], settled["replayed"]) == (
        "settled",
        "0.060000",
        False,
    )
    assert job_money(schema_database, job) == (Decimal("0.06"), Decimal(0), Decimal("0.06"))
    keys = fetch_all(
        schema_database, "SELECT idempotency_key FROM public.job_costs WHERE job_id = %s", (job,)
    )
    assert keys == [{"idempotency_key": f"reservation:{held['reservation_id']}"}]


def test_settle_twice_records_once(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "0.10")
    call(
        schema_database,
        "settle_cost",
        p_reservation_id=held["reservation_id"],
        p_actual_cost=Decimal("0.06"),
    )
    again = call(
        schema_database,
        "settle_cost",
        p_reservation_id=held["reservation_id"],
        p_actual_cost=Decimal("0.06"),
    )
    assert again["replayed"] is True
    assert job_money(schema_database, job) == (Decimal("0.06"), Decimal(0), Decimal("0.06"))


def test_settle_again_with_other_cost_is_a_conflict(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "0.10")
    call(
        schema_database,
        "settle_cost",
        p_reservation_id=held["reservation_id"],
        p_actual_cost=Decimal("0.06"),
    )
    with pytest.raises(psycopg.errors.UniqueViolation, match="already settled"):
        call(
            schema_database,
            "settle_cost",
            p_reservation_id=held["reservation_id"],
            p_actual_cost=Decimal("0.07"),
        )


def test_release_returns_hold(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "3")
    released = call(schema_database, "release_cost", p_reservation_id=held["reservation_id"])
    assert (released["status"], released["reserved_cost"]) == ("released", "0.000000")
    again = call(schema_database, "release_cost", p_reservation_id=held["reservation_id"])
    assert again["replayed"] is True
    assert job_money(schema_database, job) == (Decimal(0), Decimal(0), Decimal(0))


def test_release_after_settle_is_refused(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1")
    call(
        schema_database,
        "settle_cost",
        p_reservation_id=held["reservation_id"],
        p_actual_cost=Decimal("1"),
    )
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="is settled"):
        call(schema_database, "release_cost", p_reservation_id=held["reservation_id"])


def test_settle_after_release_is_refused(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1")
    call(schema_database, "release_cost", p_reservation_id=held["reservation_id"])
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="is released"):
        call(
            schema_database,
            "settle_cost",
            p_reservation_id=held["reservation_id"],
            p_actual_cost=Decimal("1"),
        )


def test_settle_unknown_reservation_raises_no_data_found(schema_database: str) -> None:
    with pytest.raises(psycopg.errors.NoDataFound, match="cost reservation"):
        call(
            schema_database,
            "settle_cost",
            p_reservation_id=uuid.uuid4(),
            p_actual_cost=Decimal("1"),
        )


def test_released_budget_can_be_reserved_again(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "20")
    call(schema_database, "release_cost", p_reservation_id=held["reservation_id"])
    assert reserve(schema_database, job, "20")["status"] == "held"


def test_job_cost_summary_totals_per_stage(schema_database: str) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "0.10", stage="audio_analysis", api="whisper")
    record(schema_database, job, "0.06", stage="video_generation")
    record(schema_database, job, "0.06", stage="video_generation")
    reserve(schema_database, job, "1")
    summary = call(schema_database, "job_cost_summary", p_job_id=job)
    assert summary == {
        "job_id": str(job),
        "total_cost": "0.220000",
        "reserved_cost": "1.000000",
        "by_stage": {"audio_analysis": "0.100000", "video_generation": "0.120000"},
    }


def test_health_reports_ok_with_schema(schema_database: str) -> None:
    result = call(schema_database, "health")
    assert (result["status"], result["schema_ready"]) == ("ok", True)


def test_stage_created_after_spend_starts_with_that_spend(schema_database: str) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "0.25")
    record(schema_database, job, "0.10", stage="audio_analysis")
    make_stage(schema_database, job, "video_generation")
    record(schema_database, job, "0.05")
    stage = fetch_one(
        schema_database,
        "SELECT cost FROM public.job_stages WHERE job_id = %s AND stage_name = 'video_generation'",
        (job,),
    )
    assert stage["cost"] == Decimal("0.30")


def test_stage_inserted_with_a_cost_keeps_it_plus_earlier_spend(schema_database: str) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "0.25")
    make_stage(schema_database, job, "video_generation", cost=Decimal("1"))
    stage = fetch_one(
        schema_database, "SELECT cost FROM public.job_stages WHERE job_id = %s", (job,)
    )
    assert stage["cost"] == Decimal("1.25")
