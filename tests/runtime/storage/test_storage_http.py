"""The HTTP boundary: real Storage request shapes, responses and error bodies (MockTransport)."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from storage3.exceptions import StorageApiError
from storage_mock import (
    BAD_KEY,
    DUPLICATE,
    EXPIRED,
    MP3,
    MP4,
    NO_BUCKET,
    NOT_FOUND,
    PNG,
    PROJECT_URL,
    SERVICE_KEY,
    STORAGE,
    TOO_LARGE,
    StorageMock,
    json_body,
    multipart_parts,
    storage_error,
)

from runtime.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    ServiceUnavailableError,
    StorageError,
    ValidationError,
)
from runtime.storage import MAX_SIGNED_URL_SECONDS, StorageClient, StorageOptions

UPLOADED = httpx.Response(200, json={"Key": "audio-uploads/u/j/song.mp3", "Id": str(uuid4())})
AUDIO_PATH = "/storage/v1/object/audio-uploads/u/j/song.mp3"
INFO_PATH = "/storage/v1/object/info/audio-uploads/u/j/song.mp3"
DOWNLOAD_PATH = "/storage/v1/object/authenticated/audio-uploads/u/j/song.mp3"

OPTIONS = StorageOptions(url=PROJECT_URL, service_key=SERVICE_KEY)


# -- upload ----------------------------------------------------------------------------------


async def test_upload_sends_storage3s_multipart_request(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, UPLOADED)
    async with mock.client() as storage:
        url = await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3, "audio/mpeg")
    request, check = mock.requests  # the upload, then reading the stored object's info back
    parts = multipart_parts(request)
    assert (check.method, check.url.path) == ("GET", INFO_PATH)
    assert url == f"{STORAGE}/object/audio-uploads/u/j/song.mp3"
    assert request.headers["apikey"] == SERVICE_KEY
    assert request.headers["authorization"] == f"Bearer {SERVICE_KEY}"
    assert request.headers["x-upsert"] == "false"
    assert parts["file"] == (MP3, "audio/mpeg")
    assert parts["cacheControl"][0] == b"3600"


async def test_upload_with_upsert_asks_to_overwrite(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3, upsert=True)
    assert mock.requests[0].headers["x-upsert"] == "true"


async def test_upload_detects_the_content_type_from_the_bytes(mock: StorageMock) -> None:
    mock.on("POST", "/storage/v1/object/reference-images/j/ref.png", UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("reference-images", "j/ref.png", PNG)
    assert multipart_parts(mock.requests[0])["file"][1] == "image/png"


async def test_upload_sends_the_canonical_spelling_of_a_given_type(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3, "audio/mp3")
    assert multipart_parts(mock.requests[0])["file"][1] == "audio/mpeg"


async def test_upload_from_a_path_sends_the_file(mock: StorageMock, tmp_path: Path) -> None:
    source = tmp_path / "song.mp3"
    source.write_bytes(MP3)
    mock.on("POST", AUDIO_PATH, UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", source)
    assert multipart_parts(mock.requests[0])["file"] == (MP3, "audio/mpeg")


async def test_upload_from_a_file_object_sends_from_its_position(mock: StorageMock) -> None:
    stream = io.BytesIO(b"junk-before" + MP3)
    stream.seek(len(b"junk-before"))
    mock.on("POST", AUDIO_PATH, UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", stream)
    assert multipart_parts(mock.requests[0])["file"][0] == MP3
    assert not stream.closed


async def test_upload_with_cache_control_sends_it(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3, cache_control_seconds=60)
    assert multipart_parts(mock.requests[0])["cacheControl"][0] == b"60"


@pytest.mark.parametrize(
    ("bucket", "path", "data", "content_type", "code"),
    [
        ("private-stuff", "a.mp3", MP3, None, "unknown_bucket"),
        ("audio-uploads", "../a.mp3", MP3, None, "invalid_path"),
        ("audio-uploads", "a.mp3", b"", None, "empty_file"),
        ("audio-uploads", "a.mp3", MP3 + b"\0" * (10 * 1024 * 1024), None, "file_too_large"),
        ("audio-uploads", "a.mp4", MP4, None, "content_type_not_allowed"),
        ("audio-uploads", "a.wav", MP3, "audio/wav", "content_type_mismatch"),
        ("audio-uploads", "a.bin", b"\x00" * 64, None, "unknown_content_type"),
        ("audio-uploads", "a.mp3", "ID3 text", None, "invalid_file_data"),
        ("audio-uploads", "a.mp3", 42, None, "invalid_file_data"),
        ("audio-uploads", "a.mp3", io.StringIO("text"), None, "invalid_file_data"),
        ("audio-uploads", "a.mp3", Path("/nonexistent/a.mp3"), None, "file_not_found"),
    ],
    ids=[
        "bucket",
        "path",
        "empty",
        "too-large",
        "type-not-allowed",
        "type-mismatch",
        "undetectable",
        "str",
        "int",
        "text-stream",
        "missing-file",
    ],
)
async def test_bad_uploads_are_refused_before_any_request(
    mock: StorageMock, bucket: str, path: str, data: object, content_type: str | None, code: str
) -> None:
    async with mock.client() as storage:
        with pytest.raises(ValidationError) as info:
            await storage.upload_file(bucket, path, data, content_type)  # type: ignore[arg-type]
    assert info.value.code == code
    assert mock.requests == []


async def test_an_unseekable_stream_is_refused(mock: StorageMock) -> None:
    class Pipe(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

    async with mock.client() as storage:
        with pytest.raises(ValidationError, match="seekable"):
            await storage.upload_file("audio-uploads", "a.mp3", Pipe())  # type: ignore[arg-type]


class Draining(httpx.AsyncBaseTransport):
    """A transport that consumes a request body piece by piece, keeping none of it.

    (``httpx.MockTransport`` reads the whole body before its handler sees the request, so it
    cannot tell a streamed upload from a buffered one.)
    """

    def __init__(self) -> None:
        self.received = 0
        self.pieces: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for piece in request.stream:
            self.received += len(piece)
            self.pieces.append(len(piece))
        return httpx.Response(200, json={"Key": "video-clips/j/c.mp4", "Id": str(uuid4())})


def threshold_sized_video(tmp_path: Path) -> Path:
    """An MP4-looking file of exactly 6 MiB: the largest that still goes in one request."""
    source = tmp_path / "clip.mp4"
    with source.open("wb") as handle:
        handle.write(MP4)
        handle.truncate(6 * 1024 * 1024)
    return source


async def test_a_small_upload_from_a_path_reaches_the_transport_in_pieces(tmp_path: Path) -> None:
    source = threshold_sized_video(tmp_path)
    drain = Draining()
    async with (
        httpx.AsyncClient(transport=drain) as http,
        StorageClient(options=OPTIONS, http_client=http) as storage,
    ):
        await storage.upload_file("video-clips", "j/c.mp4", source)
    assert drain.received > source.stat().st_size  # the file and the multipart framing
    assert max(drain.pieces) <= 1024 * 1024  # never the whole file in one piece


async def test_a_small_upload_from_a_path_never_holds_the_file_in_memory(tmp_path: Path) -> None:
    source = threshold_sized_video(tmp_path)
    size = source.stat().st_size
    async with (
        httpx.AsyncClient(transport=Draining()) as http,
        StorageClient(options=OPTIONS, http_client=http) as storage,
    ):
        storage.api  # noqa: B018 - build the client before measuring
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            await storage.upload_file("video-clips", "j/c.mp4", source)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak - before < size // 4


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error_type", "status"),
    [
        (DUPLICATE, ConflictError, 409),
        (TOO_LARGE, PayloadTooLargeError, 413),
        (NO_BUCKET, NotFoundError, 404),
        (BAD_KEY, PermissionDeniedError, 403),
    ],
    ids=["duplicate", "too-large", "no-bucket", "bad-key"],
)
async def test_upload_refusals_become_typed_errors_with_the_servers_message(
    mock: StorageMock, body: tuple[str, str, str, str], error_type: type, status: int
) -> None:
    mock.on("POST", AUDIO_PATH, storage_error(*body))
    async with mock.client() as storage:
        with pytest.raises(error_type) as info:
            await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    error = info.value
    assert body[2] in error.message
    assert error.status_code == status
    assert error.upstream_code == body[1]
    assert error.retryable is False
    assert isinstance(error.__cause__, StorageApiError)
    assert len(mock.requests) == 1


async def test_download_of_a_missing_object_is_not_found(mock: StorageMock) -> None:
    mock.on("GET", DOWNLOAD_PATH, storage_error(*NOT_FOUND))
    async with mock.client() as storage:
        with pytest.raises(NotFoundError, match="Object not found") as info:
            await storage.download_file("audio-uploads", "u/j/song.mp3")
    assert info.value.status_code == 404


async def test_an_expired_token_is_permission_denied(mock: StorageMock) -> None:
    mock.on("GET", DOWNLOAD_PATH, storage_error(*EXPIRED))
    async with mock.client() as storage:
        with pytest.raises(PermissionDeniedError, match="exp"):
            await storage.download_file("audio-uploads", "u/j/song.mp3")


async def test_a_server_fault_is_retried_then_reported_unavailable(mock: StorageMock) -> None:
    mock.on("GET", DOWNLOAD_PATH, httpx.Response(503, text="upstream connect error"))
    async with mock.client(max_attempts=3) as storage:
        with pytest.raises(ServiceUnavailableError) as info:
            await storage.download_file("audio-uploads", "u/j/song.mp3")
    assert info.value.retryable is True
    assert len(mock.requests) == 3


async def test_a_transient_upload_failure_is_retried(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, httpx.Response(502, text="bad gateway"), UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    assert len(mock.calls("POST", AUDIO_PATH)) == 2


async def test_an_upload_that_never_reached_the_server_is_retried(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, httpx.ConnectError("connection refused"), UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    assert len(mock.calls("POST", AUDIO_PATH)) == 2


def object_info(data: bytes, *, etag: str | None = None) -> httpx.Response:
    """Storage's ``GET /object/info/{bucket}/{path}`` answer (v1.70's info renderer)."""
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    return httpx.Response(
        200,
        json={
            "id": str(uuid4()),
            "name": "u/j/song.mp3",
            "version": str(uuid4()),
            "bucket_id": "audio-uploads",
            "size": len(data),
            "content_type": "audio/mpeg",
            "cache_control": "max-age=3600",
            "etag": f'"{md5}"' if etag is None else etag,
            "metadata": {},
            "last_modified": "2025-06-01T12:00:00.000Z",
            "created_at": "2025-06-01T12:00:00.000Z",
        },
    )


@pytest.mark.parametrize(
    "first",
    [httpx.Response(502, text="Bad Gateway"), httpx.ReadTimeout("timed out")],
    ids=["server-fault", "timeout-after-sending"],
)
async def test_a_retry_refused_as_duplicate_succeeds_when_the_stored_object_is_ours(
    mock: StorageMock, first: httpx.Response | Exception
) -> None:
    mock.on("POST", AUDIO_PATH, first, storage_error(*DUPLICATE))
    mock.on("GET", INFO_PATH, object_info(MP3))
    async with mock.client() as storage:
        url = await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    assert url.endswith("/object/audio-uploads/u/j/song.mp3")
    assert len(mock.calls("POST", AUDIO_PATH)) == 2
    assert len(mock.calls("GET", INFO_PATH)) == 1


@pytest.mark.parametrize(
    "stored",
    [MP3[:-1] + b"\x01", MP3 + b"\0"],
    ids=["same-size-other-bytes", "other-size"],
)
async def test_a_retry_refused_as_duplicate_is_a_conflict_when_the_stored_object_differs(
    mock: StorageMock, stored: bytes
) -> None:
    mock.on("POST", AUDIO_PATH, httpx.Response(503, text="busy"), storage_error(*DUPLICATE))
    mock.on("GET", INFO_PATH, object_info(stored))
    async with mock.client() as storage:
        with pytest.raises(ConflictError) as info:
            await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    assert info.value.message == DUPLICATE[2]
    assert info.value.retryable is False


@pytest.mark.parametrize(
    "answer",
    [object_info(MP3, etag='"0123456789abcdef0123456789abcdef-2"'), storage_error(*NOT_FOUND)],
    ids=["multipart-etag", "info-fails"],
)
async def test_a_retry_refused_as_duplicate_is_outcome_unknown_when_it_cannot_be_compared(
    mock: StorageMock, answer: httpx.Response
) -> None:
    mock.on("POST", AUDIO_PATH, httpx.Response(503, text="busy"), storage_error(*DUPLICATE))
    mock.on("GET", INFO_PATH, answer)
    async with mock.client() as storage:
        with pytest.raises(StorageError, match="cannot be told") as info:
            await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    assert info.value.code == "upload_outcome_unknown"
    assert info.value.retryable is False
    assert not isinstance(info.value, ConflictError)


async def test_a_path_upload_is_compared_by_reading_the_file(
    mock: StorageMock, tmp_path: Path
) -> None:
    source = tmp_path / "song.mp3"
    source.write_bytes(MP3)
    mock.on("POST", AUDIO_PATH, httpx.Response(503, text="busy"), storage_error(*DUPLICATE))
    mock.on("GET", INFO_PATH, object_info(MP3))
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", source)
    assert len(mock.calls("GET", INFO_PATH)) == 1


async def test_an_upload_of_unknown_fate_with_upsert_is_retried(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, httpx.ReadTimeout("timed out"), UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3, upsert=True)
    assert len(mock.requests) == 2


async def test_a_retried_file_object_upload_resends_the_same_bytes(mock: StorageMock) -> None:
    mock.on("POST", AUDIO_PATH, httpx.Response(503, text="busy"), UPLOADED)
    async with mock.client() as storage:
        await storage.upload_file("audio-uploads", "u/j/song.mp3", io.BytesIO(MP3))
    first, second = (multipart_parts(r)["file"][0] for r in mock.calls("POST", AUDIO_PATH))
    assert first == second == MP3


# -- download, signed URLs, delete -----------------------------------------------------------


async def test_download_returns_the_bytes(mock: StorageMock) -> None:
    mock.on("GET", DOWNLOAD_PATH, httpx.Response(200, content=MP3))
    async with mock.client() as storage:
        data = await storage.download_file("audio-uploads", "u/j/song.mp3")
    assert data == MP3
    assert mock.requests[0].headers["authorization"] == f"Bearer {SERVICE_KEY}"


async def test_download_refuses_more_than_max_bytes(mock: StorageMock) -> None:
    mock.on("GET", DOWNLOAD_PATH, httpx.Response(200, content=MP3))
    async with mock.client() as storage:
        with pytest.raises(ValidationError, match="download_to_path") as info:
            await storage.download_file("audio-uploads", "u/j/song.mp3", max_bytes=100)
    assert info.value.code == "file_too_large"


async def test_download_without_content_length_still_stops_at_max_bytes(mock: StorageMock) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield MP3[:200]
        yield MP3[200:]

    def chunked(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body())

    mock.on("GET", DOWNLOAD_PATH, chunked)
    async with mock.client() as storage:
        with pytest.raises(ValidationError, match="at least"):
            await storage.download_file("audio-uploads", "u/j/song.mp3", max_bytes=300)


async def test_signed_url_request_and_absolute_url(mock: StorageMock) -> None:
    path = "/storage/v1/object/sign/video-outputs/job/final_video.mp4"
    mock.on(
        "POST",
        path,
        httpx.Response(
            200, json={"signedURL": "/object/sign/video-outputs/job/final_video.mp4?token=abc.def"}
        ),
    )
    async with mock.client() as storage:
        url = await storage.get_signed_url("video-outputs", "job/final_video.mp4", expires_in=600)
    assert json_body(mock.requests[0]) == {"expiresIn": "600"}
    assert url == f"{STORAGE}/object/sign/video-outputs/job/final_video.mp4?token=abc.def"


async def test_signed_url_for_download_adds_the_download_flag(mock: StorageMock) -> None:
    path = "/storage/v1/object/sign/video-outputs/job/v.mp4"
    mock.on("POST", path, httpx.Response(200, json={"signedURL": "/object/sign/x?token=t"}))
    async with mock.client() as storage:
        url = await storage.get_signed_url("video-outputs", "job/v.mp4", download=True)
    assert json_body(mock.requests[0]) == {"expiresIn": "3600", "download": True}
    assert url.endswith("token=t&download=")


async def test_signed_url_of_a_missing_object_is_not_found(mock: StorageMock) -> None:
    mock.on("POST", "/storage/v1/object/sign/video-outputs/j/v.mp4", storage_error(*NOT_FOUND))
    async with mock.client() as storage:
        with pytest.raises(NotFoundError):
            await storage.get_signed_url("video-outputs", "j/v.mp4")


@pytest.mark.parametrize("body", [{}, {"signedURL": None}, {"signedURL": 7}])
async def test_an_unreadable_success_response_is_a_storage_error(
    mock: StorageMock, body: dict[str, object]
) -> None:
    mock.on("POST", "/storage/v1/object/sign/video-outputs/j/v.mp4", httpx.Response(200, json=body))
    async with mock.client() as storage:
        with pytest.raises(StorageError, match="could not be read") as info:
            await storage.get_signed_url("video-outputs", "j/v.mp4")
    assert info.value.code == "storage_protocol_error"
    assert len(mock.requests) == 1


@pytest.mark.parametrize("expires_in", [0, -5, MAX_SIGNED_URL_SECONDS + 1, 1.5, True])
async def test_signed_url_lifetime_is_bounded(mock: StorageMock, expires_in: object) -> None:
    async with mock.client() as storage:
        with pytest.raises(ValidationError) as info:
            await storage.get_signed_url("video-outputs", "j/v.mp4", expires_in)  # type: ignore[arg-type]
    assert info.value.code == "invalid_expiry"


async def test_delete_sends_the_prefixes_and_reports_a_deletion(mock: StorageMock) -> None:
    mock.on(
        "DELETE",
        "/storage/v1/object/video-clips",
        httpx.Response(200, json=[{"name": "job/clip_0.mp4", "bucket_id": "video-clips"}]),
    )
    async with mock.client() as storage:
        deleted = await storage.delete_file("video-clips", "job/clip_0.mp4")
    assert json_body(mock.requests[0]) == {"prefixes": ["job/clip_0.mp4"]}
    assert deleted is True


async def test_delete_of_a_missing_object_reports_false(mock: StorageMock) -> None:
    mock.on("DELETE", "/storage/v1/object/video-clips", httpx.Response(200, json=[]))
    async with mock.client() as storage:
        assert await storage.delete_file("video-clips", "job/none.mp4") is False


async def test_delete_is_retried_after_a_network_error(mock: StorageMock) -> None:
    mock.on(
        "DELETE",
        "/storage/v1/object/video-clips",
        httpx.ReadError("connection reset"),
        httpx.Response(200, json=[]),
    )
    async with mock.client() as storage:
        await storage.delete_file("video-clips", "job/clip_0.mp4")
    assert len(mock.requests) == 2


# -- buckets ---------------------------------------------------------------------------------


async def test_ensure_buckets_creates_private_buckets_with_our_limits(mock: StorageMock) -> None:
    mock.on("POST", "/storage/v1/bucket", httpx.Response(200, json={"name": "x"}))
    async with mock.client() as storage:
        outcome = await storage.ensure_buckets()
    bodies = {json_body(r)["id"]: json_body(r) for r in mock.requests}
    assert outcome == dict.fromkeys(bodies, "created")
    assert bodies["audio-uploads"] == {
        "id": "audio-uploads",
        "name": "audio-uploads",
        "public": False,
        "file_size_limit": 10 * 1024 * 1024,
        "allowed_mime_types": ["audio/flac", "audio/mpeg", "audio/wav"],
    }
    assert set(bodies) == {"audio-uploads", "reference-images", "video-clips", "video-outputs"}


async def test_ensure_buckets_updates_buckets_that_exist(mock: StorageMock) -> None:
    mock.on(
        "POST",
        "/storage/v1/bucket",
        storage_error("409", "Duplicate", "The resource already exists"),
    )
    for name in ("audio-uploads", "reference-images", "video-clips", "video-outputs"):
        mock.on("PUT", f"/storage/v1/bucket/{name}", httpx.Response(200, json={"message": "ok"}))
    async with mock.client() as storage:
        outcome = await storage.ensure_buckets()
    assert set(outcome.values()) == {"updated"}
    update = mock.calls("PUT", "/storage/v1/bucket/video-outputs")[0]
    assert json_body(update)["file_size_limit"] == 500 * 1024 * 1024


def test_object_url_encodes_the_path() -> None:
    storage = StorageClient(options=OPTIONS)
    assert (
        storage.object_url("video-clips", "job 1/clip (0).mp4")
        == f"{STORAGE}/object/video-clips/job%201/clip%20%280%29.mp4"
    )
