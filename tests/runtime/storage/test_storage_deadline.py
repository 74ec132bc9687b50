"""Metadata operations end within their deadline, whatever the server does (a frozen server here:
a local TCP listener that accepts connections and never answers)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from runtime.errors import ServiceUnavailableError
from runtime.storage import StorageClient, StorageOptions

SERVICE_KEY = "sb_secret_" + "d" * 40


@pytest.fixture
async def frozen_url() -> AsyncIterator[str]:
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # read nothing, answer nothing, keep the socket open

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("operation", ["signed_url", "delete"])
async def test_a_frozen_server_cannot_hold_a_metadata_operation_past_its_deadline(
    frozen_url: str, operation: str
) -> None:
    options = StorageOptions(
        url=frozen_url,
        service_key=SERVICE_KEY,
        timeout_seconds=30,  # each request alone would wait this long
        operation_deadline_seconds=1.0,
    )
    async with StorageClient(options=options) as storage:
        call = (
            storage.get_signed_url("video-outputs", "job/final.mp4", expires_in=60)
            if operation == "signed_url"
            else storage.delete_file("video-clips", "job/clip_0.mp4")
        )
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError) as info:
            await call
        elapsed = time.monotonic() - started
    assert info.value.code == "deadline_exceeded"
    assert elapsed < 2.5  # the 1 s deadline, plus slack for a busy machine
