"""The four defects the real Storage server showed (issue 14), against the socket stand-in.

The stand-in behaves as the real server did: ``x-upsert`` re-checked on every TUS ``PATCH``; an
invalid key on ``GET /object/{bucket}/{path}`` falls back to public access (404 "Bucket not
found") while ``/object/authenticated/...`` answers 403; uploads without upsert are checked for
an existing object first and stored with an upsert at the end (concurrent writers all succeed on
the server); ``DELETE`` terminates a resumable upload.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import httpx
import pytest
from fake_storage_server import FakeStorage
from storage_mock import MP4

from runtime.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from runtime.storage import StorageClient, StorageOptions

MIB = 1024 * 1024
BAD_KEY = "sb_secret_" + "x" * 40


def video_bytes(size: int, fill: bytes | None = None) -> bytes:
    body = (fill * (size - 32)) if fill is not None else os.urandom(size - 32)
    return MP4[:32] + body


@pytest.fixture
async def bad_key_client(fake: FakeStorage) -> StorageClient:
    return StorageClient(
        options=StorageOptions(url=fake.url, service_key=BAD_KEY, timeout_seconds=5.0)
    )


# -- 1. upsert over an existing object above 6 MiB ---------------------------------------------


async def test_a_resumable_upsert_over_an_existing_object_sends_x_upsert_on_every_patch(
    client: StorageClient, fake: FakeStorage
) -> None:
    first, second = video_bytes(13 * MIB), video_bytes(13 * MIB)
    await client.upload_file("video-clips", "j/big.mp4", first)
    await client.upload_file("video-clips", "j/big.mp4", second, upsert=True)
    assert fake.object_bytes("video-clips", "j/big.mp4") == second
    assert fake.state.chunk_sizes[-3:] == [6 * MIB, 6 * MIB, MIB]  # all three PATCHes went in


async def test_the_stand_in_refuses_a_patch_without_x_upsert_over_an_existing_object(
    fake: FakeStorage,
) -> None:
    """The server behaviour the fix answers: the creation's x-upsert is not remembered."""
    (fake.state.root / "existing").write_bytes(b"old")
    fake.put_object("video-clips", "j/big.mp4", fake.state.root / "existing", "video/mp4")
    auth = {"apikey": fake.service_key, "Authorization": f"Bearer {fake.service_key}"}
    tus = {"Tus-Resumable": "1.0.0"}
    meta = "bucketName dmlkZW8tY2xpcHM=,objectName ai9iaWcubXA0,contentType dmlkZW8vbXA0"
    async with httpx.AsyncClient(base_url=f"{fake.url}/storage/v1") as http:
        created = await http.post(
            "/upload/resumable",
            headers={**auth, **tus, "x-upsert": "true", "Upload-Length": "3",
                     "Upload-Metadata": meta},
        )  # fmt: skip
        patch = await http.patch(
            created.headers["Location"],
            headers={**auth, **tus, "Upload-Offset": "0",
                     "Content-Type": "application/offset+octet-stream"},
            content=b"new",
        )  # fmt: skip
    assert (created.status_code, patch.status_code) == (201, 409)


# -- 2. an invalid or expired key on downloads -------------------------------------------------


async def test_download_file_with_an_invalid_key_is_permission_denied(
    bad_key_client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    (tmp_path / "a.mp4").write_bytes(MP4)
    fake.put_object("video-clips", "j/a.mp4", tmp_path / "a.mp4", "video/mp4")
    async with bad_key_client as storage:
        with pytest.raises(PermissionDeniedError, match="invalid signature"):
            await storage.download_file("video-clips", "j/a.mp4")


async def test_download_to_path_with_an_invalid_key_is_permission_denied(
    bad_key_client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    (tmp_path / "a.mp4").write_bytes(MP4)
    fake.put_object("video-clips", "j/a.mp4", tmp_path / "a.mp4", "video/mp4")
    async with bad_key_client as storage:
        with pytest.raises(PermissionDeniedError):
            await storage.download_to_path("video-clips", "j/a.mp4", tmp_path / "copy.mp4")
    assert not (tmp_path / "copy.mp4").exists()


async def test_stream_file_with_an_invalid_key_is_permission_denied(
    bad_key_client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    (tmp_path / "a.mp4").write_bytes(MP4)
    fake.put_object("video-clips", "j/a.mp4", tmp_path / "a.mp4", "video/mp4")
    async with bad_key_client as storage:
        with pytest.raises(PermissionDeniedError):
            async with storage.stream_file("video-clips", "j/a.mp4"):
                pass


async def test_a_missing_object_with_a_valid_key_is_still_not_found(
    client: StorageClient,
) -> None:
    with pytest.raises(NotFoundError, match="Object not found"):
        await client.download_file("video-clips", "j/none.mp4")


async def test_the_stand_in_answers_bucket_not_found_on_the_public_route_for_a_bad_key(
    fake: FakeStorage, tmp_path: Path
) -> None:
    """The server behaviour the fix avoids: ``/object/{bucket}/{path}`` falls back to public."""
    (tmp_path / "a.mp4").write_bytes(MP4)
    fake.put_object("video-clips", "j/a.mp4", tmp_path / "a.mp4", "video/mp4")
    auth = {"apikey": BAD_KEY, "Authorization": f"Bearer {BAD_KEY}"}
    async with httpx.AsyncClient(base_url=f"{fake.url}/storage/v1") as http:
        public = await http.get("/object/video-clips/j/a.mp4", headers=auth)
        authenticated = await http.get("/object/authenticated/video-clips/j/a.mp4", headers=auth)
    assert public.json()["statusCode"] == "404"
    assert public.json()["message"] == "Bucket not found"
    assert authenticated.json()["statusCode"] == "403"


# -- 3. concurrent uploads without upsert ------------------------------------------------------


async def test_of_two_concurrent_uploads_without_upsert_the_overwritten_one_is_a_conflict(
    client: StorageClient, fake: FakeStorage
) -> None:
    # Both pass the server's existence check and both are stored before either is answered:
    # the server tells both "stored"; the client's read-back tells the loser.
    fake.state.upload_barrier = threading.Barrier(2)
    mine, theirs = video_bytes(4096, b"a"), video_bytes(4096, b"b")
    results = await asyncio.gather(
        client.upload_file("video-clips", "j/race.mp4", mine),
        client.upload_file("video-clips", "j/race.mp4", theirs),
        return_exceptions=True,
    )
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    successes = [i for i, r in enumerate(results) if isinstance(r, str)]
    assert len(conflicts) == 1, results
    assert len(successes) == 1, results
    assert conflicts[0].code == "overwritten_concurrently"
    assert fake.object_bytes("video-clips", "j/race.mp4") == (mine, theirs)[successes[0]]


async def test_a_later_upload_without_upsert_is_refused_before_it_is_sent(
    client: StorageClient, fake: FakeStorage
) -> None:
    await client.upload_file("video-clips", "j/once.mp4", video_bytes(4096))
    with pytest.raises(ConflictError, match="already exists"):
        await client.upload_file("video-clips", "j/once.mp4", video_bytes(4096))


# -- 4. paths the signed URL mishandles; abandoned resumable uploads ---------------------------


@pytest.mark.parametrize("path", ["j/take?1.mp4", "j/a.mp4?download", "j/clip#2.mp4"])
async def test_paths_with_query_or_fragment_characters_are_refused_before_any_request(
    client: StorageClient, fake: FakeStorage, path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.upload_file("video-clips", path, MP4)
    assert info.value.code == "invalid_path"
    assert sum(fake.state.requests.values()) == 0


async def test_a_resumable_upload_that_fails_for_good_is_terminated(
    client: StorageClient, fake: FakeStorage
) -> None:
    fake.state.patch_faults[:] = ["none", "403"]
    with pytest.raises(PermissionDeniedError):
        await client.upload_file("video-clips", "j/big.mp4", video_bytes(13 * MIB))
    assert fake.state.requests["DELETE"] == 1
    assert len(fake.state.terminated) == 1
    assert fake.state.uploads == {}
    assert not [p for p in fake.state.root.iterdir() if p.name.startswith("upload-")]


async def test_a_resumable_upload_that_succeeds_is_not_terminated(
    client: StorageClient, fake: FakeStorage
) -> None:
    await client.upload_file("video-clips", "j/big.mp4", video_bytes(7 * MIB))
    assert fake.state.requests["DELETE"] == 0
