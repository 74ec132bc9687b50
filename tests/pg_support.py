"""Scratch PostgreSQL databases for the tests, created fresh, given our SQL, dropped afterwards.

Every test module that needs a database of its own gets it here, so there is one place that
knows the admin DSN (``VIDEOGEN_TEST_PG_DSN``), how databases are named and how they are dropped.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from runtime.resources import sql_scripts

SHIM_SQL = Path(__file__).parent / "support" / "supabase_shim.sql"
ADMIN_DSN = os.environ.get("VIDEOGEN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def dsn_for(dbname: str) -> str:
    """The admin DSN pointed at another database of the same server."""
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


def create_database(prefix: str = "vg_test") -> str:
    """Create an empty database with a unique name; return the name."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return name


def drop_database(name: str) -> None:
    """Drop a database made by :func:`create_database`, closing its connections."""
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


@contextmanager
def temporary_database(prefix: str = "vg_test") -> Iterator[str]:
    """An empty database of its own, dropped on exit; yields its DSN."""
    name = create_database(prefix)
    try:
        yield dsn_for(name)
    finally:
        drop_database(name)


def apply_schema(dsn: str, *, attempts: int = 5) -> None:
    """Apply the Supabase stand-in (roles, ``auth.uid()``) and then every shipped SQL script.

    Roles are cluster-wide, so test sessions running at once on one server share them. The shim
    serialises its role statements with a cluster-wide lock (see supabase_shim.sql); should a
    concurrent catalog update still surface as "tuple concurrently updated", the whole
    (idempotent) set-up is retried a few times after a short pause.
    """
    for attempt in range(1, attempts + 1):
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(SHIM_SQL.read_text(encoding="utf-8"))  # type: ignore[call-overload]
                for _name, text in sql_scripts():
                    conn.execute(text)  # type: ignore[call-overload]
            return
        except psycopg.errors.InternalError as exc:
            if "tuple concurrently updated" not in str(exc) or attempt == attempts:
                raise
            time.sleep(0.1 * attempt)


@contextmanager
def schema_database(prefix: str = "vg_test") -> Iterator[str]:
    """A database of its own with the shim and every shipped SQL script; dropped on exit."""
    with temporary_database(prefix) as dsn:
        apply_schema(dsn)
        yield dsn
