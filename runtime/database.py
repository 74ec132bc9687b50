"""The PostgREST path, under the name the README and the PRD teach.

``from runtime.database import db`` keeps working: this module is a thin re-export.

The client lives in :mod:`runtime.db` (``runtime/db/_postgrest.py``), with the
parts both paths share. Importing this module opens no connection and reads no configuration.
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

from typing import Any

from runtime.db._common import (
    MAX_CONNECTIONS,
    FunctionCaller,
    check_identifier,
    loads_exact,
    money_fields,
    to_json_value,
)
from runtime.db._options import DatabaseOptions
from runtime.db._postgrest import Database, db
from runtime.db._query import Query
from runtime.db._requests import repeat_is_safe
from runtime.db._transaction import MAX_BATCH_OPERATIONS, PendingWrite, TableWriter, Transaction

__all__ = [
    "MAX_BATCH_OPERATIONS",
    "MAX_CONNECTIONS",
    "Database",
    "DatabaseOptions",
    "FunctionCaller",
    "PendingWrite",
    "Query",
    "TableWriter",
    "Transaction",
    "check_identifier",
    "db",
    "loads_exact",
    "repeat_is_safe",
    "to_json_value",
]


def __getattr__(name: str) -> Any:
    if name == "MONEY_FIELDS":  # the former constant, now computed on first use (money_fields)
        return money_fields()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
