"""Against a live Supabase project: run only when SUPABASE_URL and SUPABASE_SERVICE_KEY are set.

The project's buckets must exist (``await StorageClient.from_settings().ensure_buckets()``
creates them with this library's limits). Every object is written under ``tests/<random>/``
and deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from storage3.utils import StorageException
from storage_mock import MP3, MP4

from runtime.errors import ConflictError, NotFoundError, PipelineError
from runtime.storage import StorageClient, StorageOptions

URL = os.environ.get("SUPABASE_URL")
KEY = os.environ.get("SUPABASE_SERVICE_KEY")

pytestmark = [
    pytest.mark.live_supabase,
    pytest.mark.skipif(
        not (URL and KEY),
        reason="live Supabase tests need SUPABASE_URL and SUPABASE_SERVICE_KEY; not set",
    ),
]


@pytest.fixture
async def live() -> AsyncIterator[tuple[StorageClient, str]]:
    assert URL is not None
    assert KEY is not None
    prefix = f"tests/{uuid.uuid4().hex}"
    options = StorageOptions(url=URL, service_key=KEY, timeout_seconds=60)
    async with StorageClient(options=options) as client:
        try:
            yield client, prefix
        finally:
            for bucket in ("audio-uploads", "video-clips"):
                with contextlib.suppress(PipelineError, StorageException):
                    listed = await client.api.from_(bucket).list(prefix)
                    names = [f"{prefix}/{item['name']}" for item in listed]
                    if names:
                        await client.api.from_(bucket).remove(names)


async def _upload_or_skip(client: StorageClient, *args: object, **kwargs: object) -> str:
    try:
        return await client.upload_file(*args, **kwargs)  # type: ignore[arg-type]
    except NotFoundError as exc:
        if "Bucket not found" in exc.message:
            pytest.skip("the live project lacks the pipeline buckets; run ensure_buckets()")
        raise


async def test_live_round_trip(live: tuple[StorageClient, str]) -> None:
    client, prefix = live
    await _upload_or_skip(client, "audio-uploads", f"{prefix}/song.mp3", MP3)
    assert await client.download_file("audio-uploads", f"{prefix}/song.mp3") == MP3


async def test_live_duplicate_is_a_conflict_and_upsert_replaces(
    live: tuple[StorageClient, str],
) -> None:
    client, prefix = live
    await _upload_or_skip(client, "audio-uploads", f"{prefix}/song.mp3", MP3)
    with pytest.raises(ConflictError):
        await client.upload_file("audio-uploads", f"{prefix}/song.mp3", MP3)
    await client.upload_file("audio-uploads", f"{prefix}/song.mp3", MP3 + b"2", upsert=True)
    assert await client.download_file("audio-uploads", f"{prefix}/song.mp3") == MP3 + b"2"


async def test_live_missing_object_is_not_found(live: tuple[StorageClient, str]) -> None:
    client, prefix = live
    with pytest.raises(NotFoundError):
        await client.download_file("audio-uploads", f"{prefix}/missing.mp3")


async def test_live_signed_url_works_then_expires(live: tuple[StorageClient, str]) -> None:
    client, prefix = live
    await _upload_or_skip(client, "video-clips", f"{prefix}/clip.mp4", MP4)
    url = await client.get_signed_url("video-clips", f"{prefix}/clip.mp4", expires_in=2)
    async with httpx.AsyncClient(timeout=30) as http:
        assert (await http.get(url)).content == MP4
        await asyncio.sleep(4)
        expired = await http.get(url)
    assert expired.status_code == 400
    assert expired.json()["error"] == "InvalidJWT"


async def test_live_resumable_upload_and_streamed_download(
    live: tuple[StorageClient, str], tmp_path: Path
) -> None:
    client, prefix = live
    data = MP4 + os.urandom(7 * 1024 * 1024)
    await _upload_or_skip(client, "video-clips", f"{prefix}/big.mp4", data)
    target = tmp_path / "big.mp4"
    assert await client.download_to_path("video-clips", f"{prefix}/big.mp4", target) == len(data)
    assert target.read_bytes() == data


async def test_live_delete_reports_whether_something_was_deleted(
    live: tuple[StorageClient, str],
) -> None:
    client, prefix = live
    await _upload_or_skip(client, "video-clips", f"{prefix}/gone.mp4", MP4)
    assert await client.delete_file("video-clips", f"{prefix}/gone.mp4") is True
    assert await client.delete_file("video-clips", f"{prefix}/gone.mp4") is False
