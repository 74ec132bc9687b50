"""Against a real socket server standing in for Storage: TUS uploads, resume, streaming, memory."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fake_storage_server import CHUNK, FakeStorage
from storage_mock import MP3, MP4

from runtime.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ServiceUnavailableError,
    ValidationError,
)
from runtime.storage import StorageClient, StorageOptions

MIB = 1024 * 1024
PROBE = Path(__file__).with_name("upload_memory_probe.py")


def video_file(path: Path, size: int) -> Path:
    """Write an MP4-looking file of ``size`` bytes (real header, random body) in 1 MiB pieces."""
    with path.open("wb") as handle:
        handle.write(MP4[:32])
        left = size - 32
        while left:
            piece = min(left, MIB)
            handle.write(os.urandom(piece))
            left -= piece
    return path


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- single-request uploads and downloads -----------------------------------------------------


async def test_small_upload_and_download_round_trip(
    client: StorageClient, fake: FakeStorage
) -> None:
    await client.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    assert fake.object_bytes("audio-uploads", "u/j/song.mp3") == MP3
    assert await client.download_file("audio-uploads", "u/j/song.mp3") == MP3
    assert fake.state.requests["PATCH"] == 0


async def test_a_second_upload_without_upsert_conflicts(client: StorageClient) -> None:
    await client.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    with pytest.raises(ConflictError, match="already exists"):
        await client.upload_file("audio-uploads", "u/j/song.mp3", MP3)


async def test_a_second_upload_with_upsert_replaces(
    client: StorageClient, fake: FakeStorage
) -> None:
    await client.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    await client.upload_file("audio-uploads", "u/j/song.mp3", MP3 + b"v2", upsert=True)
    assert fake.object_bytes("audio-uploads", "u/j/song.mp3") == MP3 + b"v2"


async def test_a_rejected_upload_does_not_hang_the_next_request(
    client: StorageClient, fake: FakeStorage
) -> None:
    body = MP4 + b"\0" * (1 * MIB)  # well over the 200 KB the server leaves unread
    await client.upload_file("video-clips", "j/clip.mp4", body)
    with pytest.raises(ConflictError):
        await client.upload_file("video-clips", "j/clip.mp4", body)
    # Had the poisoned connection gone back to the pool, this would hang until the timeout.
    data = await asyncio.wait_for(client.download_file("video-clips", "j/clip.mp4"), timeout=3)
    assert data == body


async def test_the_stand_in_really_hangs_a_reused_connection(fake: FakeStorage) -> None:
    # Control experiment: a plain httpx client (no hook) reuses the connection and hangs.
    body = MP4 + b"\0" * MIB
    headers = {"apikey": fake.service_key, "Authorization": f"Bearer {fake.service_key}"}
    url = f"{fake.url}/storage/v1/object/video-clips/j/clip.mp4"
    files = {"file": ("clip.mp4", body, "video/mp4")}
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5)) as plain:
        assert (await plain.post(url, files=files, headers=headers)).status_code == 200
        rejected = await plain.post(url, files=files, headers=headers)
        assert rejected.json()["statusCode"] == "409"
        with pytest.raises(httpx.ReadTimeout):
            await plain.get(url, headers=headers)


async def test_download_to_path_writes_the_file(
    client: StorageClient, tmp_path: Path, fake: FakeStorage
) -> None:
    source = video_file(tmp_path / "in.mp4", 3 * MIB)
    await client.upload_file("video-clips", "j/clip.mp4", source)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "clip.mp4"
    written = await client.download_to_path("video-clips", "j/clip.mp4", target)
    assert written == 3 * MIB
    assert target.read_bytes() == source.read_bytes()
    assert names_in(tmp_path / "out") == ["clip.mp4"]


async def test_download_to_path_of_a_missing_object_leaves_no_file(
    client: StorageClient, tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(NotFoundError):
        await client.download_to_path("video-clips", "j/none.mp4", tmp_path / "out" / "x.mp4")
    assert names_in(tmp_path / "out") == []


async def test_download_to_path_needs_an_existing_folder(
    client: StorageClient, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.download_to_path("video-clips", "j/clip.mp4", tmp_path / "no" / "x.mp4")
    assert info.value.code == "invalid_destination"


async def test_stream_file_yields_the_object_in_chunks(
    client: StorageClient, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "in.mp4", 3 * MIB + 5)
    await client.upload_file("video-clips", "j/clip.mp4", source)
    received = bytearray()
    sizes = []
    async with client.stream_file("video-clips", "j/clip.mp4", chunk_size_bytes=MIB) as chunks:
        async for chunk in chunks:
            sizes.append(len(chunk))
            received += chunk
    assert bytes(received) == source.read_bytes()
    assert max(sizes) == MIB


async def test_stream_file_of_a_missing_object_is_not_found(client: StorageClient) -> None:
    with pytest.raises(NotFoundError):
        async with client.stream_file("video-clips", "j/none.mp4"):
            pass


# -- resumable (TUS) uploads ------------------------------------------------------------------


async def test_a_large_file_goes_up_in_6_mib_chunks(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "big.mp4", 20 * MIB)
    url = await client.upload_file("video-outputs", "j/final.mp4", source)
    assert fake.state.chunk_sizes == [CHUNK, CHUNK, CHUNK, 20 * MIB - 3 * CHUNK]
    assert fake.object_bytes("video-outputs", "j/final.mp4") == source.read_bytes()
    assert url.endswith("/storage/v1/object/video-outputs/j/final.mp4")


async def test_exactly_the_threshold_is_one_request(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "edge.mp4", 6 * MIB)
    await client.upload_file("video-clips", "j/edge.mp4", source)
    assert fake.state.requests["PATCH"] == 0
    assert fake.object_bytes("video-clips", "j/edge.mp4") == source.read_bytes()


async def test_a_large_file_object_is_sent_from_its_position(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "big.mp4", 7 * MIB)
    expected = source.read_bytes()
    with (tmp_path / "prefixed.bin").open("w+b") as handle:
        handle.write(b"header-to-skip")
        handle.write(expected)
        handle.seek(len(b"header-to-skip"))
        await client.upload_file("video-clips", "j/big.mp4", handle)
    assert fake.object_bytes("video-clips", "j/big.mp4") == expected


async def test_large_bytes_also_go_up_resumably(client: StorageClient, fake: FakeStorage) -> None:
    data = MP4 + os.urandom(7 * MIB)
    await client.upload_file("video-clips", "j/mem.mp4", bytearray(data))
    assert fake.state.chunk_sizes == [CHUNK, len(data) - CHUNK]
    assert fake.object_bytes("video-clips", "j/mem.mp4") == data


async def test_a_failed_chunk_is_resent_after_a_server_fault(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "big.mp4", 13 * MIB)
    fake.state.patch_faults[:] = ["ok", "503"]
    await client.upload_file("video-outputs", "j/final.mp4", source)
    assert fake.object_bytes("video-outputs", "j/final.mp4") == source.read_bytes()
    assert fake.state.requests["HEAD"] == 1


async def test_an_upload_resumes_from_the_servers_offset_after_a_dropped_connection(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "big.mp4", 13 * MIB)
    fake.state.patch_faults[:] = ["drop"]  # the server keeps half of the first chunk
    await client.upload_file("video-outputs", "j/final.mp4", source)
    assert fake.object_bytes("video-outputs", "j/final.mp4") == source.read_bytes()
    assert fake.state.requests["HEAD"] == 1
    assert fake.state.chunk_sizes[1:] == [CHUNK, 13 * MIB - CHUNK // 2 - CHUNK]


async def test_a_resumable_duplicate_is_a_conflict_with_the_servers_text(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "big.mp4", 7 * MIB)
    await client.upload_file("video-clips", "j/big.mp4", source)
    with pytest.raises(ConflictError, match="The resource already exists") as info:
        await client.upload_file("video-clips", "j/big.mp4", source)
    assert info.value.status_code == 409


async def test_a_resumable_upload_overtaken_by_another_writer_is_a_conflict(
    client: StorageClient, fake: FakeStorage
) -> None:
    fake.state.patch_faults.extend(["none", "another_writer"])
    with pytest.raises(ConflictError, match="The resource already exists") as info:
        await client.upload_file("video-clips", "j/raced.mp4", MP4 + b"\0" * 7 * MIB)
    assert info.value.retryable is False
    assert fake.object_bytes("video-clips", "j/raced.mp4") == b"another writer's object"
    assert fake.state.requests["PATCH"] == 2  # the refused chunk was not sent again
    assert fake.state.requests["HEAD"] == 1


async def test_a_resumable_upsert_replaces(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    first = video_file(tmp_path / "a.mp4", 7 * MIB)
    second = video_file(tmp_path / "b.mp4", 7 * MIB)
    await client.upload_file("video-clips", "j/big.mp4", first)
    await client.upload_file("video-clips", "j/big.mp4", second, upsert=True)
    assert fake.object_bytes("video-clips", "j/big.mp4") == second.read_bytes()


async def test_a_refused_chunk_is_permission_denied_and_not_retried(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "big.mp4", 7 * MIB)
    fake.state.patch_faults[:] = ["403"]
    with pytest.raises(PermissionDeniedError, match="row-level security"):
        await client.upload_file("video-clips", "j/big.mp4", source)
    assert fake.state.requests["PATCH"] == 1


async def test_the_servers_size_limit_is_payload_too_large(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    fake.state.bucket_limits["video-clips"] = 7 * MIB
    source = video_file(tmp_path / "big.mp4", 8 * MIB)
    with pytest.raises(PayloadTooLargeError, match="Maximum size exceeded"):
        await client.upload_file("video-clips", "j/big.mp4", source)


async def test_a_missing_bucket_on_the_server_is_not_found(
    client: StorageClient, fake: FakeStorage, tmp_path: Path
) -> None:
    fake.state.buckets.discard("video-clips")
    with pytest.raises(NotFoundError, match="Bucket not found"):
        await client.upload_file(
            "video-clips", "j/big.mp4", video_file(tmp_path / "b.mp4", 7 * MIB)
        )


async def test_persistent_chunk_faults_give_up_after_max_attempts(
    fake: FakeStorage, tmp_path: Path
) -> None:
    source = video_file(tmp_path / "big.mp4", 7 * MIB)
    fake.state.patch_faults[:] = ["503"] * 10
    options = StorageOptions(url=fake.url, service_key=fake.service_key, max_attempts=2)
    async with StorageClient(options=options) as client:
        with pytest.raises(ServiceUnavailableError):
            await client.upload_file("video-clips", "j/big.mp4", source)
    assert fake.state.requests["PATCH"] == 2


async def test_a_file_that_shrinks_during_upload_is_refused(
    client: StorageClient, tmp_path: Path
) -> None:
    class Shrinking(io.BytesIO):
        """A file cut short after its size was taken: reads past 4 MiB find nothing."""

        def readinto(self, buffer: Any) -> int:
            if self.tell() >= 4 * MIB:
                return 0
            return super().readinto(buffer)

    with pytest.raises(ValidationError) as info:
        await client.upload_file("video-clips", "j/big.mp4", Shrinking(MP4 + b"\0" * 7 * MIB))
    assert info.value.code == "file_changed"


# -- memory ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_large_upload_never_holds_the_file_in_memory(fake: FakeStorage, tmp_path: Path) -> None:
    size = 48 * MIB
    source = video_file(tmp_path / "big.mp4", size)
    result = subprocess.run(
        [
            sys.executable,
            str(PROBE),
            fake.url,
            fake.service_key,
            str(source),
            "video-outputs",
            "j/m.mp4",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    assert fake.object_bytes("video-outputs", "j/m.mp4") == source.read_bytes()
    # One 6 MiB chunk (plus its slices) at a time: far below the file size.
    assert figures["tracemalloc_peak_bytes"] < 16 * MIB
    assert figures["rss_growth_bytes"] < 24 * MIB


def run_probe(fake: FakeStorage, file: Path, object_path: str, mode: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(PROBE), fake.url, fake.service_key, str(file), "video-outputs",
         object_path, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return figures


@pytest.mark.slow
def test_download_to_path_never_holds_the_file_in_memory(fake: FakeStorage, tmp_path: Path) -> None:
    size = 48 * MIB
    source = video_file(tmp_path / "big.mp4", size)
    fake.put_object("video-outputs", "j/m.mp4", source, "video/mp4")
    target = tmp_path / "copy.mp4"
    figures = run_probe(fake, target, "j/m.mp4", "download_to_path")
    assert figures["size_bytes"] == size
    assert target.read_bytes() == source.read_bytes()
    # A 1 MiB chunk at a time: far below the file size.
    assert figures["tracemalloc_peak_bytes"] < 16 * MIB
    assert figures["rss_growth_bytes"] < 24 * MIB


@pytest.mark.slow
def test_stream_file_never_holds_the_file_in_memory(fake: FakeStorage, tmp_path: Path) -> None:
    size = 48 * MIB
    source = video_file(tmp_path / "big.mp4", size)
    fake.put_object("video-outputs", "j/m.mp4", source, "video/mp4")
    source.unlink()
    figures = run_probe(fake, tmp_path / "unused", "j/m.mp4", "stream_file")
    assert figures["size_bytes"] == size
    assert figures["tracemalloc_peak_bytes"] < 16 * MIB
    assert figures["rss_growth_bytes"] < 24 * MIB


def test_download_file_holds_the_object_once_not_twice(fake: FakeStorage, tmp_path: Path) -> None:
    size = 16 * MIB
    source = video_file(tmp_path / "big.mp4", size)
    fake.put_object("video-outputs", "j/m.mp4", source, "video/mp4")
    source.unlink()
    figures = run_probe(fake, tmp_path / "unused", "j/m.mp4", "download_file")
    assert figures["size_bytes"] == size
    # The returned bytes plus httpx's chunking (a few MiB, whatever the size); the earlier
    # bytearray-then-bytes copy peaked at 2.2x (36.9 MB for this 16 MiB object).
    assert figures["tracemalloc_peak_bytes"] < size + 8 * MIB
