"""Fixtures for the contract tests: one schema-applied PostgreSQL database per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pg_support import temporary_database

from runtime.resources import sql_scripts

SHIM = Path(__file__).parent.parent / "support" / "supabase_shim.sql"


@pytest.fixture(scope="module")
def contracts_database() -> Iterator[str]:
    """A fresh database with every shipped SQL script applied, shared by one test module."""
    yield from _database(generated_only=False)


@pytest.fixture(scope="module")
def generated_ddl_database() -> Iterator[str]:
    """A fresh database with only the generated DDL (``generated/*.sql``), shared by one module.

    The hand-written SQL adds server-side rules that change stored values on purpose (for example
    a trigger adds the ledger spend already recorded for the stage to ``job_stages.cost`` on
    insert); the model/table round trip is about the generated tables themselves. Module scope
    lets Hypothesis tests reuse it (each example runs in a rolled-back transaction).
    """
    yield from _database(generated_only=True)


def _database(*, generated_only: bool) -> Iterator[str]:
    with temporary_database("vg_contracts") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            if SHIM.exists():
                conn.execute(SHIM.read_text(encoding="utf-8"))  # type: ignore[call-overload]
            for script, text in sql_scripts():
                if generated_only and not script.startswith("generated/"):
                    continue
                conn.execute(text)  # type: ignore[call-overload]
        yield dsn
