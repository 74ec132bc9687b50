"""The Supabase stand-in can be applied by several test sessions at once on one server.

Roles are cluster-wide; without serialisation two sessions running ALTER ROLE on the same role
fail with "tuple concurrently updated". The shim takes a cluster-wide lock (on the shared catalog
pg_authid) around its role statements, so concurrent runs from different databases all succeed.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import psycopg

SHIM_SQL = Path(__file__).parents[2] / "support" / "supabase_shim.sql"
ADMIN_DSN = os.environ.get("VIDEOGEN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _dsn_for(name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


def test_shim_applied_concurrently_from_several_databases_never_fails() -> None:
    names = [f"vg_test_shim_{uuid.uuid4().hex[:12]}" for _ in range(6)]
    shim = SHIM_SQL.read_text(encoding="utf-8")
    errors: list[BaseException] = []
    start = threading.Barrier(len(names))

    def apply(name: str) -> None:
        try:
            with psycopg.connect(_dsn_for(name), autocommit=True) as conn:
                start.wait(timeout=30)
                for _ in range(4):
                    conn.execute(shim)  # type: ignore[call-overload]
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        threads = [threading.Thread(target=apply, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    assert errors == []
