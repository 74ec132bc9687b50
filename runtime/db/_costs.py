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
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

import asyncio
import json
import math
import re
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal
from uuid import UUID, uuid4

from runtime.database import FunctionCaller, to_json_value
from runtime.errors import (
    BudgetExceededError,
    ConfigError,
    ConflictError,
    DatabaseError,
    PipelineError,
    ValidationError,
)
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
    "get_cost_tracker",
]

MONEY_QUANTUM: Final = Decimal("0.000001")
"""The smallest amount stored (``numeric(18,6)``)."""

DEFAULT_HOLD_SECONDS: Final = 900
"""A reservation's lifetime unless ``reserve(hold_seconds=...)`` says otherwise (15 minutes):
a hold neither settled nor released by then stops counting against the budget and is released
(lazily by the next reservation on the job, or by :meth:`CostTracker.release_expired`)."""

MAX_HOLD_SECONDS: Final = 7 * 24 * 3600

_MONEY_LIMIT: Final = Decimal(10) ** 12
_RESERVED_KEY_PREFIX: Final = "reservation:"
_MAX_KEY_LENGTH: Final = 200
_MAX_NAME_LENGTH: Final = 100

_logger = get_logger("runtime.cost_tracking")


# -- values ---------------------------------------------------------------------------------


def _money(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValidationError(
            f"{name} must be a Decimal (or int), got {type(value).__name__}; "
            "floats are not exact, use Decimal('0.06')"
        )
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValidationError(f"{name} must be a finite amount, got {amount}")
    if amount < 0:
        raise ValidationError(f"{name} must be >= 0, got {amount}")
    if amount >= _MONEY_LIMIT:
        raise ValidationError(f"{name} is too large: {amount}")
    try:
        exact = amount.quantize(MONEY_QUANTUM) == amount
    except InvalidOperation:  # pragma: no cover - bounded above, so quantize cannot overflow
        exact = False
    if not exact:
        raise ValidationError(f"{name} has more than 6 decimal places: {amount}")
    return amount


def _job_id(value: Any) -> UUID:
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise ValidationError(f"job_id must be a UUID, got {value!r}")


def _stage_pattern() -> re.Pattern[str]:
    """The schema's StageName pattern, as the generated ``JobCost`` model carries it."""
    from generated.job import JobCost

    for item in JobCost.model_fields["stage_name"].metadata:
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            return re.compile(pattern)
    raise ConfigError("the generated JobCost model has no stage_name pattern")  # pragma: no cover


_STAGE_NAME: Final = _stage_pattern()


def _name(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty string, got {value!r}")
    if len(value) > _MAX_NAME_LENGTH:
        raise ValidationError(f"{name} is longer than {_MAX_NAME_LENGTH} characters")
    return to_json_value(value)  # type: ignore[no-any-return]  # NUL, lone surrogates


def _stage(value: Any) -> str:
    if not isinstance(value, str) or _STAGE_NAME.fullmatch(value) is None:
        raise ValidationError(
            f"stage must be a snake_case stage name ({_STAGE_NAME.pattern}), got {value!r}"
        )
    return value


def _key(value: Any) -> str:
    if value is None:
        return f"auto:{uuid4()}"
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"idempotency_key must be a non-empty string, got {value!r}")
    if len(value) > _MAX_KEY_LENGTH:
        raise ValidationError(f"idempotency_key is longer than {_MAX_KEY_LENGTH} characters")
    to_json_value(value)  # NUL, lone surrogates
    if value.startswith(_RESERVED_KEY_PREFIX):
        raise ValidationError(
            f"idempotency keys starting with {_RESERVED_KEY_PREFIX!r} are reserved for settle"
        )
    return value


def _decimal(data: Mapping[str, Any], key: str) -> Decimal:
    value = data.get(key)
    if value is None:
        raise DatabaseError(f"the database result has no {key!r}", details={"result": dict(data)})
    return Decimal(str(value))


def _optional_decimal(data: Mapping[str, Any], key: str) -> Decimal | None:
    value = data.get(key)
    return None if value is None else Decimal(str(value))


def _optional_datetime(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise DatabaseError(f"the database result's {key!r} is not a timestamp") from exc


def _hold_seconds(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"hold_seconds must be a number of seconds, got {value!r}")
    if not 1 <= value <= MAX_HOLD_SECONDS:
        raise ValidationError(f"hold_seconds must be between 1 and {MAX_HOLD_SECONDS}, got {value}")
    return math.ceil(value)


def _result(data: Any, function: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise DatabaseError(
            f"{function} returned {type(data).__name__}, expected a JSON object",
            details={"function": function},
        )
    return data


# -- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRecord:
    """The outcome of :meth:`CostTracker.track_cost`.

    Args:
        cost_id: The ``job_costs`` row.
        job_id: The job charged.
        cost: The amount recorded.
        total_cost: The job's total after this call.
        recorded: ``False`` when the idempotency key had already been used (nothing charged).
        reserved_cost: The job's held amount after this call.
        limit: The limit the job was compared with (``None`` when none was known).
    """

    cost_id: UUID
    job_id: UUID
    cost: Decimal
    total_cost: Decimal
    recorded: bool
    reserved_cost: Decimal = Decimal(0)
    limit: Decimal | None = None

    @property
    def over_limit(self) -> bool:
        """Whether spend plus holds is now past :attr:`limit` (``False`` without a limit)."""
        return self.limit is not None and self.total_cost + self.reserved_cost > self.limit

    @classmethod
    def from_json(cls, data: Any) -> CostRecord:
        """Build from ``record_cost``'s JSON result.

        Args:
            data: The decoded result.

        Returns:
            The record.

        Raises:
            DatabaseError: The result does not have the expected shape.
        """
        row = _result(data, "record_cost")
        return cls(
            cost_id=UUID(str(row["cost_id"])),
            job_id=UUID(str(row["job_id"])),
            cost=_decimal(row, "cost"),
            total_cost=_decimal(row, "total_cost"),
            recorded=bool(row["recorded"]),
            reserved_cost=_decimal(row, "reserved_cost") if "reserved_cost" in row else Decimal(0),
            limit=_optional_decimal(row, "limit"),
        )


@dataclass(frozen=True)
class Reservation:
    """A budget hold (``cost_reservations`` row) and the job's figures after the call.

    Args:
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

    reservation_id: UUID
    job_id: UUID
    stage_name: str
    api_name: str
    amount: Decimal
    status: Literal["held", "settled", "released"]
    actual_cost: Decimal | None
    total_cost: Decimal
    reserved_cost: Decimal
    replayed: bool
    limit: Decimal | None = None
    expires_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Any) -> Reservation:
        """Build from the JSON result of ``reserve_cost``, ``settle_cost`` or ``release_cost``.

        Args:
            data: The decoded result.

        Returns:
            The reservation.

        Raises:
            DatabaseError: The result does not have the expected shape.
        """
        row = _result(data, "reserve_cost")
        status = row.get("status")
        if status not in ("held", "settled", "released"):
            raise DatabaseError(f"unexpected reservation status {status!r}")
        return cls(
            reservation_id=UUID(str(row["reservation_id"])),
            job_id=UUID(str(row["job_id"])),
            stage_name=str(row["stage_name"]),
            api_name=str(row["api_name"]),
            amount=_decimal(row, "amount"),
            status=status,
            actual_cost=_optional_decimal(row, "actual_cost"),
            total_cost=_decimal(row, "total_cost"),
            reserved_cost=_decimal(row, "reserved_cost"),
            replayed=bool(row["replayed"]),
            limit=_optional_decimal(row, "limit"),
            expires_at=_optional_datetime(row, "expires_at"),
        )


@dataclass(frozen=True)
class CostSummary:
    """A job's money, read consistently in one statement.

    Args:
        job_id: The job.
        total_cost: Recorded spend (``jobs.total_cost``).
        reserved_cost: Amount held by open reservations.
        by_stage: Recorded spend per stage (sum of ``job_costs``).
    """

    job_id: UUID
    total_cost: Decimal
    reserved_cost: Decimal
    by_stage: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def committed(self) -> Decimal:
        """Spend plus holds: what counts against the budget."""
        return self.total_cost + self.reserved_cost

    @classmethod
    def from_json(cls, data: Any) -> CostSummary:
        """Build from ``job_cost_summary``'s JSON result.

        Args:
            data: The decoded result.

        Returns:
            The summary.

        Raises:
            DatabaseError: The result does not have the expected shape.
        """
        row = _result(data, "job_cost_summary")
        stages = row.get("by_stage") or {}
        return cls(
            job_id=UUID(str(row["job_id"])),
            total_cost=_decimal(row, "total_cost"),
            reserved_cost=_decimal(row, "reserved_cost"),
            by_stage={str(k): Decimal(str(v)) for k, v in dict(stages).items()},
        )


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
        self.actual_cost = _money(actual_cost, "actual_cost")


# -- the tracker ----------------------------------------------------------------------------


class CostTracker:
    """Records spend per job and enforces budgets through the cost SQL functions.

    Args:
        database: Where the SQL functions are called: :data:`runtime.database.db` (PostgREST,
            the default, resolved on each call) or a :class:`runtime.postgres.PostgresDatabase`.
        budget_limit: The default limit; ``None`` reads ``settings.job_budget_limit`` on use.

    Raises:
        ValidationError: ``budget_limit`` is not a valid amount.
    """

    def __init__(
        self, database: FunctionCaller | None = None, *, budget_limit: Decimal | None = None
    ) -> None:
        self._database = database
        self._budget_limit = None if budget_limit is None else _money(budget_limit, "budget_limit")
        self._locks: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def database(self) -> FunctionCaller:
        """The function caller in use."""
        if self._database is not None:
            return self._database
        from runtime.database import db

        return db

    def default_limit(self) -> Decimal:
        """Return the budget limit used when a call gives none.

        Returns:
            ``budget_limit`` if given, else ``settings.job_budget_limit`` ($20.00 by default).

        Raises:
            ConfigError: The settings are missing or invalid.
        """
        if self._budget_limit is not None:
            return self._budget_limit
        from runtime.config import get_settings

        return get_settings().job_budget_limit

    def _limit(self, limit: Decimal | None) -> Decimal:
        return self.default_limit() if limit is None else _money(limit, "limit")

    def _known_limit(self) -> Decimal | None:
        """The default limit if one can be known, else ``None`` (no budget_limit, no settings).

        Used only to flag a spend already recorded, which must not fail for want of settings.
        """
        if self._budget_limit is not None:
            return self._budget_limit
        try:
            return self.default_limit()
        except ConfigError:
            return None

    def lock_for(self, job_id: UUID) -> asyncio.Lock:
        """Return the in-process lock that orders this job's cost operations.

        Args:
            job_id: The job.

        Returns:
            The same lock for as long as anyone holds a reference to it.
        """
        lock = self._locks.get(job_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[job_id] = lock
        return lock

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
        job = _job_id(job_id)
        enforced = None if limit is None else _money(limit, "limit")
        params = {
            "p_job_id": job,
            "p_stage_name": _stage(stage),
            "p_api_name": _name(api_name, "api_name"),
            "p_cost": _money(cost, "cost"),
            "p_idempotency_key": _key(idempotency_key),
            "p_limit": enforced,
        }
        async with self.lock_for(job):
            try:
                data = await self.database.call_function(
                    "record_cost", params, idempotent=True, job_id=job
                )
            except BudgetExceededError as exc:
                exc.details.update(_budget_figures(exc))
                raise
        record = CostRecord.from_json(data)
        if record.limit is None:
            record = replace(record, limit=self._known_limit())
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
        job = _job_id(job_id)
        data = await self.database.call_function(
            "job_cost_summary", {"p_job_id": job}, idempotent=True, job_id=job
        )
        return CostSummary.from_json(data)

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
        extra = _money(new_cost, "new_cost")
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
        extra = _money(new_cost, "new_cost")
        budget = self._limit(limit)
        job = _job_id(job_id)
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
        job = _job_id(job_id)
        params = {
            "p_job_id": job,
            "p_stage_name": _stage(stage),
            "p_api_name": _name(api_name, "api_name"),
            "p_amount": _money(amount, "amount"),
            "p_limit": self._limit(limit),
            "p_idempotency_key": _key(idempotency_key),
            "p_hold_seconds": _hold_seconds(hold_seconds),
        }
        async with self.lock_for(job):
            try:
                data = await self.database.call_function(
                    "reserve_cost", params, idempotent=True, job_id=job
                )
            except BudgetExceededError as exc:
                exc.details.update(_budget_figures(exc))
                raise
        return Reservation.from_json(data)

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
        cost = _money(actual_cost, "actual_cost")
        budget: Decimal | None
        if limit is not None:
            budget = _money(limit, "limit")
        elif isinstance(reservation, Reservation) and reservation.limit is not None:
            budget = reservation.limit
        else:
            budget = self._known_limit()
        try:
            result = await self._finish(
                "settle_cost",
                reservation,
                {"p_actual_cost": cost, "p_limit": budget},
                action="settle",
            )
        except BudgetExceededError as exc:
            exc.details.update(_budget_figures(exc))
            raise
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
        params = {"p_job_id": None if job_id is None else _job_id(job_id)}
        data = await self.database.call_function(
            "release_expired_reservations", params, idempotent=True
        )
        return int(_result(data, "release_expired_reservations")["released"])

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
        if job is None:
            data = await self.database.call_function(function, params, idempotent=True)
        else:
            async with self.lock_for(job):
                data = await self.database.call_function(
                    function, params, idempotent=True, job_id=job
                )
        return Reservation.from_json(data)

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


def _budget_figures(exc: BudgetExceededError) -> dict[str, Any]:
    """Parse the figures the cost functions put in a VGB01 error's DETAIL (a JSON object)."""
    raw = exc.details.get("upstream_details")
    if not isinstance(raw, str):
        return {}
    try:
        figures = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(figures, dict):
        return {}
    keys = (
        "total_cost",
        "reserved_cost",
        "requested",
        "limit",
        "reservation_id",
        "held",
        "actual_cost",
    )
    return {key: figures[key] for key in keys if key in figures}


def get_cost_tracker() -> CostTracker:
    """Return the process-wide :data:`cost_tracker` (for dependency injection).

    Returns:
        The module-level tracker.
    """
    return cost_tracker


cost_tracker: CostTracker = CostTracker()
"""The process-wide tracker: PostgREST via :data:`runtime.database.db`, limit from settings."""
