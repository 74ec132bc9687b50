"""The direct PostgreSQL path, under its former name: ``from runtime.postgres import pg``.

A thin re-export: the client lives in :mod:`runtime.db` (``runtime/db/_postgres.py``). Importing
this module opens no connection and reads no configuration.
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("db"):  # pragma: no cover - tested in a base install
    raise _extras.missing("db", __name__)

from runtime.db._options import PostgresOptions
from runtime.db._postgres import PostgresDatabase, pg, repeat_is_safe

__all__ = ["PostgresDatabase", "PostgresOptions", "pg", "repeat_is_safe"]
