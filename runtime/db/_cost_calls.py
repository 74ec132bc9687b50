"""The cost tracker's plumbing: where the SQL functions are called, the limits, the job locks."""

from __future__ import annotations

import asyncio
import weakref
from decimal import Decimal
from typing import Any
from uuid import UUID

from runtime.db import _cost_inputs as check
from runtime.db._common import FunctionCaller
from runtime.db._cost_results import add_budget_figures
from runtime.errors import BudgetExceededError, ConfigError


class CostCalls:
    """The state every part of :class:`~runtime.db._costs.CostTracker` shares.

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
        self._budget_limit = (
            None if budget_limit is None else check.money(budget_limit, "budget_limit")
        )
        self._locks: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def database(self) -> FunctionCaller:
        """The function caller in use."""
        if self._database is not None:
            return self._database
        from runtime.db._postgrest import db

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
        return self.default_limit() if limit is None else check.money(limit, "limit")

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

    async def _call(
        self, function: str, params: dict[str, Any], job: UUID | None, *, lock: bool = True
    ) -> Any:
        """Call one cost function (idempotent: each carries a key or changes nothing twice).

        With ``job`` the call is tagged with it and, unless ``lock`` is false, made under the
        job's in-process lock. A budget refusal (VGB01) gets its figures in ``details``.
        """
        try:
            if job is None:
                return await self.database.call_function(function, params, idempotent=True)
            if not lock:
                return await self.database.call_function(
                    function, params, idempotent=True, job_id=job
                )
            async with self.lock_for(job):
                return await self.database.call_function(
                    function, params, idempotent=True, job_id=job
                )
        except BudgetExceededError as exc:
            add_budget_figures(exc)
            raise
