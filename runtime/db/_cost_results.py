"""What the cost functions return, validated from their JSON by pydantic.

The SQL functions (``sql/handwritten/010_cost_functions.sql``) answer with a JSON object whose
money is always a decimal string. Each result type here is a frozen pydantic model built on the
contract's own scalar types from :mod:`generated._types`: :data:`~generated._types.Money` (an
exact :class:`~decimal.Decimal` read from the string, never a float), :data:`~generated._types.Uuid`
and :data:`~generated._types.Timestamp` (timezone-aware). The generated row models
(``CostReservation``, ``JobCost``) are not used as they are: these results join a row with the
job's figures after the call (``total_cost``, ``reserved_cost``, ``limit``, ``replayed``,
``recorded``) and leave out row columns (``created_at``, ``settled_at``, ``idempotency_key``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic import ValidationError as ResultShapeError

from generated._types import Money, NullableMoney, NullableTimestamp, Uuid
from runtime.db import _cost_inputs as check
from runtime.errors import BudgetExceededError, DatabaseError

_FIGURES: Final = (
    "total_cost",
    "reserved_cost",
    "requested",
    "limit",
    "reservation_id",
    "held",
    "actual_cost",
)


class _Result(BaseModel):
    """A cost function's answer: read-only; keys the model does not name are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class CostRecord(_Result):
    """The outcome of :meth:`CostTracker.track_cost` (``record_cost``'s result).

    Attributes:
        cost_id: The ``job_costs`` row.
        job_id: The job charged.
        cost: The amount recorded.
        total_cost: The job's total after this call.
        recorded: ``False`` when the idempotency key had already been used (nothing charged).
        reserved_cost: The job's held amount after this call.
        limit: The limit the job was compared with (``None`` when none was known).
    """

    cost_id: Uuid
    job_id: Uuid
    cost: Money
    total_cost: Money
    recorded: bool
    reserved_cost: Money = Decimal(0)
    limit: NullableMoney = None

    @property
    def over_limit(self) -> bool:
        """Whether spend plus holds is now past :attr:`limit` (``False`` without a limit)."""
        return self.limit is not None and self.total_cost + self.reserved_cost > self.limit


class Reservation(_Result):
    """A budget hold (``cost_reservations`` row) and the job's figures after the call.

    The result of ``reserve_cost``, ``settle_cost`` and ``release_cost``.

    Attributes:
        reservation_id: The reservation.
        job_id: The job.
        stage_name: The stage that reserved.
        api_name: The API to be charged.
        amount: The amount held.
        status: ``held``, ``settled`` or ``released``.
        actual_cost: The settled cost (``None`` unless settled).
        total_cost: The job's recorded spend after the call.
        reserved_cost: The job's total held amount after the call.
        replayed: ``True`` when the call repeated an earlier one (same key while held, or
            already settled/released) and changed nothing.
        limit: The limit the call was checked against (the reservation's; ``None`` if none).
        expires_at: When the hold lapses if not settled or released (see
            :data:`DEFAULT_HOLD_SECONDS`).
    """

    reservation_id: Uuid
    job_id: Uuid
    stage_name: str
    api_name: str
    amount: Money
    status: Literal["held", "settled", "released"]
    actual_cost: NullableMoney = None
    total_cost: Money
    reserved_cost: Money
    replayed: bool
    limit: NullableMoney = None
    expires_at: NullableTimestamp = None


class CostSummary(_Result):
    """A job's money, read consistently in one statement (``job_cost_summary``'s result).

    Attributes:
        job_id: The job.
        total_cost: Recorded spend (``jobs.total_cost``).
        reserved_cost: Amount held by open reservations.
        by_stage: Recorded spend per stage (sum of ``job_costs``).
    """

    job_id: Uuid
    total_cost: Money
    reserved_cost: Money
    by_stage: Annotated[Mapping[str, Money], BeforeValidator(lambda v: {} if v is None else v)] = {}

    @property
    def committed(self) -> Decimal:
        """Spend plus holds: what counts against the budget."""
        return self.total_cost + self.reserved_cost


class Released(_Result):
    """``release_expired_reservations``' result: how many expired holds it released."""

    released: int


_R = TypeVar("_R", bound=_Result)


def parse(result: type[_R], data: Any, function: str) -> _R:
    """Validate a cost function's JSON result into its model.

    Args:
        result: The model.
        data: The decoded JSON.
        function: The SQL function, for the message.

    Returns:
        The validated result.

    Raises:
        DatabaseError: The result does not have the expected shape.
    """
    try:
        return result.model_validate(data)
    except ResultShapeError as exc:
        problems = [
            f"{'.'.join(map(str, error['loc'])) or 'result'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise DatabaseError(
            f"{function} returned an unexpected result: {'; '.join(problems)}",
            details={"function": function, "problems": problems},
        ) from exc


def add_budget_figures(exc: BudgetExceededError) -> None:
    """Copy the figures a VGB01 error's DETAIL (a JSON object) carries into ``exc.details``.

    The cost functions raise VGB01 with the same keys wherever they refuse (``_vg_budget_exceeded``
    in the SQL): ``total_cost``, ``reserved_cost``, ``requested``, ``limit`` and, from a settle,
    ``reservation_id``, ``held``, ``actual_cost``. A DETAIL that is not such an object adds nothing.

    Args:
        exc: The error, as the database client raised it.
    """
    raw = exc.details.get("upstream_details")
    if not isinstance(raw, str):
        return
    try:
        figures = json.loads(raw)
    except ValueError:
        return
    if isinstance(figures, dict):
        exc.details.update({key: figures[key] for key in _FIGURES if key in figures})


class ReservationHandle:
    """What :meth:`CostTracker.reserved` yields: the hold, and the cost to settle it at."""

    def __init__(self, reservation: Reservation) -> None:
        self.reservation = reservation
        self.actual_cost: Decimal | None = None
        self.final: Reservation | None = None

    def charge(self, actual_cost: Decimal) -> None:
        """Set the cost to settle at when the block ends (also when it then raises).

        Args:
            actual_cost: What the API call really cost.

        Raises:
            ValidationError: Not a valid amount.
        """
        self.actual_cost = check.money(actual_cost, "actual_cost")
