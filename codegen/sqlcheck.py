"""Hand-written SQL checked against the generated DDL on a scratch PostgreSQL (run by ``check``).

A scratch database of its own (created and dropped here) receives the Supabase stand-in
(tests/support/supabase_shim.sql: roles and ``auth.uid()``), the freshly generated
``sql/generated/`` scripts and the working tree's ``sql/handwritten/`` scripts, in the order
:func:`runtime.resources.sql_scripts` uses. PostgreSQL itself is the oracle:

* a script that fails to apply (an SQL-language function, a grant, a policy naming a column or
  table that no longer exists) is reported with the script and PostgreSQL's message;
* every PL/pgSQL function of schema ``public`` is then checked with the plpgsql_check extension,
  which resolves each embedded statement against the tables: a renamed or dropped column used by
  a hand-written function is reported with the function, the column and the line;
* every table must have row-level security enabled with at least one policy: a table added to
  the schemas but not to the hand-written security script is reported.

Dynamic SQL (``EXECUTE format(...)``) is not visible to plpgsql_check: apply_batch, the one
function that builds SQL from column names, takes them from the generated allow-list.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ADMIN_DSN_ENV", "SqlCheckUnavailable", "SqlProblem", "check_handwritten_sql"]

ADMIN_DSN_ENV = "VIDEOGEN_CHECK_PG_DSN"
_DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_SHIM = Path("tests/support/supabase_shim.sql")

_PLPGSQL_CHECK = """
SELECT p.oid::regprocedure::text AS function, c.lineno, c.message, c.detail
FROM pg_catalog.pg_proc AS p
JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang AND l.lanname = 'plpgsql'
CROSS JOIN LATERAL public.plpgsql_check_function_tb(
    p.oid, relid => CASE WHEN p.prorettype = 'pg_catalog.trigger'::regtype
        THEN (SELECT t.tgrelid FROM pg_catalog.pg_trigger AS t WHERE t.tgfoid = p.oid LIMIT 1)
        ELSE 0::oid END::regclass,
    fatal_errors => false, other_warnings => false, extra_warnings => false) AS c
WHERE p.pronamespace = 'public'::regnamespace
  AND p.proname NOT LIKE 'plpgsql_%'
  AND c.level = 'error'
ORDER BY 1, 2
"""


_NO_RLS = """
SELECT c.relname FROM pg_catalog.pg_class AS c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
  AND (NOT c.relrowsecurity
       OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid))
ORDER BY 1
"""


class SqlCheckUnavailable(Exception):
    """The check could not run: PostgreSQL is unreachable or plpgsql_check is not installed."""


@dataclass(frozen=True)
class SqlProblem:
    """One problem: where (script or function and line) and PostgreSQL's message."""

    where: str
    message: str

    def render(self) -> str:
        """``sql: <where>: <message>``."""
        return f"sql: {self.where}: {self.message}"


def _scripts(root: Path, generated: dict[str, str]) -> list[tuple[str, str]]:
    scripts = sorted((k, v) for k, v in generated.items() if k.startswith("sql/generated/"))
    handwritten = sorted((root / "sql" / "handwritten").glob("*.sql"))
    scripts += [
        (p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")) for p in handwritten
    ]
    return scripts


def check_handwritten_sql(root: Path, generated: dict[str, str]) -> list[SqlProblem]:
    """Apply the SQL to a scratch database and return every problem found.

    Args:
        root: The repository root (``sql/handwritten/`` and the shim are read from it).
        generated: The generation's outputs (``sql/generated/*.sql`` are taken from them).

    Raises:
        SqlCheckUnavailable: PostgreSQL cannot be reached or plpgsql_check is missing.
    """
    import psycopg

    admin_dsn = os.environ.get(ADMIN_DSN_ENV, _DEFAULT_DSN)
    name = f"vg_check_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise SqlCheckUnavailable(f"PostgreSQL at {admin_dsn} is unreachable: {exc}") from exc
    info = psycopg.conninfo.conninfo_to_dict(admin_dsn)
    info["dbname"] = name
    dsn = psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]
    try:
        return _check(root, dsn, _scripts(root, generated))
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check(root: Path, dsn: str, scripts: list[tuple[str, str]]) -> list[SqlProblem]:
    import psycopg

    problems: list[SqlProblem] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        shim = root / _SHIM
        if shim.is_file():
            conn.execute(shim.read_text(encoding="utf-8"))
        for script, text in scripts:
            try:
                conn.execute(text)
            except psycopg.Error as exc:
                line = f" ({exc.diag.context.strip()})" if exc.diag.context else ""
                problems.append(SqlProblem(script, f"{exc.diag.message_primary}{line}"))
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS plpgsql_check")
        except psycopg.Error as exc:
            raise SqlCheckUnavailable(
                "the plpgsql_check extension is not installed on the PostgreSQL server "
                "(Debian: postgresql-<version>-plpgsql-check; tools/ensure-services.sh installs "
                f"it): {exc.diag.message_primary}"
            ) from exc
        for function, lineno, message, detail in conn.execute(_PLPGSQL_CHECK).fetchall():
            extra = f" ({detail})" if detail else ""
            problems.append(SqlProblem(f"function {function} line {lineno}", f"{message}{extra}"))
        for (table,) in conn.execute(_NO_RLS).fetchall():
            problems.append(
                SqlProblem(
                    f"table {table}",
                    "row-level security is not enabled or has no policy: add the table to "
                    "sql/handwritten/090_security.sql (revoke, grant, enable RLS, policies)",
                )
            )
    return problems
