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
``from_settings()``). See ``docs/database.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.db._common import (
        MAX_CONNECTIONS,
        FunctionCaller,
        check_identifier,
        loads_exact,
        money_fields,
        to_json_value,
    )
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
    from runtime.db._transaction import (
        MAX_BATCH_OPERATIONS,
        PendingWrite,
        TableWriter,
        Transaction,
    )

__all__ = [
    "DEFAULT_HOLD_SECONDS",
    "MAX_BATCH_OPERATIONS",
    "MAX_CONNECTIONS",
    "MONEY_QUANTUM",
    "CostRecord",
    "CostSummary",
    "CostTracker",
    "Database",
    "DatabaseOptions",
    "FunctionCaller",
    "PendingWrite",
    "PostgresDatabase",
    "PostgresOptions",
    "Query",
    "Reservation",
    "ReservationHandle",
    "TableWriter",
    "Transaction",
    "check_identifier",
    "cost_tracker",
    "db",
    "loads_exact",
    "money_fields",
    "pg",
    "to_json_value",
]

_LAZY: dict[str, str] = {
    "DEFAULT_HOLD_SECONDS": "runtime.db._costs",
    "MAX_BATCH_OPERATIONS": "runtime.db._transaction",
    "MAX_CONNECTIONS": "runtime.db._common",
    "MONEY_QUANTUM": "runtime.db._costs",
    "CostRecord": "runtime.db._costs",
    "CostSummary": "runtime.db._costs",
    "CostTracker": "runtime.db._costs",
    "Database": "runtime.db._postgrest",
    "DatabaseOptions": "runtime.db._options",
    "FunctionCaller": "runtime.db._common",
    "PendingWrite": "runtime.db._transaction",
    "PostgresDatabase": "runtime.db._postgres",
    "PostgresOptions": "runtime.db._options",
    "Query": "runtime.db._query",
    "Reservation": "runtime.db._costs",
    "ReservationHandle": "runtime.db._costs",
    "TableWriter": "runtime.db._transaction",
    "Transaction": "runtime.db._transaction",
    "check_identifier": "runtime.db._common",
    "cost_tracker": "runtime.db._costs",
    "db": "runtime.db._postgrest",
    "loads_exact": "runtime.db._common",
    "money_fields": "runtime.db._common",
    "pg": "runtime.db._postgres",
    "to_json_value": "runtime.db._common",
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
