"""TUS request shapes and protocol edge cases, and retried downloads (MockTransport)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from storage3.exceptions import StorageApiError
from storage_mock import MP4, SERVICE_KEY, STORAGE, StorageMock

from runtime.errors import ConflictError, ServiceUnavailableError, StorageError
from runtime.storage import StorageClient
from runtime.storage._tus import drop_connection_after_upload_error, storage_api_error

MIB = 1024 * 1024
CREATE = "/storage/v1/upload/resumable"
UPLOAD = "/storage/v1/upload/resumable/abc123"
BIG = MP4 + b"\x01" * (7 * MIB - len(MP4))


def created(location: str = f"{STORAGE}/upload/resumable/abc123") -> httpx.Response:
    return httpx.Response(201, headers={"Location": location, "Tus-Resumable": "1.0.0"})


def appended(offset: int) -> httpx.Response:
    return httpx.Response(204, headers={"Upload-Offset": str(offset), "Tus-Resumable": "1.0.0"})


def metadata(request: httpx.Request) -> dict[str, str]:
    pairs = (item.split(" ") for item in request.headers["Upload-Metadata"].split(","))
    return {key: base64.b64decode(value).decode() for key, value in pairs}


async def test_resumable_requests_have_storages_tus_shape(mock: StorageMock) -> None:
    mock.on("POST", CREATE, created())
    mock.on("PATCH", UPLOAD, appended(6 * MIB), appended(len(BIG)))
    async with mock.client() as storage:
        await storage.upload_file("video-clips", "job/clip 0.mp4", BIG, cache_control_seconds=60)
    create, first, second, check = mock.requests
    assert (check.method, check.url.path) == (
        "GET",
        "/storage/v1/object/info/video-clips/job/clip 0.mp4",
    )
    assert create.headers["Tus-Resumable"] == "1.0.0"
    assert create.headers["Upload-Length"] == str(len(BIG))
    assert create.headers["x-upsert"] == "false"
    assert create.headers["authorization"] == f"Bearer {SERVICE_KEY}"
    assert metadata(create) == {
        "bucketName": "video-clips",
        "objectName": "job/clip 0.mp4",
        "contentType": "video/mp4",
        "cacheControl": "60",
    }
    assert [r.headers["Upload-Offset"] for r in (first, second)] == ["0", str(6 * MIB)]
    assert [r.headers["x-upsert"] for r in (first, second)] == ["false", "false"]
    assert first.headers["Content-Type"] == "application/offset+octet-stream"
    assert first.headers["Content-Length"] == str(6 * MIB)
    assert mock.bodies[1] + mock.bodies[2] == BIG


async def test_a_relative_location_is_resolved_on_the_endpoint(mock: StorageMock) -> None:
    mock.on("POST", CREATE, created("/storage/v1/upload/resumable/abc123"))
    mock.on("PATCH", UPLOAD, appended(6 * MIB), appended(len(BIG)))
    async with mock.client() as storage:
        await storage.upload_file("video-clips", "j/c.mp4", BIG)
    assert str(mock.requests[1].url) == f"{STORAGE}/upload/resumable/abc123"


async def test_a_location_with_another_origin_is_sent_to_our_endpoint(mock: StorageMock) -> None:
    # A proxy may report its internal http:// origin; credentials still only go to our host.
    mock.on("POST", CREATE, created("http://kong:8000/storage/v1/upload/resumable/abc123"))
    mock.on("PATCH", UPLOAD, appended(6 * MIB), appended(len(BIG)))
    async with mock.client() as storage:
        await storage.upload_file("video-clips", "j/c.mp4", BIG)
    assert {str(r.url.copy_with(path="/")) for r in mock.requests} == {
        "https://abcdefghijkl.supabase.co/"
    }


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(201),
        httpx.Response(201, headers={"Location": "https://evil.example/steal"}),
        httpx.Response(201, headers={"Location": "/storage/v1/object/video-clips/x"}),
    ],
    ids=["missing", "outside", "other-endpoint"],
)
async def test_a_bad_location_is_a_protocol_error(
    mock: StorageMock, response: httpx.Response
) -> None:
    mock.on("POST", CREATE, response)
    async with mock.client() as storage:
        with pytest.raises(StorageError) as info:
            await storage.upload_file("video-clips", "j/c.mp4", BIG)
    assert info.value.code == "tus_protocol_error"
    assert len(mock.requests) == 1


async def test_an_offset_conflict_resynchronises_from_head(mock: StorageMock) -> None:
    mock.on("POST", CREATE, created())
    mock.on(
        "PATCH",
        UPLOAD,
        httpx.Response(409, text="Upload-Offset conflict"),
        appended(len(BIG)),
    )
    mock.on("HEAD", UPLOAD, httpx.Response(200, headers={"Upload-Offset": str(6 * MIB)}))
    async with mock.client() as storage:
        await storage.upload_file("video-clips", "j/c.mp4", BIG)
    patches = mock.calls("PATCH", UPLOAD)
    assert [r.headers["Upload-Offset"] for r in patches] == ["0", str(6 * MIB)]
    assert len(mock.calls("HEAD", UPLOAD)) == 1


async def test_a_409_chunk_with_no_progress_is_a_conflict_with_the_servers_message(
    mock: StorageMock,
) -> None:
    # Another writer stored the object while we uploaded: the last PATCH gets Storage's
    # plain-text 409 and the HEAD shows the server still at the refused offset.
    mock.on("POST", CREATE, created())
    mock.on(
        "PATCH",
        UPLOAD,
        appended(6 * MIB),
        httpx.Response(409, text="The resource already exists"),
    )
    mock.on(
        "HEAD",
        UPLOAD,
        httpx.Response(200, headers={"Upload-Offset": str(6 * MIB), "Tus-Resumable": "1.0.0"}),
    )
    async with mock.client() as storage:
        with pytest.raises(ConflictError) as info:
            await storage.upload_file("video-clips", "j/c.mp4", BIG)
    error = info.value
    assert error.message == "The resource already exists"
    assert (error.status_code, error.retryable) == (409, False)
    assert isinstance(error.__cause__, StorageApiError)
    assert len(mock.calls("PATCH", UPLOAD)) == 2
    assert len(mock.calls("HEAD", UPLOAD)) == 1


async def test_a_head_saying_all_bytes_arrived_finishes_the_upload(mock: StorageMock) -> None:
    mock.on("POST", CREATE, created())
    mock.on("PATCH", UPLOAD, appended(6 * MIB), httpx.ReadTimeout("lost the answer"))
    mock.on("HEAD", UPLOAD, httpx.Response(200, headers={"Upload-Offset": str(len(BIG))}))
    async with mock.client() as storage:
        await storage.upload_file("video-clips", "j/c.mp4", BIG)
    assert len(mock.calls("PATCH", UPLOAD)) == 2


@pytest.mark.parametrize("offset", ["", "-1", "abc", str(100 * MIB)])
async def test_an_invalid_upload_offset_is_a_protocol_error(mock: StorageMock, offset: str) -> None:
    mock.on("POST", CREATE, created())
    mock.on("PATCH", UPLOAD, httpx.Response(204, headers={"Upload-Offset": offset}))
    async with mock.client() as storage:
        with pytest.raises(StorageError, match="Upload-Offset") as info:
            await storage.upload_file("video-clips", "j/c.mp4", BIG)
    assert info.value.code == "tus_protocol_error"


async def test_a_chunk_that_makes_no_progress_is_a_protocol_error(mock: StorageMock) -> None:
    mock.on("POST", CREATE, created())
    mock.on("PATCH", UPLOAD, appended(0))
    async with mock.client() as storage:
        with pytest.raises(StorageError, match="no progress"):
            await storage.upload_file("video-clips", "j/c.mp4", BIG)


async def test_a_transient_create_failure_is_retried(mock: StorageMock) -> None:
    mock.on("POST", CREATE, httpx.Response(503, text="Service Unavailable"), created())
    mock.on("PATCH", UPLOAD, appended(6 * MIB), appended(len(BIG)))
    async with mock.client() as storage:
        await storage.upload_file("video-clips", "j/c.mp4", BIG)
    assert len(mock.calls("POST", CREATE)) == 2


async def test_a_file_object_without_readinto_is_read_in_chunks(mock: StorageMock) -> None:
    class Minimal:
        """Only read/seek/tell/seekable, like some wrappers around files."""

        mode = "rb"

        def __init__(self, data: bytes) -> None:
            self._data = data
            self._pos = 0

        def seekable(self) -> bool:
            return True

        def tell(self) -> int:
            return self._pos

        def seek(self, offset: int, whence: int = 0) -> int:
            self._pos = {0: offset, 1: self._pos + offset, 2: len(self._data) + offset}[whence]
            return self._pos

        def read(self, size: int = -1) -> bytes:
            end = len(self._data) if size < 0 else min(len(self._data), self._pos + size)
            data, self._pos = self._data[self._pos : end], end
            return data

    mock.on("POST", CREATE, created())
    mock.on("PATCH", UPLOAD, appended(6 * MIB), appended(len(BIG)))
    async with mock.client() as storage:
        await storage.upload_file("video-clips", "j/c.mp4", Minimal(BIG))  # type: ignore[arg-type]
    assert mock.bodies[1] + mock.bodies[2] == BIG


def test_plain_text_errors_keep_the_real_status() -> None:
    error = storage_api_error(409, b"The resource already exists", "Conflict")
    assert (error.message, error.code, error.status) == (
        "The resource already exists",
        "Conflict",
        409,
    )


def test_json_errors_keep_the_status_string_from_the_body() -> None:
    body = (
        b'{"statusCode":"404","error":"not_found","message":"Object not found","code":"NoSuchKey"}'
    )
    error = storage_api_error(400, body)
    assert (error.message, error.code, error.status) == ("Object not found", "not_found", "404")


def test_an_empty_error_body_falls_back_to_the_reason() -> None:
    assert storage_api_error(502, b"", "Bad Gateway").message == "Bad Gateway"


# -- downloads that fail half-way --------------------------------------------------------------


def broken_then_whole(data: bytes) -> list[httpx.Response]:
    async def broken() -> AsyncIterator[bytes]:
        yield data[: len(data) // 2]
        raise httpx.ReadError("connection reset by peer")

    async def whole() -> AsyncIterator[bytes]:
        yield data

    return [httpx.Response(200, content=broken()), httpx.Response(200, content=whole())]


async def test_download_to_path_restarts_a_download_that_broke(
    mock: StorageMock, tmp_path: Path
) -> None:
    mock.on("GET", "/storage/v1/object/authenticated/video-clips/j/c.mp4", *broken_then_whole(BIG))
    async with mock.client() as storage:
        written = await storage.download_to_path("video-clips", "j/c.mp4", tmp_path / "c.mp4")
    assert written == len(BIG)
    assert (tmp_path / "c.mp4").read_bytes() == BIG


async def test_download_file_restarts_a_download_that_broke(mock: StorageMock) -> None:
    mock.on("GET", "/storage/v1/object/authenticated/video-clips/j/c.mp4", *broken_then_whole(MP4))
    async with mock.client() as storage:
        assert await storage.download_file("video-clips", "j/c.mp4") == MP4
    assert len(mock.requests) == 2


async def test_stream_file_retries_a_server_fault_when_opening(mock: StorageMock) -> None:
    mock.on(
        "GET",
        "/storage/v1/object/authenticated/video-clips/j/c.mp4",
        httpx.Response(503, text="upstream connect error"),
        httpx.Response(200, content=MP4, headers={"content-type": "video/mp4"}),
    )
    async with (
        mock.client() as storage,
        storage.stream_file("video-clips", "j/c.mp4", chunk_size_bytes=64) as chunks,
    ):
        received = b"".join([chunk async for chunk in chunks])
    assert received == MP4
    assert len(mock.requests) == 2


async def test_stream_file_reports_a_break_while_iterating(mock: StorageMock) -> None:
    mock.on(
        "GET", "/storage/v1/object/authenticated/video-clips/j/c.mp4", broken_then_whole(MP4)[0]
    )

    async def consume(storage: StorageClient) -> None:
        async with storage.stream_file("video-clips", "j/c.mp4", chunk_size_bytes=64) as chunks:
            async for _chunk in chunks:
                pass

    async with mock.client() as storage:
        with pytest.raises(ServiceUnavailableError, match="connection reset"):
            await consume(storage)
    assert len(mock.requests) == 1


# -- the connection-dropping hook ---------------------------------------------------------------


class _Socket:
    closed = False

    async def aclose(self) -> None:
        self.closed = True


def error_response(method: str, url: str, status: int = 400) -> tuple[httpx.Response, _Socket]:
    socket = _Socket()
    response = httpx.Response(
        status,
        request=httpx.Request(method, url),
        extensions={"http_version": b"HTTP/1.1", "network_stream": socket},
        stream=httpx.ByteStream(b'{"statusCode":"409"}'),
    )
    return response, socket


async def test_the_hook_closes_the_socket_of_a_rejected_storage_upload() -> None:
    response, socket = error_response("POST", f"{STORAGE}/object/video-clips/a.mp4")
    await drop_connection_after_upload_error(response)
    await response.aread()
    assert socket.closed is True


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("POST", "https://abcdefghijkl.supabase.co/rest/v1/jobs", 409),
        ("GET", f"{STORAGE}/object/video-clips/a.mp4", 400),
        ("POST", f"{STORAGE}/object/video-clips/a.mp4", 200),
    ],
    ids=["other-service", "no-body", "success"],
)
async def test_the_hook_leaves_other_responses_alone(method: str, url: str, status: int) -> None:
    response, socket = error_response(method, url, status)
    await drop_connection_after_upload_error(response)
    await response.aread()
    assert socket.closed is False


def test_the_1_0_module_name_still_imports_the_tus_client() -> None:
    import runtime.storage._tus as tus
    import runtime.storage_tus as old

    assert old.__all__ == ["TUS_CHUNK_SIZE_BYTES", "TUS_VERSION", "TusUpload"]
    assert all(getattr(old, name) is getattr(tus, name) for name in old.__all__)
    assert not hasattr(old, "drop_connection_after_upload_error")  # plumbing, private now
