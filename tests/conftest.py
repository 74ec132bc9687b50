"""Shared fixtures: a fresh PostgreSQL database per test, empty or with our SQL applied."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_support import apply_schema, temporary_database


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """Create an empty database of this test's own, yield its DSN, drop it afterwards."""
    with temporary_database() as dsn:
        yield dsn


@pytest.fixture
def schema_database(fresh_database: str) -> str:
    """A fresh database with the generated DDL and the hand-written SQL applied."""
    apply_schema(fresh_database)
    return fresh_database
