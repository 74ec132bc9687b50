"""Fixtures for the database tests: the direct client and a cost tracker on a fresh schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from runtime.cost_tracking import CostTracker
from runtime.postgres import PostgresDatabase


@pytest.fixture
async def pg_db(schema_database: str) -> AsyncIterator[PostgresDatabase]:
    async with PostgresDatabase(schema_database, max_connections=10) as client:
        yield client


@pytest.fixture
def tracker(pg_db: PostgresDatabase) -> CostTracker:
    return CostTracker(pg_db, budget_limit=Decimal("20.00"))
