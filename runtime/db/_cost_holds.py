"""Budget holds: ``reserve_cost``, ``settle_cost``, ``release_cost`` and the expiry sweep."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from runtime.db import _cost_inputs as check
from runtime.db._cost_calls import CostCalls
from runtime.db._cost_inputs import DEFAULT_HOLD_SECONDS
from runtime.db._cost_results import Released, Reservation, parse
from runtime.errors import ValidationError
from runtime.logging import get_logger

_logger = get_logger("runtime.cost_tracking")


class Holds(CostCalls):
    """Holds budget before work and settles or releases it (the reservation half)."""

    async def reserve(
        self,
        job_id: UUID,
        stage: str,
        api_name: str,
        amount: Decimal,
        *,
        limit: Decimal | None = None,
        idempotency_key: str | None = None,
        hold_seconds: float = DEFAULT_HOLD_SECONDS,
    ) -> Reservation:
        """Hold ``amount`` of the job's budget, atomically, or refuse.

        The hold lapses after ``hold_seconds``: a hold neither settled nor released by then no
        longer counts against the budget (a client that died cannot keep budget forever).
        Settling a lapsed hold is still possible, but its whole cost must then fit the limit.

        Args:
            job_id: The job.
            stage: The stage that will spend.
            api_name: The API that will be charged.
            amount: The most the work may cost.
            limit: The budget; defaults to :meth:`default_limit`.
            idempotency_key: Makes the call safe to repeat (generated when not given).
            hold_seconds: The hold's lifetime, 1 s to 7 days (default
                :data:`DEFAULT_HOLD_SECONDS`, 15 minutes); longer than the work it covers.

        Returns:
            The held reservation (``replayed`` when the key had been used and it is still held).

        Raises:
            BudgetExceededError: The hold would take the job past the limit; nothing is held.
            ConflictError: The key was used before with other arguments (``23505``), or its
                reservation was already settled or released (``VGB02``): nothing is held.
            ValidationError: A bad argument.
            NotFoundError: The job does not exist.
            PipelineError: The database call failed.
        """
        job = check.job_id(job_id)
        params = {
            "p_job_id": job,
            "p_stage_name": check.stage(stage),
            "p_api_name": check.name(api_name, "api_name"),
            "p_amount": check.money(amount, "amount"),
            "p_limit": self._limit(limit),
            "p_idempotency_key": check.idempotency_key(idempotency_key),
            "p_hold_seconds": check.hold_seconds(hold_seconds),
        }
        return parse(Reservation, await self._call("reserve_cost", params, job), "reserve_cost")

    async def settle(
        self,
        reservation: Reservation | UUID,
        actual_cost: Decimal,
        *,
        limit: Decimal | None = None,
    ) -> Reservation:
        """Turn a hold into a recorded spend of ``actual_cost``; repeating it changes nothing.

        Up to the amount held this always succeeds. Above it the excess must fit the limit
        (spend + holds - held + actual <= limit, checked atomically); otherwise nothing changes
        and the hold stays in place, so the caller can settle at a cost that fits, raise the
        limit, or :meth:`release` it.

        Args:
            reservation: The reservation (or its id).
            actual_cost: What the work really cost.
            limit: The budget for an actual cost above the amount held; defaults to the limit
                the reservation was taken under, else the default limit (when known). Without
                any, the actual cost may not exceed the amount held.

        Returns:
            The settled reservation with the job's new figures.

        Raises:
            BudgetExceededError: The actual cost exceeds the amount held and does not fit the
                limit; nothing was recorded and the hold stays.
            ValidationError: A bad argument.
            NotFoundError: No such reservation.
            ConflictError: Already settled at a different cost, or released (``55000``).
            PipelineError: The database call failed.
        """
        cost = check.money(actual_cost, "actual_cost")
        budget: Decimal | None
        if limit is not None:
            budget = check.money(limit, "limit")
        elif isinstance(reservation, Reservation) and reservation.limit is not None:
            budget = reservation.limit
        else:
            budget = self._known_limit()
        result = await self._finish(
            "settle_cost", reservation, {"p_actual_cost": cost, "p_limit": budget}, action="settle"
        )
        if result.actual_cost is not None and result.actual_cost > result.amount:
            _logger.warning(
                "Settled above the amount reserved",
                extra={
                    "job_id": result.job_id,
                    "reservation_id": result.reservation_id,
                    "amount": str(result.amount),
                    "actual_cost": str(result.actual_cost),
                },
            )
        return result

    async def release_expired(self, job_id: UUID | None = None) -> int:
        """Release every hold whose lifetime has passed (a sweep for a periodic job).

        ``reserve`` already does this lazily for its own job; this also frees holds of jobs that
        no one reserves for any more.

        Args:
            job_id: Only this job's holds; ``None`` for every job.

        Returns:
            How many holds were released.

        Raises:
            ValidationError: ``job_id`` is not a UUID.
            PipelineError: The database call failed.
        """
        params = {"p_job_id": None if job_id is None else check.job_id(job_id)}
        data = await self._call("release_expired_reservations", params, None)
        return parse(Released, data, "release_expired_reservations").released

    async def release(self, reservation: Reservation | UUID) -> Reservation:
        """Give a hold back without spending; repeating it changes nothing.

        Args:
            reservation: The reservation (or its id).

        Returns:
            The released reservation with the job's new figures.

        Raises:
            ValidationError: A bad argument.
            NotFoundError: No such reservation.
            ConflictError: The reservation was settled (SQLSTATE ``55000``).
            PipelineError: The database call failed.
        """
        return await self._finish("release_cost", reservation, {}, action="release")

    async def _finish(
        self,
        function: str,
        reservation: Reservation | UUID,
        extra: dict[str, Any],
        *,
        action: str,
    ) -> Reservation:
        if isinstance(reservation, Reservation):
            reservation_id, job = reservation.reservation_id, reservation.job_id
        elif isinstance(reservation, UUID):
            reservation_id, job = reservation, None
        else:
            raise ValidationError(
                f"{action} expects a Reservation or its UUID, got {type(reservation).__name__}"
            )
        params = {"p_reservation_id": reservation_id, **extra}
        return parse(Reservation, await self._call(function, params, job), function)
