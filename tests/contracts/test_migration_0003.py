"""The hand-written migration 0003 (plain numeric money with digit CHECKs, object-only stage
metadata, updated_at set on insert) on tables that already hold rows: values are kept, stage
metadata that is not an object is kept under "value", and afterwards the database behaves like
one built from the full DDL (the catalog comparison itself is tests/codegen's chain test)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from pg_support import temporary_database

from runtime.resources import sql_dir

MIGRATION = "0003_exact_money_object_metadata_updated_at_on_insert.sql"


def _migrations() -> list[tuple[str, str]]:
    folder = sql_dir() / "migrations"
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )


@pytest.fixture
def before_0003() -> Iterator[str]:
    """A database migrated up to (not including) 0003, holding one job and three stages."""
    with temporary_database("vg_mig3") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for migration, text in _migrations():
                if migration >= MIGRATION:
                    break
                conn.execute(text)  # type: ignore[call-overload]
            job = conn.execute(
                "INSERT INTO jobs (user_id, audio_url, user_prompt, total_cost)"
                " VALUES (gen_random_uuid(), 'https://x.example/a.mp3', 'a prompt', 3.42)"
                " RETURNING id"
            ).fetchone()
            assert job is not None
            for stage, metadata in (("a", '{"k": 1}'), ("b", "[1, 2]"), ("c", "null")):
                conn.execute(
                    "INSERT INTO job_stages (job_id, stage_name, metadata, cost)"
                    " VALUES (%s, %s, %s::jsonb, 0.5)",
                    (job[0], stage, metadata),
                )
        yield dsn


def _apply_0003(dsn: str) -> None:
    (text,) = [text for name, text in _migrations() if name == MIGRATION]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(text)  # type: ignore[call-overload]


def _rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()  # type: ignore[call-overload]


def test_existing_money_keeps_its_value_and_six_decimals(before_0003: str) -> None:
    _apply_0003(before_0003)
    assert _rows(before_0003, "SELECT total_cost::text FROM jobs") == [("3.420000",)]
    assert _rows(before_0003, "SELECT DISTINCT cost FROM job_stages") == [(Decimal("0.5"),)]


def test_existing_stage_metadata_that_is_not_an_object_is_kept_under_value(
    before_0003: str,
) -> None:
    _apply_0003(before_0003)
    rows = _rows(before_0003, "SELECT stage_name, metadata FROM job_stages ORDER BY stage_name")
    assert rows == [("a", {"k": 1}), ("b", {"value": [1, 2]}), ("c", None)]


def test_after_0003_money_with_a_seventh_decimal_is_refused(before_0003: str) -> None:
    _apply_0003(before_0003)
    with (
        psycopg.connect(before_0003) as conn,
        pytest.raises(psycopg.errors.CheckViolation, match="jobs_total_cost_check"),
    ):
        conn.execute("UPDATE jobs SET total_cost = 0.0000004")


def test_after_0003_updated_at_is_set_on_insert(before_0003: str) -> None:
    _apply_0003(before_0003)
    with psycopg.connect(before_0003) as conn:
        row = conn.execute(
            "INSERT INTO jobs (user_id, audio_url, user_prompt, updated_at)"
            " VALUES (gen_random_uuid(), 'https://x.example/b.mp3', 'p', '2001-01-01Z')"
            " RETURNING updated_at = now()"
        ).fetchone()
    assert row == (True,)
