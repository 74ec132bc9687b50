"""The database: the PostgREST and direct PostgreSQL paths, and cost tracking on either.

:data:`db` is the PostgREST client, :data:`pg` the direct one, :data:`cost_tracker` the budget
ledger (over ``db`` by default).

Names load on first use (PEP 562), so ``from runtime.db import pg`` loads psycopg but not
supabase or postgrest, and ``from runtime.db import db`` the reverse; importing this package
loads no backend library and reads no configuration::

    from runtime.db import cost_tracker, db, pg

    rows = (await db.table("jobs").select("*").eq("id", str(job_id)).execute()).data
    summary = await pg.call_function("job_cost_summary", {"p_job_id": job_id})
    await cost_tracker.track_cost(job_id, "video_generation", "svd", Decimal("0.06"))

Both paths offer the same ``call_function`` and ``transaction()`` (:class:`FunctionCaller`);
their options are :class:`DatabaseOptions` and :class:`PostgresOptions` (``options=`` or
``from_settings()``). See ``docs/database.md``. The plumbing both paths share (``to_json_value``,
``loads_exact``, ``check_identifier``, the money fields) stays private; :mod:`runtime.database`
still re-exports what 1.0 exported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.db._common import FunctionCaller
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
    from runtime.db._options import DatabaseOptions, PostgresOptions
    from runtime.db._postgres import PostgresDatabase, pg
    from runtime.db._postgrest import Database, db
    from runtime.db._query import Query
    from runtime.db._transaction import MAX_BATCH_OPERATIONS, Transaction

__all__ = [
    "DEFAULT_HOLD_SECONDS",
    "MAX_BATCH_OPERATIONS",
    "MONEY_QUANTUM",
    "CostRecord",
    "CostSummary",
    "CostTracker",
    "Database",
    "DatabaseOptions",
    "FunctionCaller",
    "PostgresDatabase",
    "PostgresOptions",
    "Query",
    "Reservation",
    "ReservationHandle",
    "Transaction",
    "cost_tracker",
    "db",
    "pg",
]

_LAZY: dict[str, str] = {
    "DEFAULT_HOLD_SECONDS": "runtime.db._costs",
    "MAX_BATCH_OPERATIONS": "runtime.db._transaction",
    "MONEY_QUANTUM": "runtime.db._costs",
    "CostRecord": "runtime.db._costs",
    "CostSummary": "runtime.db._costs",
    "CostTracker": "runtime.db._costs",
    "Database": "runtime.db._postgrest",
    "DatabaseOptions": "runtime.db._options",
    "FunctionCaller": "runtime.db._common",
    "PostgresDatabase": "runtime.db._postgres",
    "PostgresOptions": "runtime.db._options",
    "Query": "runtime.db._query",
    "Reservation": "runtime.db._costs",
    "ReservationHandle": "runtime.db._costs",
    "Transaction": "runtime.db._transaction",
    "cost_tracker": "runtime.db._costs",
    "db": "runtime.db._postgrest",
    "pg": "runtime.db._postgres",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
