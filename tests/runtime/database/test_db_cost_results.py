"""The cost functions' results as the tracker reads them: shape checks, exact money, figures."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pytest

import runtime.db
from runtime.cost_tracking import CostRecord, CostSummary, Reservation
from runtime.db._cost_results import Released, add_budget_figures, parse
from runtime.errors import BudgetExceededError, DatabaseError

JOB = uuid.uuid4()


def _reservation(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "reservation_id": str(uuid.uuid4()),
        "job_id": str(JOB),
        "stage_name": "video_generation",
        "api_name": "svd",
        "amount": "0.100000",
        "status": "held",
        "actual_cost": None,
        "expires_at": "2026-11-30T14:35:00.123456+00:00",
        "replayed": False,
        "total_cost": "1.000000",
        "reserved_cost": "0.100000",
        "limit": "20.000000",
    }
    row.update(changes)
    return row


def test_money_is_read_exactly_and_timestamps_are_aware() -> None:
    hold = parse(Reservation, _reservation(), "reserve_cost")
    assert hold.amount == Decimal("0.1")
    assert str(hold.amount) == "0.100000"
    assert isinstance(hold.expires_at, datetime)
    assert hold.expires_at.utcoffset() is not None
    assert hold.job_id == JOB
    assert hold.actual_cost is None


def test_a_result_of_another_shape_is_a_database_error() -> None:
    with pytest.raises(DatabaseError, match="reserve_cost returned an unexpected result") as caught:
        parse(Reservation, _reservation(status="lost"), "reserve_cost")
    assert caught.value.details["function"] == "reserve_cost"
    assert caught.value.details["problems"][0].startswith("status:")
    with pytest.raises(DatabaseError, match="result:"):
        parse(CostRecord, ["not", "an", "object"], "record_cost")
    with pytest.raises(DatabaseError, match="total_cost"):
        parse(Reservation, _reservation(total_cost=0.1), "reserve_cost")  # a float: not exact
    with pytest.raises(DatabaseError, match="released"):
        parse(Released, {}, "release_expired_reservations")


def test_keys_the_model_does_not_name_are_ignored_and_missing_optionals_default() -> None:
    record = parse(
        CostRecord,
        {
            "cost_id": str(uuid.uuid4()),
            "job_id": str(JOB),
            "recorded": True,
            "cost": "0.06",
            "total_cost": "20.01",
            "added_later": 1,
        },
        "record_cost",
    )
    assert (record.reserved_cost, record.limit, record.over_limit) == (Decimal(0), None, False)
    assert record.model_copy(update={"limit": Decimal(20)}).over_limit


def test_summary_without_stages_reads_as_empty() -> None:
    summary = parse(
        CostSummary,
        {"job_id": str(JOB), "total_cost": "1.5", "reserved_cost": "0.5", "by_stage": None},
        "job_cost_summary",
    )
    assert summary.by_stage == {}
    assert summary.committed == Decimal(2)


def test_results_are_read_only() -> None:
    hold = parse(Reservation, _reservation(), "reserve_cost")
    with pytest.raises(ValueError, match="frozen"):
        hold.amount = Decimal(0)  # type: ignore[misc]
    assert hash(hold) == hash(
        parse(
            Reservation,
            dict(_reservation(), **{"reservation_id": str(hold.reservation_id)}),
            "reserve_cost",
        )
    )


@pytest.mark.parametrize("detail", [None, "not json", "[1, 2]"])
def test_budget_detail_that_is_not_a_json_object_adds_nothing(detail: str | None) -> None:
    error = BudgetExceededError("over", JOB, details={"upstream_details": detail})
    add_budget_figures(error)
    assert set(error.details) == {"upstream_details"}


def test_budget_detail_figures_are_copied_once() -> None:
    detail = '{"job_id": "x", "total_cost": "1.000000", "limit": null, "held": "0.5", "other": 1}'
    error = BudgetExceededError("over", JOB, details={"upstream_details": detail})
    add_budget_figures(error)
    assert error.details == {
        "upstream_details": detail,
        "total_cost": "1.000000",
        "limit": None,
        "held": "0.5",
    }


def test_the_db_package_lists_the_cost_names_lazily() -> None:
    assert {"cost_tracker", "CostTracker", "Reservation"} <= set(dir(runtime.db))
    assert runtime.db.Reservation is Reservation
    with pytest.raises(AttributeError):
        runtime.db.no_such_name  # noqa: B018
