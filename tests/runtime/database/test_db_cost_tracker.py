"""runtime.cost_tracking over the direct PostgreSQL path, on the real server."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from db_support import fetch_all, job_money, make_job, settings_values

from runtime.config import Settings, override_settings
from runtime.cost_tracking import CostTracker, Reservation, cost_tracker
from runtime.errors import BudgetExceededError, ConflictError, NotFoundError, ValidationError
from runtime.postgres import PostgresDatabase
from runtime.testing import capture_logs


async def test_track_cost_records_and_updates_total(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    record = await tracker.track_cost(
        job_id=job, stage="video_generation", api_name="svd", cost=Decimal("0.06")
    )
    assert record.recorded is True
    assert record.total_cost == Decimal("0.06")
    assert job_money(schema_database, job) == (Decimal("0.06"), Decimal(0), Decimal("0.06"))


async def test_track_cost_same_key_charges_once(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)
    first = await tracker.track_cost(
        job, "video_generation", "svd", Decimal("0.06"), idempotency_key="clip-1"
    )
    again = await tracker.track_cost(
        job, "video_generation", "svd", Decimal("0.06"), idempotency_key="clip-1"
    )
    assert again.recorded is False
    assert again.cost_id == first.cost_id
    assert await tracker.get_total_cost(job) == Decimal("0.06")


async def test_track_cost_without_key_records_each_call(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    for _ in range(3):
        await tracker.track_cost(job, "scene_planning", "gpt-4o", Decimal("0.01"))
    assert await tracker.get_total_cost(job) == Decimal("0.03")
    keys = fetch_all(schema_database, "SELECT idempotency_key FROM public.job_costs")
    assert all(row["idempotency_key"].startswith("auto:") for row in keys)


async def test_track_cost_key_reused_with_other_cost_is_conflict(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    await tracker.track_cost(job, "video_generation", "svd", Decimal("0.06"), idempotency_key="k")
    with pytest.raises(ConflictError):
        await tracker.track_cost(
            job, "video_generation", "svd", Decimal("0.07"), idempotency_key="k"
        )


async def test_track_cost_for_missing_job_is_not_found(tracker: CostTracker) -> None:
    with pytest.raises(NotFoundError):
        await tracker.track_cost(uuid.uuid4(), "video_generation", "svd", Decimal("0.06"))


async def test_track_cost_logs_the_spend(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)
    with capture_logs() as logs:
        await tracker.track_cost(job, "video_generation", "svd", Decimal("0.06"))
    line = logs.find(message="Cost recorded")
    assert (line["job_id"], line["cost"], line["total_cost"]) == (str(job), "0.060000", "0.060000")


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        (0.06, "floats are not exact"),
        (True, "must be a Decimal"),
        (Decimal("-0.01"), "must be >= 0"),
        (Decimal("0.0000001"), "more than 6 decimal places"),
        (Decimal("NaN"), "finite"),
        (Decimal("1e15"), "too large"),
    ],
)
async def test_track_cost_rejects_bad_amounts_before_calling(
    tracker: CostTracker, cost: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await tracker.track_cost(uuid.uuid4(), "video_generation", "svd", cost)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"job_id": "not-a-uuid"}, "job_id must be a UUID"),
        ({"stage": ""}, "stage must be a snake_case stage name"),
        ({"api_name": "x" * 101}, "longer than 100"),
        ({"idempotency_key": "reservation:1"}, "reserved"),
        ({"idempotency_key": " "}, "non-empty"),
        ({"idempotency_key": "k" * 201}, "longer than 200"),
    ],
)
async def test_track_cost_rejects_bad_arguments(
    tracker: CostTracker, kwargs: dict[str, str], message: str
) -> None:
    arguments: dict[str, object] = {
        "job_id": uuid.uuid4(),
        "stage": "video_generation",
        "api_name": "svd",
        "cost": Decimal("0.06"),
        **kwargs,
    }
    with pytest.raises(ValidationError, match=message):
        await tracker.track_cost(**arguments)  # type: ignore[arg-type]


async def test_job_id_may_be_a_string(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)
    await tracker.track_cost(str(job), "video_generation", "svd", Decimal(1))  # type: ignore[arg-type]
    assert await tracker.get_total_cost(job) == Decimal(1)


async def test_cost_summary_has_totals_per_stage(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    await tracker.track_cost(job, "audio_analysis", "whisper", Decimal("0.10"))
    await tracker.track_cost(job, "video_generation", "svd", Decimal("0.06"))
    await tracker.reserve(job, "video_generation", "svd", Decimal("1"))
    summary = await tracker.get_cost_summary(job)
    assert summary.by_stage == {
        "audio_analysis": Decimal("0.1"),
        "video_generation": Decimal("0.06"),
    }
    assert (summary.total_cost, summary.reserved_cost, summary.committed) == (
        Decimal("0.16"),
        Decimal(1),
        Decimal("1.16"),
    )


async def test_check_budget(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)
    await tracker.track_cost(job, "video_generation", "svd", Decimal("19.90"))
    assert (
        await tracker.check_budget(job_id=job, new_cost=Decimal("0.10"), limit=Decimal("20.00"))
        is True
    )
    assert (
        await tracker.check_budget(job_id=job, new_cost=Decimal("0.11"), limit=Decimal("20.00"))
        is False
    )


async def test_check_budget_counts_reservations(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)
    await tracker.reserve(job, "video_generation", "svd", Decimal("19.95"))
    assert await tracker.check_budget(job, Decimal("0.10")) is False


async def test_enforce_budget_limit_raises_when_over(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    await tracker.track_cost(job, "video_generation", "svd", Decimal("20.50"))
    with pytest.raises(BudgetExceededError) as caught:
        await tracker.enforce_budget_limit(job_id=job, limit=Decimal("20.00"))
    assert caught.value.job_id == job
    assert caught.value.details["total_cost"] == "20.500000"


async def test_enforce_budget_limit_passes_at_the_limit(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    await tracker.track_cost(job, "video_generation", "svd", Decimal("20.00"))
    await tracker.enforce_budget_limit(job_id=job, limit=Decimal("20.00"))
    with pytest.raises(BudgetExceededError):
        await tracker.enforce_budget_limit(
            job_id=job, limit=Decimal("20.00"), new_cost=Decimal("0.01")
        )


async def test_default_limit_comes_from_settings(
    pg_db: PostgresDatabase, schema_database: str
) -> None:
    tracker = CostTracker(pg_db)
    job = make_job(schema_database)
    await tracker.track_cost(job, "video_generation", "svd", Decimal("5"))
    with override_settings(Settings(_env_file=None, **settings_values(job_budget_limit="5.00"))):
        assert tracker.default_limit() == Decimal("5.00")
        assert await tracker.check_budget(job, Decimal("0.01")) is False
    with override_settings(Settings(_env_file=None, **settings_values())):
        assert tracker.default_limit() == Decimal("20.00")
        assert await tracker.check_budget(job, Decimal("0.01")) is True


async def test_reserve_over_limit_raises_with_figures(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    await tracker.reserve(job, "video_generation", "svd", Decimal("15"))
    with pytest.raises(BudgetExceededError) as caught:
        await tracker.reserve(job, "video_generation", "svd", Decimal("6"))
    assert caught.value.details["reserved_cost"] == "15.000000"
    assert caught.value.details["requested"] == "6.000000"
    assert caught.value.details["limit"] == "20.000000"


async def test_settle_and_release(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)
    first = await tracker.reserve(job, "video_generation", "svd", Decimal("0.10"))
    second = await tracker.reserve(job, "video_generation", "svd", Decimal("0.10"))
    settled = await tracker.settle(first, Decimal("0.06"))
    released = await tracker.release(second.reservation_id)
    assert (settled.status, settled.actual_cost) == ("settled", Decimal("0.06"))
    assert released.status == "released"
    assert job_money(schema_database, job) == (Decimal("0.06"), Decimal(0), Decimal("0.06"))


async def test_settle_above_amount_is_recorded_and_logged(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("0.10"))
    with capture_logs() as logs:
        settled = await tracker.settle(hold, Decimal("0.12"))
    assert settled.total_cost == Decimal("0.12")
    assert logs.find(message="Settled above the amount reserved")["actual_cost"] == "0.120000"


async def test_settle_above_the_hold_past_the_limit_raises_and_keeps_the_hold(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("1"))
    with pytest.raises(BudgetExceededError) as caught:
        await tracker.settle(hold, Decimal("100"))
    assert (caught.value.details["held"], caught.value.details["actual_cost"]) == (
        "1.000000",
        "100.000000",
    )
    assert job_money(schema_database, job) == (Decimal(0), Decimal(1), Decimal(0))
    assert (await tracker.release(hold)).status == "released"


async def test_settle_checks_the_limit_the_hold_was_taken_under(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("1"), limit=Decimal(2))
    assert hold.limit == Decimal(2)
    with pytest.raises(BudgetExceededError):
        await tracker.settle(hold, Decimal("2.50"))  # fits the tracker's 20, not the hold's 2
    assert (await tracker.settle(hold, Decimal("2"))).total_cost == Decimal(2)


async def test_settle_by_id_uses_the_default_limit(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("1"))
    settled = await tracker.settle(hold.reservation_id, Decimal("19.5"))
    assert (settled.total_cost, settled.limit) == (Decimal("19.5"), Decimal(20))


async def test_settle_with_an_explicit_limit_overrides_the_holds(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("1"), limit=Decimal(2))
    settled = await tracker.settle(hold, Decimal("5"), limit=Decimal("5"))
    assert settled.total_cost == Decimal(5)


async def test_reserve_with_the_key_of_a_settled_reservation_is_a_conflict(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("1"), idempotency_key="c")
    await tracker.settle(hold, Decimal("1"))
    with pytest.raises(ConflictError) as caught:
        await tracker.reserve(job, "video_generation", "svd", Decimal("1"), idempotency_key="c")
    assert caught.value.upstream_code == "VGB02"


async def test_reserve_with_the_key_and_another_amount_is_a_conflict(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    await tracker.reserve(job, "video_generation", "svd", Decimal("1"), idempotency_key="c")
    with pytest.raises(ConflictError) as caught:
        await tracker.reserve(job, "video_generation", "svd", Decimal("2"), idempotency_key="c")
    assert caught.value.upstream_code == "23505"
    assert job_money(schema_database, job)[1] == Decimal(1)


async def test_reserved_block_with_the_key_of_a_settled_reservation_does_not_run(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    async with tracker.reserved(job, "video_generation", "svd", Decimal("1"), idempotency_key="c"):
        pass
    ran = False

    async def again() -> None:
        nonlocal ran
        async with tracker.reserved(
            job, "video_generation", "svd", Decimal("1"), idempotency_key="c"
        ):
            ran = True

    with pytest.raises(ConflictError):
        await again()
    assert ran is False
    assert job_money(schema_database, job) == (Decimal(1), Decimal(0), Decimal(1))


class _SettledAnswer:
    """A FunctionCaller whose reserve_cost answers with a reservation that is not held."""

    async def call_function(self, name: str, params: object = None, **kwargs: object) -> object:
        return {
            "reservation_id": str(uuid.uuid4()),
            "job_id": str(uuid.uuid4()),
            "stage_name": "video_generation",
            "api_name": "svd",
            "amount": "1.000000",
            "status": "settled",
            "actual_cost": "1.000000",
            "replayed": True,
            "total_cost": "1.000000",
            "reserved_cost": "0.000000",
            "limit": "20.000000",
        }


async def test_reserved_block_refuses_a_reservation_that_is_not_held() -> None:
    tracker = CostTracker(_SettledAnswer(), budget_limit=Decimal(20))
    ran = False

    async def run() -> None:
        nonlocal ran
        async with tracker.reserved(uuid.uuid4(), "video_generation", "svd", Decimal(1)):
            ran = True

    with pytest.raises(ConflictError, match="not held") as caught:
        await run()
    assert (ran, caught.value.code) == (False, "reservation_not_held")


async def test_reserved_block_charge_past_the_limit_raises_on_exit_and_keeps_the_hold(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)

    async def run() -> None:
        async with tracker.reserved(job, "video_generation", "svd", Decimal("1")) as hold:
            hold.charge(Decimal("25"))

    with capture_logs() as logs, pytest.raises(BudgetExceededError):
        await run()
    assert logs.find(level="ERROR")["actual_cost"] == "25"
    assert job_money(schema_database, job) == (Decimal(0), Decimal(1), Decimal(0))


async def test_track_cost_with_a_limit_refuses_a_spend_past_it(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    await tracker.track_cost(job, "video_generation", "svd", Decimal("19.50"))
    with pytest.raises(BudgetExceededError) as caught:
        await tracker.track_cost(
            job, "video_generation", "svd", Decimal("0.60"), limit=Decimal("20")
        )
    assert caught.value.details["requested"] == "0.600000"
    assert job_money(schema_database, job)[0] == Decimal("19.5")


async def test_track_cost_without_a_limit_flags_and_logs_a_job_over_budget(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    with capture_logs() as logs:
        record = await tracker.track_cost(job, "video_generation", "svd", Decimal("20.01"))
    assert (record.recorded, record.limit, record.over_limit) == (True, Decimal(20), True)
    line = logs.find(message="Job over budget after a recorded spend")
    assert (line["total_cost"], line["reserved_cost"], line["limit"]) == (
        "20.010000",
        "0.000000",
        "20.00",
    )


async def test_track_cost_within_budget_is_not_flagged(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    record = await tracker.track_cost(job, "video_generation", "svd", Decimal("20"))
    assert (record.limit, record.over_limit) == (Decimal(20), False)


async def test_track_cost_without_any_known_limit_records_without_a_flag(
    pg_db: PostgresDatabase, schema_database: str, clean_env: object
) -> None:
    job = make_job(schema_database)
    record = await CostTracker(pg_db).track_cost(job, "video_generation", "svd", Decimal("25"))
    assert (record.recorded, record.limit, record.over_limit) == (True, None, False)


async def test_settle_rejects_non_reservation(tracker: CostTracker) -> None:
    with pytest.raises(ValidationError, match="expects a Reservation"):
        await tracker.settle("abc", Decimal(1))  # type: ignore[arg-type]


async def test_reserved_block_settles_at_charged_cost(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    async with tracker.reserved(job, "video_generation", "svd", Decimal("0.10")) as hold:
        hold.charge(Decimal("0.06"))
    assert hold.final is not None
    assert hold.final.status == "settled"
    assert job_money(schema_database, job) == (Decimal("0.06"), Decimal(0), Decimal("0.06"))


async def test_reserved_block_settles_at_amount_without_charge(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    async with tracker.reserved(job, "video_generation", "svd", Decimal("0.10")):
        pass
    assert job_money(schema_database, job)[0] == Decimal("0.10")


async def test_reserved_block_releases_on_error(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)

    async def run() -> None:
        async with tracker.reserved(job, "video_generation", "svd", Decimal("0.10")):
            raise RuntimeError("generation failed")

    with pytest.raises(RuntimeError, match="generation failed"):
        await run()
    assert job_money(schema_database, job) == (Decimal(0), Decimal(0), Decimal(0))


async def test_reserved_block_settles_charged_cost_on_error(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)

    async def run() -> None:
        async with tracker.reserved(job, "video_generation", "svd", Decimal("0.10")) as hold:
            hold.charge(Decimal("0.04"))
            raise RuntimeError("upload failed after the charge")

    with pytest.raises(RuntimeError):
        await run()
    assert job_money(schema_database, job) == (Decimal("0.04"), Decimal(0), Decimal("0.04"))


async def test_reserved_block_does_not_run_without_budget(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    ran = False

    async def run() -> None:
        nonlocal ran
        async with tracker.reserved(job, "video_generation", "svd", Decimal("21")):
            ran = True

    with pytest.raises(BudgetExceededError):
        await run()
    assert ran is False


async def test_concurrent_tasks_never_overspend(tracker: CostTracker, schema_database: str) -> None:
    job = make_job(schema_database)

    async def clip(number: int) -> Reservation | None:
        try:
            hold = await tracker.reserve(
                job, "video_generation", "svd", Decimal("0.75"), idempotency_key=f"clip-{number}"
            )
        except BudgetExceededError:
            return None
        return await tracker.settle(hold, Decimal("0.75"))

    results = await asyncio.gather(*(clip(n) for n in range(40)))
    accepted = [r for r in results if r is not None]
    assert len(accepted) == 26  # 26 * 0.75 = 19.50 <= 20 < 27 * 0.75
    total, reserved, ledger = job_money(schema_database, job)
    assert total == ledger == Decimal("19.50")
    assert reserved == 0
    assert total <= Decimal(20)


def test_lock_for_returns_same_lock_while_held(tracker: CostTracker) -> None:
    job = uuid.uuid4()
    lock = tracker.lock_for(job)
    assert tracker.lock_for(job) is lock
    assert tracker.lock_for(uuid.uuid4()) is not lock


def test_budget_limit_must_be_a_decimal(pg_db: PostgresDatabase) -> None:
    with pytest.raises(ValidationError):
        CostTracker(pg_db, budget_limit=20.0)  # type: ignore[arg-type]


def test_module_tracker_uses_module_db() -> None:
    import runtime.db
    from runtime.database import db

    assert runtime.db.cost_tracker is cost_tracker
    assert cost_tracker.database is db
