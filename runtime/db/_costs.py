"""Per-job cost tracking and budget enforcement, backed by atomic SQL functions.

Usage::

    from decimal import Decimal
    from runtime.cost_tracking import cost_tracker

    await cost_tracker.track_cost(job_id=job_id, stage="video_generation", api_name="svd",
                                  cost=Decimal("0.06"))
    total = await cost_tracker.get_total_cost(job_id)                     # Decimal
    can_proceed = await cost_tracker.check_budget(job_id=job_id, new_cost=Decimal("0.10"),
                                                  limit=Decimal("20.00"))
    await cost_tracker.enforce_budget_limit(job_id=job_id, limit=Decimal("20.00"))

    # Work that runs in parallel (video clips): hold the budget first, settle the real cost.
    async with cost_tracker.reserved(job_id=job_id, stage="video_generation", api_name="svd",
                                     amount=Decimal("0.10")) as hold:
        clip = await generate_clip(...)
        hold.charge(Decimal("0.06"))          # settled at 0.06; without charge() at the amount

Every operation is one call of a SQL function (``sql/handwritten/010_cost_functions.sql``), so the
guarantees hold for every process and every caller, in one round trip. The budget rule: no call
that is given a limit lets ``total_cost + reserved_cost`` pass it (each check runs under the job's
row lock), and a spend recorded without a limit is flagged when it leaves the job over budget.

* ``track_cost`` -> ``record_cost``: the ``job_costs`` row and ``jobs.total_cost`` change in one
  transaction, so ``sum(job_costs.cost) == jobs.total_cost`` always. Each call carries an
  idempotency key (generated when not given), so a retried call never charges twice (the same key
  with other arguments is a :class:`~runtime.errors.ConflictError`). With ``limit=...`` the spend
  is refused atomically (:class:`~runtime.errors.BudgetExceededError`, nothing recorded) if it
  would take spend + holds past the limit. Without it the spend is recorded whatever the total
  (the money is gone and the ledger must say so), as the PRD's track-then-enforce flow expects;
  if the job is then over its default limit, :attr:`CostRecord.over_limit` is true and a warning
  is logged, and :meth:`CostTracker.enforce_budget_limit` raises.
* ``reserve`` -> ``reserve_cost``: one conditional ``UPDATE`` holds the amount only if
  ``total_cost + reserved_cost + amount <= limit``, otherwise ``BudgetExceededError`` (SQLSTATE
  ``VGB01``). Concurrent reservations from any number of processes can never take a job past its
  limit. Repeating a reservation with its idempotency key returns it while it is held; the key
  with other arguments is a ``ConflictError`` (``23505``), and a key whose reservation was already
  settled or released is a ``ConflictError`` (``VGB02``), never a hold that is not there.
* ``settle`` -> ``settle_cost``: records the actual cost and gives the hold back. Up to the amount
  held it always succeeds. Above it, the excess must fit the limit (the one the hold was taken
  under, by default): otherwise ``BudgetExceededError`` and nothing changes - the hold stays in
  place, still counted against the budget, so the caller can settle at a cost that fits, raise the
  limit, or ``release`` it. ``release`` gives the hold back without spending.
* ``check_budget`` and ``enforce_budget_limit`` read ``total_cost + reserved_cost``: they answer
  "is there room now", which may change a moment later; use ``reserve`` (or ``track_cost`` with
  ``limit``) when the answer must hold.

Money is :class:`~decimal.Decimal` everywhere: arguments must be ``Decimal`` (or ``int``), at most
6 decimal places, non-negative; floats are refused because they are not exact. The default limit
is ``settings.job_budget_limit`` ($20.00). Within one process, the operations on one job are also
ordered by an :class:`asyncio.Lock` per job, as the PRD asks; across processes the database's row
lock does that.

``cost_tracker`` uses the module-level :data:`runtime.database.db` (PostgREST); build a
``CostTracker(runtime.postgres.pg)`` to use the direct PostgreSQL path instead.

The code is split by responsibility, each part a private module: argument checks
(``_cost_inputs``), the result models (``_cost_results``), the shared plumbing (``_cost_calls``),
spending and budget checks (``_cost_spends``) and holds (``_cost_holds``); :class:`CostTracker`
joins them and adds :meth:`CostTracker.reserved`.
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from uuid import UUID

from runtime.db._cost_holds import Holds
from runtime.db._cost_inputs import DEFAULT_HOLD_SECONDS, MONEY_QUANTUM
from runtime.db._cost_results import CostRecord, CostSummary, Reservation, ReservationHandle
from runtime.db._cost_spends import Spending
from runtime.errors import BudgetExceededError, ConflictError, PipelineError
from runtime.logging import get_logger

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

_logger = get_logger("runtime.cost_tracking")


class CostTracker(Spending, Holds):
    """Records spend per job and enforces budgets through the cost SQL functions.

    Spending and budget checks (``track_cost``, ``get_cost_summary``, ``get_total_cost``,
    ``check_budget``, ``enforce_budget_limit``) and holds (``reserve``, ``settle``, ``release``,
    ``release_expired``) come from its two parts; the parts share ``database``,
    ``default_limit()`` and ``lock_for()``.

    Args:
        database: Where the SQL functions are called: :data:`runtime.database.db` (PostgREST,
            the default, resolved on each call) or a :class:`runtime.postgres.PostgresDatabase`.
        budget_limit: The default limit; ``None`` reads ``settings.job_budget_limit`` on use.

    Raises:
        ValidationError: ``budget_limit`` is not a valid amount.
    """

    @asynccontextmanager
    async def reserved(
        self,
        job_id: UUID,
        stage: str,
        api_name: str,
        amount: Decimal,
        *,
        limit: Decimal | None = None,
        idempotency_key: str | None = None,
        hold_seconds: float = DEFAULT_HOLD_SECONDS,
    ) -> AsyncIterator[ReservationHandle]:
        """Hold budget for the block; settle or release it when the block ends.

        On normal exit the hold is settled at the cost given to
        :meth:`ReservationHandle.charge`, or at the full amount if none was given. If the block
        raises, the hold is settled at the charged cost when one was given (the money was
        spent), otherwise released; then the exception propagates. A charge above the amount
        held is settled only if it fits the limit the hold was taken under; otherwise
        :class:`~runtime.errors.BudgetExceededError` is raised on exit and the hold stays in
        place (see :meth:`settle`).

        The block runs only with a hold in place: a reservation that comes back not ``held``
        is refused with :class:`~runtime.errors.ConflictError` before the block starts.

        Args:
            job_id: The job.
            stage: The stage that will spend.
            api_name: The API that will be charged.
            amount: The most the work may cost.
            limit: The budget; defaults to :meth:`default_limit`.
            idempotency_key: For the reservation (generated when not given).
            hold_seconds: The hold's lifetime (see :meth:`reserve`).

        Yields:
            A :class:`ReservationHandle`; its ``final`` is set after the block.

        Raises:
            BudgetExceededError: No room for ``amount``; the block does not run. Or, on exit,
                a charge above the amount held does not fit the limit; the hold stays.
            ConflictError: The idempotency key names a reservation that is not held (settled,
                released, or taken with other arguments); the block does not run.
        """
        hold = await self.reserve(
            job_id,
            stage,
            api_name,
            amount,
            limit=limit,
            idempotency_key=idempotency_key,
            hold_seconds=hold_seconds,
        )
        if hold.status != "held":
            raise ConflictError(
                f"cost reservation {hold.reservation_id} is {hold.status}, not held; refusing to "
                "run work that no budget is held for (use a new idempotency key)",
                hold.job_id,
                code="reservation_not_held",
                details={"reservation_id": str(hold.reservation_id), "status": hold.status},
                service="database",
            )
        handle = ReservationHandle(hold)
        try:
            yield handle
        except BaseException:
            try:
                if handle.actual_cost is not None:
                    handle.final = await self.settle(hold, handle.actual_cost)
                else:
                    handle.final = await self.release(hold)
            except PipelineError as cleanup:
                _logger.error(
                    "Could not close a cost reservation after an error; it stays held",
                    extra={
                        "job_id": hold.job_id,
                        "reservation_id": hold.reservation_id,
                        "error": str(cleanup),
                    },
                )
            raise
        cost = handle.actual_cost if handle.actual_cost is not None else hold.amount
        try:
            handle.final = await self.settle(hold, cost)
        except BudgetExceededError as refused:
            _logger.error(
                "Could not settle a cost reservation: the charge does not fit the budget; it "
                "stays held",
                extra={
                    "job_id": hold.job_id,
                    "reservation_id": hold.reservation_id,
                    "amount": str(hold.amount),
                    "actual_cost": str(cost),
                    "error": str(refused),
                },
            )
            raise


cost_tracker: CostTracker = CostTracker()
"""The process-wide tracker: PostgREST via :data:`runtime.database.db`, limit from settings."""
