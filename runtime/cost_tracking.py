"""Per-job cost tracking and budget enforcement: the names as they were taught.

The code lives in :mod:`runtime.db` (``runtime/db/_costs.py`` and its private modules); this
module re-exports it so ``from runtime.cost_tracking import cost_tracker`` keeps working::

    from decimal import Decimal
    from runtime.cost_tracking import cost_tracker

    await cost_tracker.track_cost(job_id=job_id, stage="video_generation", api_name="svd",
                                  cost=Decimal("0.06"))
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

from runtime.db._costs import (
    DEFAULT_HOLD_SECONDS,
    MONEY_QUANTUM,
    CostRecord,
    CostSummary,
    CostTracker,
    Reservation,
    ReservationHandle,
    cost_tracker,
)

__all__ = [
    "DEFAULT_HOLD_SECONDS",
    "MONEY_QUANTUM",
    "CostRecord",
    "CostSummary",
    "CostTracker",
    "Reservation",
    "ReservationHandle",
    "cost_tracker",
]
