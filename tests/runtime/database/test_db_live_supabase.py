"""The same scenarios over a live Supabase project's PostgREST.

Run only when SUPABASE_URL and SUPABASE_SERVICE_KEY are set (for a project that has
sql/generated and sql/handwritten applied); skipped otherwise. Each test creates its own job and
deletes it (the cascade removes its stages, costs and reservations).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from runtime.cost_tracking import CostTracker
from runtime.database import Database, DatabaseOptions
from runtime.errors import BudgetExceededError, NotFoundError

pytestmark = [
    pytest.mark.live_supabase,
    pytest.mark.skipif(
        not (os.environ.get("SUPABASE_URL") and os.environ.get("SUPABASE_SERVICE_KEY")),
        reason="live Supabase tests need SUPABASE_URL and SUPABASE_SERVICE_KEY (a project with "
        "this library's SQL applied); not set, so skipped",
    ),
]


@pytest.fixture
async def live_db() -> AsyncIterator[Database]:
    async with Database(
        options=DatabaseOptions(
            url=os.environ["SUPABASE_URL"], service_key=os.environ["SUPABASE_SERVICE_KEY"]
        )
    ) as db:
        yield db


@pytest.fixture
async def live_job(live_db: Database) -> AsyncIterator[uuid.UUID]:
    job_id = uuid.uuid4()
    await (
        live_db.table("jobs")
        .insert(
            {
                "id": job_id,
                "user_id": uuid.uuid4(),
                "audio_url": "https://example.com/audio/live-test.mp3",
                "user_prompt": "live test job",
            }
        )
        .execute()
    )
    try:
        yield job_id
    finally:
        await live_db.table("jobs").delete().eq("id", str(job_id)).execute()


async def test_live_health_check(live_db: Database) -> None:
    assert await live_db.health_check() is True


async def test_live_cost_tracking(live_db: Database, live_job: uuid.UUID) -> None:
    tracker = CostTracker(live_db, budget_limit=Decimal("1.00"))
    first = await tracker.track_cost(
        live_job, "audio_analysis", "whisper", Decimal("0.006"), idempotency_key="a"
    )
    again = await tracker.track_cost(
        live_job, "audio_analysis", "whisper", Decimal("0.006"), idempotency_key="a"
    )
    hold = await tracker.reserve(live_job, "video_generation", "svd", Decimal("0.90"))
    with pytest.raises(BudgetExceededError):
        await tracker.reserve(live_job, "video_generation", "svd", Decimal("0.10"))
    await tracker.settle(hold, Decimal("0.85"))
    assert (first.recorded, again.recorded) == (True, False)
    assert await tracker.get_total_cost(live_job) == Decimal("0.856")


async def test_live_transaction_and_read_back(live_db: Database, live_job: uuid.UUID) -> None:
    async with live_db.transaction(job_id=live_job) as tx:
        await (
            tx.table("job_stages")
            .insert({"job_id": live_job, "stage_name": "audio_analysis"})
            .execute()
        )
        await tx.table("jobs").update({"status": "processing"}).eq("id", live_job).execute()
    job = await live_db.table("jobs").select("status").eq("id", str(live_job)).single().execute()
    assert job.data["status"] == "processing"


async def test_live_missing_row_is_not_found(live_db: Database) -> None:
    with pytest.raises(NotFoundError):
        await live_db.table("jobs").select("*").eq("id", str(uuid.uuid4())).single().execute()
