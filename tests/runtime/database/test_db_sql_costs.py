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


def record(
    dsn: str,
    job_id: uuid.UUID,
    cost: str,
    key: str | None = None,
    limit: str | None = None,
    **extra: Any,
) -> Any:
    params: dict[str, Any] = {
        "p_job_id": job_id,
        "p_stage_name": extra.get("stage", "video_generation"),
        "p_api_name": extra.get("api", "svd"),
        "p_cost": Decimal(cost),
        "p_idempotency_key": key,
    }
    if limit is not None:
        params["p_limit"] = Decimal(limit)
    return call(dsn, "record_cost", **params)


def reserve(
    dsn: str,
    job_id: uuid.UUID,
    amount: str,
    limit: str = "20",
    key: str | None = None,
    stage: str = "video_generation",
    api: str = "svd",
) -> Any:
    return call(
        dsn,
        "reserve_cost",
        p_job_id=job_id,
        p_stage_name=stage,
        p_api_name=api,
        p_amount=Decimal(amount),
        p_limit=Decimal(limit),
        p_idempotency_key=key,
    )


def settle(dsn: str, reservation_id: Any, actual: str, limit: str | None = None) -> Any:
    params: dict[str, Any] = {"p_reservation_id": reservation_id, "p_actual_cost": Decimal(actual)}
    if limit is not None:
        params["p_limit"] = Decimal(limit)
    return call(dsn, "settle_cost", **params)


def sql_error(function: Any, *args: Any, **kwargs: Any) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        function(*args, **kwargs)
    return caught.value


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


def test_record_cost_with_limit_refuses_a_spend_past_it_and_records_nothing(
    schema_database: str,
) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "19.50")
    exc = sql_error(record, schema_database, job, "0.60", limit="20")
    assert exc.sqlstate == "VGB01"
    assert json.loads(exc.diag.message_detail or "") == {
        "job_id": str(job),
        "total_cost": "19.500000",
        "reserved_cost": "0.000000",
        "requested": "0.600000",
        "limit": "20.000000",
    }
    assert job_money(schema_database, job) == (Decimal("19.5"), Decimal(0), Decimal("19.5"))


def test_record_cost_with_limit_counts_held_reservations(schema_database: str) -> None:
    job = make_job(schema_database)
    reserve(schema_database, job, "19.95")
    assert sql_error(record, schema_database, job, "0.10", limit="20").sqlstate == "VGB01"


def test_record_cost_with_limit_records_up_to_exactly_the_limit(schema_database: str) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "19.50")
    result = record(schema_database, job, "0.50", limit="20")
    assert (result["recorded"], result["total_cost"], result["limit"]) == (
        True,
        "20.000000",
        "20.000000",
    )


def test_record_cost_without_limit_records_past_any_budget_and_reports_totals(
    schema_database: str,
) -> None:
    job = make_job(schema_database)
    reserve(schema_database, job, "1")
    result = record(schema_database, job, "25")
    assert (result["recorded"], result["total_cost"], result["reserved_cost"], result["limit"]) == (
        True,
        "25.000000",
        "1.000000",
        None,
    )


def test_record_cost_replay_is_answered_even_when_now_over_limit(schema_database: str) -> None:
    job = make_job(schema_database)
    first = record(schema_database, job, "5", key="k", limit="20")
    record(schema_database, job, "16")
    again = record(schema_database, job, "5", key="k", limit="20")
    assert (again["recorded"], again["cost_id"]) == (False, first["cost_id"])


def test_record_cost_rejects_a_negative_limit(schema_database: str) -> None:
    job = make_job(schema_database)
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="limit must be >= 0"):
        record(schema_database, job, "1", limit="-1")


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


def test_reserve_replay_of_a_settled_reservation_raises_vgb02(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1", key="clip-1")
    settle(schema_database, held["reservation_id"], "1")
    exc = sql_error(reserve, schema_database, job, "1", key="clip-1")
    assert exc.sqlstate == "VGB02"
    assert "already settled" in str(exc)
    assert json.loads(exc.diag.message_detail or "") == {
        "job_id": str(job),
        "reservation_id": held["reservation_id"],
        "status": "settled",
        "idempotency_key": "clip-1",
    }


def test_reserve_replay_of_a_released_reservation_raises_vgb02(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1", key="clip-1")
    call(schema_database, "release_cost", p_reservation_id=held["reservation_id"])
    exc = sql_error(reserve, schema_database, job, "1", key="clip-1")
    assert exc.sqlstate == "VGB02"
    assert "already released" in str(exc)
    assert job_money(schema_database, job) == (Decimal(0), Decimal(0), Decimal(0))


def test_reserve_replay_of_a_closed_reservation_raises_vgb02_even_when_budget_is_full(
    schema_database: str,
) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1", key="clip-1")
    settle(schema_database, held["reservation_id"], "1")
    reserve(schema_database, job, "19")
    assert sql_error(reserve, schema_database, job, "1", key="clip-1").sqlstate == "VGB02"


@pytest.mark.parametrize(
    ("changed", "detail"),
    [
        ({"amount": "2"}, "amount=2.000000"),
        ({"stage": "image_generation"}, "stage=image_generation"),
        ({"api": "sdxl"}, "api=sdxl"),
    ],
)
def test_reserve_same_key_with_different_arguments_is_a_conflict(
    schema_database: str, changed: dict[str, str], detail: str
) -> None:
    job = make_job(schema_database)
    reserve(schema_database, job, "1", key="clip-1")
    arguments = {"amount": "1", **changed}
    amount = arguments.pop("amount")
    with pytest.raises(psycopg.errors.UniqueViolation, match="different arguments") as caught:
        reserve(schema_database, job, amount, key="clip-1", **arguments)
    assert detail in (caught.value.diag.message_detail or "")
    assert job_money(schema_database, job)[1] == Decimal(1)


def test_reserve_same_key_on_another_job_is_another_hold(schema_database: str) -> None:
    first_job, second_job = make_job(schema_database), make_job(schema_database)
    first = reserve(schema_database, first_job, "1", key="clip-1")
    second = reserve(schema_database, second_job, "1", key="clip-1")
    assert second["replayed"] is False
    assert second["reservation_id"] != first["reservation_id"]


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


def test_settle_above_the_hold_within_the_limit_records_the_actual_cost(
    schema_database: str,
) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1")
    settled = settle(schema_database, held["reservation_id"], "1.50", limit="20")
    assert (settled["status"], settled["actual_cost"], settled["total_cost"]) == (
        "settled",
        "1.500000",
        "1.500000",
    )
    assert job_money(schema_database, job) == (Decimal("1.5"), Decimal(0), Decimal("1.5"))


def test_settle_above_the_hold_past_the_limit_raises_vgb01_and_keeps_the_hold(
    schema_database: str,
) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1")
    exc = sql_error(settle, schema_database, held["reservation_id"], "100", limit="20")
    assert exc.sqlstate == "VGB01"
    figures = json.loads(exc.diag.message_detail or "")
    assert (figures["held"], figures["actual_cost"], figures["limit"]) == (
        "1.000000",
        "100.000000",
        "20.000000",
    )
    assert "still in place" in (exc.diag.message_hint or "")
    assert job_money(schema_database, job) == (Decimal(0), Decimal(1), Decimal(0))
    status = fetch_one(
        schema_database,
        "SELECT status FROM public.cost_reservations WHERE id = %s",
        (held["reservation_id"],),
    )
    assert status == {"status": "held"}


def test_settle_above_the_hold_counts_other_spend_and_holds(schema_database: str) -> None:
    job = make_job(schema_database)
    record(schema_database, job, "10")
    held = reserve(schema_database, job, "1")
    reserve(schema_database, job, "8")
    refused = sql_error(settle, schema_database, held["reservation_id"], "2.01", limit="20")
    assert refused.sqlstate == "VGB01"
    assert settle(schema_database, held["reservation_id"], "2", limit="20")["total_cost"] == (
        "12.000000"
    )


def test_settle_above_the_hold_without_a_limit_raises_vgb01(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1")
    exc = sql_error(settle, schema_database, held["reservation_id"], "1.01")
    assert exc.sqlstate == "VGB01"
    assert "needs a limit" in str(exc)
    assert job_money(schema_database, job) == (Decimal(0), Decimal(1), Decimal(0))


def test_settle_within_the_hold_succeeds_even_over_a_lowered_limit(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "5")
    settled = settle(schema_database, held["reservation_id"], "5", limit="1")
    assert settled["total_cost"] == "5.000000"


def test_settle_refused_then_released_leaves_nothing_spent(schema_database: str) -> None:
    job = make_job(schema_database)
    held = reserve(schema_database, job, "1")
    sql_error(settle, schema_database, held["reservation_id"], "100", limit="20")
    call(schema_database, "release_cost", p_reservation_id=held["reservation_id"])
    assert job_money(schema_database, job) == (Decimal(0), Decimal(0), Decimal(0))


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
