"""Fixtures for the database tests: the direct client and a cost tracker on a fresh schema.

``tracker`` runs every test that uses it twice: over a direct connection and through a real
PgBouncer in transaction mode (one for the session, in front of the test server; its wildcard
database entry reaches each test's own database), so the cost-tracking suite proves the pooler
path too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest
from fault_support import PgBouncer
from pg_support import ADMIN_DSN

from runtime.cost_tracking import CostTracker
from runtime.postgres import PostgresDatabase, PostgresOptions


@pytest.fixture
async def pg_db(schema_database: str) -> AsyncIterator[PostgresDatabase]:
    async with PostgresDatabase(
        options=PostgresOptions(dsn=schema_database, max_connections=10)
    ) as client:
        yield client


@pytest.fixture(scope="session")
def session_bouncer() -> Iterator[PgBouncer]:
    server = PgBouncer(ADMIN_DSN, default_pool_size=5)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["direct", "pgbouncer"])
async def tracker(
    request: pytest.FixtureRequest, schema_database: str
) -> AsyncIterator[CostTracker]:
    dsn = schema_database
    if request.param == "pgbouncer":
        dsn = request.getfixturevalue("session_bouncer").dsn(schema_database)
    async with PostgresDatabase(options=PostgresOptions(dsn=dsn, max_connections=10)) as client:
        yield CostTracker(client, budget_limit=Decimal("20.00"))
