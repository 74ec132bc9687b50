"""Helpers for the codegen tests: schema edits and PostgreSQL catalog snapshots (throwaway
databases come from ``pg_support``).

Imported as ``codegen_support`` (a name no other test folder uses), never from ``conftest``: with
several test folders collected together, ``conftest`` would name whichever was imported first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

Schema = dict[str, Any]


def edit_schema(root: Path, area: str, edit: Callable[[Schema], None]) -> None:
    """Load ``<root>/schemas/<area>.schema.json``, apply ``edit`` in place and write it back."""
    path = root / "schemas" / f"{area}.schema.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def apply_sql(dsn: str, *scripts: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for script in scripts:
            conn.execute(script)  # type: ignore[call-overload]


_QUERIES = {
    # The position of a column among the live ones of its table (a dropped column leaves a gap in
    # attnum), so that the column order is compared too.
    "columns": """
        SELECT c.relname,
               row_number() OVER (PARTITION BY c.relname ORDER BY a.attnum),
               a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    """,
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal
    """,
    "functions": """
        SELECT proname, pg_get_functiondef(oid) FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace
    """,
    "tables": """
        SELECT relname, obj_description(oid, 'pg_class') FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
    """,
}


def catalog(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """The public schema's catalog: columns (position, type, NOT NULL, default, comment),
    constraints, indexes, triggers, functions and table comments, sorted."""
    with psycopg.connect(dsn) as conn:
        return {
            part: sorted(conn.execute(query).fetchall(), key=repr)  # type: ignore[call-overload]
            for part, query in _QUERIES.items()
        }
