"""Reservations expire: a hold nobody settles stops counting against the budget (real server)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from db_support import fetch_one, job_money, make_job

from runtime.cost_tracking import DEFAULT_HOLD_SECONDS, CostTracker
from runtime.errors import BudgetExceededError, ValidationError


def expire_now(dsn: str, reservation_id: uuid.UUID) -> None:
    """Move a hold's expiry into the past (as if its lifetime had passed)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE public.cost_reservations SET expires_at = now() - interval '1 second' "
            "WHERE id = %s",
            (reservation_id,),
        )


def status_of(dsn: str, reservation_id: uuid.UUID) -> str:
    row = fetch_one(
        dsn, "SELECT status FROM public.cost_reservations WHERE id = %s", (reservation_id,)
    )
    return str(row["status"])


async def test_a_hold_gets_the_documented_default_lifetime(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("1.00"))
    assert hold.expires_at is not None
    lifetime = hold.expires_at - datetime.now(UTC)
    assert DEFAULT_HOLD_SECONDS == 900
    assert timedelta(seconds=DEFAULT_HOLD_SECONDS - 60) < lifetime
    assert lifetime <= timedelta(seconds=DEFAULT_HOLD_SECONDS)


async def test_an_expired_hold_stops_counting_at_the_next_reservation(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    stale = await tracker.reserve(job, "video_generation", "svd", Decimal("15.00"), hold_seconds=1)
    with pytest.raises(BudgetExceededError):
        await tracker.reserve(job, "video_generation", "svd", Decimal("10.00"))
    await asyncio.sleep(1.2)
    fresh = await tracker.reserve(job, "video_generation", "svd", Decimal("10.00"))
    assert fresh.reserved_cost == Decimal("10.00")
    assert status_of(schema_database, stale.reservation_id) == "released"
    assert job_money(schema_database, job) == (Decimal(0), Decimal("10.00"), Decimal(0))


async def test_an_expired_hold_stops_counting_in_the_summary_before_any_sweep(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    stale = await tracker.reserve(job, "video_generation", "svd", Decimal("15.00"), hold_seconds=1)
    await tracker.reserve(job, "video_generation", "svd", Decimal("2.00"))
    assert (await tracker.get_cost_summary(job)).reserved_cost == Decimal("17.00")
    expire_now(schema_database, stale.reservation_id)
    summary = await tracker.get_cost_summary(job)
    assert summary.reserved_cost == Decimal("2.00")
    assert await tracker.check_budget(job, Decimal("18.00"), limit=Decimal("20.00")) is True
    assert status_of(schema_database, stale.reservation_id) == "held"  # read-only: not released


async def test_the_sweep_releases_expired_holds_of_every_job(
    tracker: CostTracker, schema_database: str
) -> None:
    jobs = [make_job(schema_database) for _ in range(3)]
    holds = [await tracker.reserve(job, "video_generation", "svd", Decimal(2)) for job in jobs]
    kept = await tracker.reserve(jobs[0], "video_generation", "svd", Decimal(1))
    for hold in holds:
        expire_now(schema_database, hold.reservation_id)
    assert await tracker.release_expired() == 3
    assert await tracker.release_expired() == 0
    assert [job_money(schema_database, job)[1] for job in jobs] == [Decimal(1), 0, 0]
    assert status_of(schema_database, kept.reservation_id) == "held"


async def test_an_expired_hold_can_be_settled_when_its_cost_still_fits(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("5.00"))
    expire_now(schema_database, hold.reservation_id)
    assert await tracker.release_expired(job) == 1
    settled = await tracker.settle(hold, Decimal("4.00"))
    assert settled.status == "settled"
    assert job_money(schema_database, job) == (Decimal("4.00"), Decimal(0), Decimal("4.00"))


async def test_an_expired_hold_whose_budget_was_taken_cannot_overspend(
    tracker: CostTracker, schema_database: str
) -> None:
    job = make_job(schema_database)
    hold = await tracker.reserve(job, "video_generation", "svd", Decimal("15.00"))
    expire_now(schema_database, hold.reservation_id)
    await tracker.reserve(job, "video_generation", "svd", Decimal("10.00"))  # releases it lazily
    with pytest.raises(BudgetExceededError):
        await tracker.settle(hold, Decimal("15.00"))
    total, reserved, ledger = job_money(schema_database, job)
    assert (total, reserved, ledger) == (Decimal(0), Decimal("10.00"), Decimal(0))


@pytest.mark.parametrize("hold_seconds", [0, -5, 10**9, "60", None, True])
async def test_bad_hold_lifetimes_are_validation_errors(
    tracker: CostTracker, hold_seconds: object
) -> None:
    with pytest.raises(ValidationError, match="hold_seconds"):
        await tracker.reserve(
            uuid.uuid4(),
            "video_generation",
            "svd",
            Decimal(1),
            hold_seconds=hold_seconds,  # type: ignore[arg-type]
        )
