"""Fixtures for the storage tests: the socket stand-in server and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fake_storage_server import FakeStorage
from storage_mock import StorageMock

from runtime.storage import StorageClient, StorageOptions
from runtime.testing import set_testing


@pytest.fixture(autouse=True)
def no_retry_waits() -> Iterator[None]:
    with set_testing(True):
        yield


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeStorage]:
    with FakeStorage(tmp_path / "server") as server:
        yield server


@pytest.fixture
async def client(fake: FakeStorage) -> AsyncIterator[StorageClient]:
    options = StorageOptions(url=fake.url, service_key=fake.service_key, timeout_seconds=5.0)
    async with StorageClient(options=options) as storage:
        yield storage


@pytest.fixture
async def mock() -> AsyncIterator[StorageMock]:
    storage_mock = StorageMock()
    try:
        yield storage_mock
    finally:
        await storage_mock.aclose()
