"""Shared fixtures: a fresh PostgreSQL database per test (or module), real Redis, no retry waits."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from runtime.resources import sql_scripts

ADMIN_DSN = os.environ.get("VIDEOGEN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VIDEOGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SUPPORT = Path(__file__).parent / "support"


def _dsn_for(dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """Create an empty database of this test's own, yield its DSN, drop it afterwards."""
    name = f"vg_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _dsn_for(name)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def apply_schema(dsn: str, *, attempts: int = 5) -> None:
    """Apply the Supabase stand-in (roles, auth.uid()) and then every shipped SQL script.

    Roles are cluster-wide, so test sessions running at once on one server share them. The shim
    serialises its role statements with a cluster-wide lock (see supabase_shim.sql); should a
    concurrent catalog update still surface as "tuple concurrently updated", the whole
    (idempotent) set-up is retried a few times after a short pause.
    """
    for attempt in range(1, attempts + 1):
        try:
            _apply_schema_once(dsn)
            return
        except psycopg.errors.InternalError as exc:
            if "tuple concurrently updated" not in str(exc) or attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


def _apply_schema_once(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        shim = SUPPORT / "supabase_shim.sql"
        if shim.exists():
            conn.execute(shim.read_text(encoding="utf-8"))  # type: ignore[call-overload]
        for _name, text in sql_scripts():
            conn.execute(text)  # type: ignore[call-overload]


@pytest.fixture
def schema_database(fresh_database: str) -> str:
    """A fresh database with the generated DDL and the hand-written SQL applied."""
    apply_schema(fresh_database)
    return fresh_database
