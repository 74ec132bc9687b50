"""Spending and reading the budget: ``record_cost`` and ``job_cost_summary``."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from runtime.db import _cost_inputs as check
from runtime.db._cost_calls import CostCalls
from runtime.db._cost_results import CostRecord, CostSummary, parse
from runtime.errors import BudgetExceededError
from runtime.logging import get_logger

_logger = get_logger("runtime.cost_tracking")


class Spending(CostCalls):
    """Records spend and answers "is there room" (the spend half of ``CostTracker``)."""

    async def track_cost(
        self,
        job_id: UUID,
        stage: str,
        api_name: str,
        cost: Decimal,
        *,
        idempotency_key: str | None = None,
        limit: Decimal | None = None,
    ) -> CostRecord:
        """Record a spend: a ``job_costs`` row and ``jobs.total_cost``, atomically.

        Args:
            job_id: The job to charge.
            stage: The stage that made the call (``"video_generation"``).
            api_name: The API or model charged (``"svd"``).
            cost: The amount spent, in dollars.
            idempotency_key: Makes the call safe to repeat: a second call with the same key
                charges nothing and returns the first result. Generated when not given (which
                protects this call's own retries).
            limit: Enforce this budget atomically: the spend is refused, and nothing recorded,
                if spend + holds + ``cost`` would exceed it. Without it the spend is recorded
                whatever the total; the record is then compared with the default limit (when one
                is known) and :attr:`CostRecord.over_limit` is set and a warning logged if the job
                is over it.

        Returns:
            The ledger row and the job's new figures.

        Raises:
            ValidationError: A bad argument (a float cost, negative, more than 6 decimals...).
            BudgetExceededError: ``limit`` was given and the spend does not fit; ``details`` has
                the figures.
            NotFoundError: The job does not exist.
            ConflictError: The key was used before with different arguments.
            PipelineError: The database call failed.
        """
        job = check.job_id(job_id)
        enforced = None if limit is None else check.money(limit, "limit")
        params = {
            "p_job_id": job,
            "p_stage_name": check.stage(stage),
            "p_api_name": check.name(api_name, "api_name"),
            "p_cost": check.money(cost, "cost"),
            "p_idempotency_key": check.idempotency_key(idempotency_key),
            "p_limit": enforced,
        }
        data = await self._call("record_cost", params, job)
        if isinstance(data, dict) and data.get("limit") is None:
            data = {**data, "limit": self._known_limit()}  # flagged against the default limit
        record = parse(CostRecord, data, "record_cost")
        if record.over_limit:
            _logger.warning(
                "Job over budget after a recorded spend",
                extra={
                    "job_id": job,
                    "stage": params["p_stage_name"],
                    "api_name": params["p_api_name"],
                    "cost": str(record.cost),
                    "total_cost": str(record.total_cost),
                    "reserved_cost": str(record.reserved_cost),
                    "limit": str(record.limit),
                },
            )
        _logger.debug(
            "Cost recorded" if record.recorded else "Cost already recorded (same key)",
            extra={
                "job_id": job,
                "stage": params["p_stage_name"],
                "api_name": params["p_api_name"],
                "cost": str(record.cost),
                "total_cost": str(record.total_cost),
            },
        )
        return record

    async def get_cost_summary(self, job_id: UUID) -> CostSummary:
        """Return the job's spend, holds and spend per stage.

        Args:
            job_id: The job.

        Returns:
            The summary.

        Raises:
            ValidationError: ``job_id`` is not a UUID.
            NotFoundError: The job does not exist.
            PipelineError: The database call failed.
        """
        job = check.job_id(job_id)
        data = await self._call("job_cost_summary", {"p_job_id": job}, job, lock=False)
        return parse(CostSummary, data, "job_cost_summary")

    async def get_total_cost(self, job_id: UUID) -> Decimal:
        """Return the job's recorded spend (``jobs.total_cost``).

        Args:
            job_id: The job.

        Returns:
            The total, exact.

        Raises:
            ValidationError: ``job_id`` is not a UUID.
            NotFoundError: The job does not exist.
            PipelineError: The database call failed.
        """
        return (await self.get_cost_summary(job_id)).total_cost

    async def check_budget(
        self, job_id: UUID, new_cost: Decimal, limit: Decimal | None = None
    ) -> bool:
        """Tell whether ``new_cost`` fits in the budget now (spend + holds + new <= limit).

        This is a snapshot, not a promise; use :meth:`reserve` when it must hold.

        Args:
            job_id: The job.
            new_cost: The spend being considered.
            limit: The budget; defaults to :meth:`default_limit`.

        Returns:
            ``True`` if it fits.

        Raises:
            ValidationError: A bad argument.
            NotFoundError: The job does not exist.
            PipelineError: The database call failed.
        """
        extra = check.money(new_cost, "new_cost")
        budget = self._limit(limit)
        summary = await self.get_cost_summary(job_id)
        return summary.committed + extra <= budget

    async def enforce_budget_limit(
        self,
        job_id: UUID,
        limit: Decimal | None = None,
        *,
        new_cost: Decimal = Decimal(0),
    ) -> None:
        """Raise if the job's spend plus holds (plus ``new_cost``) is over the limit.

        Args:
            job_id: The job.
            limit: The budget; defaults to :meth:`default_limit`.
            new_cost: A spend about to be made, counted as well.

        Raises:
            BudgetExceededError: Over the limit; ``details`` has the figures.
            ValidationError: A bad argument.
            NotFoundError: The job does not exist.
            PipelineError: The database call failed.
        """
        extra = check.money(new_cost, "new_cost")
        budget = self._limit(limit)
        job = check.job_id(job_id)
        summary = await self.get_cost_summary(job)
        if summary.committed + extra > budget:
            raise BudgetExceededError(
                f"budget exceeded for job {job}: spent {summary.total_cost} + reserved "
                f"{summary.reserved_cost} + new {extra} > limit {budget}",
                job,
                details={
                    "total_cost": str(summary.total_cost),
                    "reserved_cost": str(summary.reserved_cost),
                    "requested": str(extra),
                    "limit": str(budget),
                },
            )
