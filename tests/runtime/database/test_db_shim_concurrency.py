"""The Supabase stand-in can be applied by several test sessions at once on one server.

Roles are cluster-wide; without serialisation two sessions running ALTER ROLE on the same role
fail with "tuple concurrently updated". The shim takes a cluster-wide lock (on the shared catalog
pg_authid) around its role statements, so concurrent runs from different databases all succeed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
from pg_support import create_database, drop_database, dsn_for

SHIM_SQL = Path(__file__).parents[2] / "support" / "supabase_shim.sql"


def test_shim_applied_concurrently_from_several_databases_never_fails() -> None:
    names: list[str] = []
    shim = SHIM_SQL.read_text(encoding="utf-8")
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def apply(name: str) -> None:
        try:
            with psycopg.connect(dsn_for(name), autocommit=True) as conn:
                start.wait(timeout=30)
                for _ in range(4):
                    conn.execute(shim)  # type: ignore[call-overload]
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    try:
        names.extend(create_database("vg_test_shim") for _ in range(6))
        threads = [threading.Thread(target=apply, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for name in names:
            drop_database(name)
    assert errors == []
