"""Supabase Storage's resumable uploads (TUS 1.0) and its HTTP-level quirks.

Storage accepts large files at ``{storage_url}/upload/resumable``:

1. ``POST`` with ``Tus-Resumable: 1.0.0``, ``Upload-Length`` and ``Upload-Metadata`` (base64
   ``bucketName``, ``objectName``, ``contentType``, ``cacheControl``) plus ``x-upsert``; the
   server answers ``201 Created`` with the upload's URL in ``Location``.
2. ``PATCH`` that URL once per chunk with ``Upload-Offset`` and
   ``Content-Type: application/offset+octet-stream``; each answer is ``204`` with the new
   ``Upload-Offset``. Every chunk but the last must be exactly 6 MiB (Storage's rule).
   Storage re-checks ``x-upsert`` on every ``PATCH``, so it is sent on every request (without
   it an upsert over an existing object fails with 409 on the first chunk).
3. ``HEAD`` that URL to learn how far the server got; after a failed ``PATCH`` the upload goes on
   from there instead of starting again. A ``409`` on a ``PATCH`` usually means our offset is not
   the server's; but Storage also answers ``409`` when the object already exists (another writer
   stored it first). So after a ``409`` the ``HEAD`` decides: the server moved, and the upload
   resumes from its offset; it is still at the refused offset (no progress), and the ``409`` is
   raised as the non-retryable ``ConflictError`` with the server's message.

When an upload fails for good (retries spent, a conflict, a refusal), ``DELETE`` on its URL
(TUS termination) asks Storage to drop the partial data instead of leaving it behind.

Errors here are real HTTP statuses with plain-text bodies (409 exists, 403 refused, 413 too
large), unlike the JSON API (HTTP 400 with the status as a string in the body):
:func:`storage_api_error` turns either into storage3's ``StorageApiError`` so that
:func:`runtime.error_mapping.translate_exception` maps both the same way.

:func:`drop_connection_after_upload_error` handles another quirk: after rejecting an upload
early (duplicate, refused, too large) Storage answers with keep-alive but never reads the rest of
the request body, so the next request on that connection hangs until it times out. The hook
closes such a connection as soon as the error response has been read, so it never goes back to
the pool.

Only one chunk is in memory at a time: the caller supplies ``read_chunk(offset, length)``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urljoin, urlsplit
from uuid import UUID

import httpx
from storage3.exceptions import StorageApiError

from runtime.error_mapping import translate_exception
from runtime.errors import PipelineError, RetryableError, StorageError
from runtime.logging import get_logger

__all__ = [
    "TUS_CHUNK_SIZE_BYTES",
    "TUS_VERSION",
    "TusUpload",
    "drop_connection_after_upload_error",
    "read_error_response",
    "storage_api_error",
]

TUS_VERSION: Final = "1.0.0"
#: Storage's required size for every chunk but the last.
TUS_CHUNK_SIZE_BYTES: Final = 6 * 1024 * 1024
_MAX_ERROR_BODY_BYTES: Final = 64 * 1024
_UPLOAD_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})
_STORAGE_PATH: Final = "/storage/v1/"

_logger = get_logger("runtime.storage")

ChunkReader = Callable[[int, int], Awaitable[bytes | memoryview]]


def storage_api_error(status_code: int, body: bytes, reason: str = "") -> StorageApiError:
    """Build the storage3 error for a Storage response, JSON API or TUS alike.

    Args:
        status_code: The HTTP status of the response.
        body: The response body (already bounded by the caller).
        reason: The HTTP reason phrase, used when the body is empty.

    Returns:
        ``StorageApiError(message, code, status)``: from a JSON body, its ``message``,
        ``error`` and ``statusCode`` (the string status Storage puts there), as storage3 does;
        from a plain-text body (TUS), the text, ``reason`` and the HTTP status.
    """
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "message" in parsed and "statusCode" in parsed:
        code = parsed.get("error") or parsed.get("code") or str(status_code)
        return StorageApiError(str(parsed["message"]), str(code), parsed["statusCode"])
    text = body.decode("utf-8", errors="replace").strip()
    return StorageApiError(text or reason or f"HTTP {status_code}", reason or "", status_code)


class _CloseConnectionAfter(httpx.AsyncByteStream):
    """A response body stream that closes the socket under it when the response is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, network_stream: Any) -> None:
        self._inner = inner
        self._network_stream = network_stream

    async def __aiter__(self) -> Any:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            # Closing the socket first makes httpcore see the connection as gone (it checks the
            # socket before reusing an idle connection), so the pool discards it.
            await self._network_stream.aclose()
        finally:
            await self._inner.aclose()


class _ChunkBody(httpx.AsyncByteStream):
    """A request body sent in slices that lets go of its chunk as soon as it has been sent.

    httpx keeps each request reachable from its response through a reference cycle, so a chunk
    passed as ``content=`` would live until the garbage collector runs, and a large upload would
    pile up chunks in memory. This stream hands its buffer over while iterating and drops it.
    """

    _SLICE_BYTES: Final = 1024 * 1024

    def __init__(self, data: bytes | memoryview) -> None:
        self._data: bytes | memoryview | None = data

    async def __aiter__(self) -> Any:
        data, self._data = self._data, None
        if data is None:
            raise RuntimeError("a chunk body can be sent once")
        with memoryview(data) as view:
            for start in range(0, len(view), self._SLICE_BYTES):
                yield view[start : start + self._SLICE_BYTES]


async def drop_connection_after_upload_error(response: httpx.Response) -> None:
    """Response hook: never reuse an HTTP/1.1 connection that carried a rejected upload.

    Installed on the storage client's ``httpx.AsyncClient`` (``event_hooks["response"]``). It acts
    only on error responses (status >= 400) to Storage requests (``/storage/v1/`` paths) that send
    a body (POST, PUT, PATCH); other responses, including those of other services sharing an
    injected client, are left alone.

    Args:
        response: The response, before its body is read.
    """
    request = response.request
    if response.status_code < 400 or request.method not in _UPLOAD_METHODS:
        return
    if _STORAGE_PATH not in request.url.path:
        return
    if response.http_version != "HTTP/1.1":
        return  # HTTP/2 multiplexes: the stream ends, the connection stays healthy
    network_stream = response.extensions.get("network_stream")
    if network_stream is None or not isinstance(response.stream, httpx.AsyncByteStream):
        return
    response.stream = _CloseConnectionAfter(response.stream, network_stream)


async def read_error_response(response: httpx.Response) -> StorageApiError:
    """Read (at most 64 KiB of) an error response's body, close it, and build storage3's error.

    Args:
        response: A streamed response with an error status.

    Returns:
        The error :func:`storage_api_error` builds for it.
    """
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= _MAX_ERROR_BODY_BYTES:
            break
    await response.aclose()
    return storage_api_error(response.status_code, bytes(body), response.reason_phrase)


def _metadata(values: Mapping[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
        for key, value in values.items()
    )


#: Wraps a step (create, one chunk) in the client's retry policy.
Retrying = Callable[[Callable[[], Awaitable[Any]]], Callable[[], Awaitable[Any]]]


@dataclass(kw_only=True)
class TusUpload:
    """One resumable upload of ``size`` bytes to ``bucket/object_name``.

    Attributes:
        client: The HTTP client (with :func:`drop_connection_after_upload_error` installed).
        endpoint: ``{storage_url}/upload/resumable``.
        headers: Authentication headers (``apikey``, ``Authorization``).
        bucket: Target bucket.
        object_name: Object path inside the bucket.
        content_type: Stored content type.
        size: Total bytes to send.
        read_chunk: ``await read_chunk(offset, length)`` returns that slice of the source (it may
            reuse one buffer: the slice is only used until the next call).
        upsert: Overwrite an existing object instead of failing with a conflict.
        cache_control_seconds: ``Cache-Control: max-age`` the object is served with.
        chunk_size_bytes: Bytes per ``PATCH`` (6 MiB for Supabase).
        retrying: The retry policy each step (create, each chunk) runs under (the client's
            ``max_attempts`` and backoff: the defaults live in its options, not here).
        job_id: The job the upload belongs to, for errors and logs.
    """

    client: httpx.AsyncClient
    endpoint: str
    headers: Mapping[str, str]
    bucket: str
    object_name: str
    content_type: str
    size: int
    read_chunk: ChunkReader
    upsert: bool
    cache_control_seconds: int
    chunk_size_bytes: int
    retrying: Retrying
    job_id: UUID | None

    def __post_init__(self) -> None:
        self._location: str | None = None
        self._offset = 0
        self._resync = False
        # The offset of a PATCH refused with 409, and the translated error, until the HEAD after
        # it tells whether the server moved (an offset mismatch) or not (a real conflict).
        self._refused: tuple[int, PipelineError] | None = None
        self.requests = 0

    def _tus_headers(self, **extra: str) -> dict[str, str]:
        # x-upsert on every request: Storage re-checks it on each PATCH, not only on the POST.
        return {
            **self.headers,
            "Tus-Resumable": TUS_VERSION,
            "x-upsert": "true" if self.upsert else "false",
            **extra,
        }

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """Send and return a response whose status is 2xx; raise our error otherwise."""
        self.requests += 1
        try:
            response = await self.client.send(request, stream=True)
            if response.status_code < 400:
                await response.aread()  # empty or tiny; reading it lets the connection be reused
                return response
            error = await read_error_response(response)
        except httpx.HTTPError as exc:
            raise translate_exception(exc, service="storage", job_id=self.job_id) from exc
        raise translate_exception(error, service="storage", job_id=self.job_id) from error

    def _upload_url(self, location: str | None) -> str:
        """Resolve ``Location`` and keep it on our endpoint (credentials never go elsewhere)."""
        if not location:
            raise StorageError(
                "Storage created a resumable upload without a Location header",
                self.job_id,
                code="tus_protocol_error",
                service="storage",
            )
        endpoint = urlsplit(self.endpoint)
        target = urlsplit(urljoin(self.endpoint + "/", location))
        if not target.path.startswith(endpoint.path.rstrip("/") + "/"):
            raise StorageError(
                f"Storage returned an upload URL outside its resumable endpoint: {target.path!r}",
                self.job_id,
                code="tus_protocol_error",
                service="storage",
            )
        # Same scheme, host and port as the endpoint: a proxy may report its own (http://) origin.
        return endpoint._replace(path=target.path, query=target.query, fragment="").geturl()

    async def _create(self) -> str:
        metadata = _metadata(
            {
                "bucketName": self.bucket,
                "objectName": self.object_name,
                "contentType": self.content_type,
                "cacheControl": str(self.cache_control_seconds),
            }
        )
        request = self.client.build_request(
            "POST",
            self.endpoint,
            headers=self._tus_headers(
                **{
                    "Upload-Length": str(self.size),
                    "Upload-Metadata": metadata,
                }
            ),
        )
        response = await self._send(request)
        return self._upload_url(response.headers.get("Location"))

    async def _server_offset(self, location: str) -> int:
        response = await self._send(
            self.client.build_request("HEAD", location, headers=self._tus_headers())
        )
        return self._offset_header(response)

    def _offset_header(self, response: httpx.Response) -> int:
        value = response.headers.get("Upload-Offset", "")
        if not value.isdigit() or int(value) > self.size:
            raise StorageError(
                f"Storage answered with an invalid Upload-Offset {value!r}",
                self.job_id,
                code="tus_protocol_error",
                service="storage",
            )
        return int(value)

    async def _push_chunk(self) -> None:
        """Send the chunk at the current offset (after re-reading the offset if needed)."""
        location = self._location
        assert location is not None
        if self._resync:
            self._offset = await self._server_offset(location)
            self._resync = False
            refused, self._refused = self._refused, None
            if refused is not None and refused[0] == self._offset:
                # The server is where we were: the 409 was no offset mismatch but a refusal
                # (Storage answers 409 too when another writer stored the object first).
                raise refused[1]
            if self._offset >= self.size:
                return
        offset = self._offset
        data = await self.read_chunk(offset, min(self.chunk_size_bytes, self.size - offset))
        request = self.client.build_request(
            "PATCH",
            location,
            headers=self._tus_headers(
                **{
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(len(data)),
                }
            ),
            content=_ChunkBody(data),
        )
        del data
        try:
            response = await self._send(request)
        except Exception as exc:
            # Whatever happened, the server may hold more or less than we think: ask it next time.
            self._resync = True
            if getattr(exc, "status_code", None) == 409 and isinstance(exc, PipelineError):
                # TUS 409 on PATCH: our offset is not the server's (re-read it and go on), or the
                # object exists (the HEAD then shows no progress and the conflict is raised).
                self._refused = (offset, exc)
                raise RetryableError(
                    f"resumable upload offset {offset} rejected; resynchronising",
                    self.job_id,
                    code="tus_offset_conflict",
                ) from exc
            raise
        self._offset = self._offset_header(response)

    async def run(self) -> None:
        """Create the upload and send every chunk, resuming after transient failures.

        Raises:
            ConflictError: The object exists and ``upsert`` is false.
            PermissionDeniedError: The key may not write there.
            PayloadTooLargeError: The object is larger than the bucket or project allows.
            ServiceUnavailableError: A transient failure outlasted the retries.
            StorageError: Any other refusal, or a protocol violation by the server.
        """
        self._location = await self.retrying(self._create)()
        try:
            await self._send_all()
        except Exception:
            await self._terminate()
            raise

    async def _terminate(self) -> None:
        """Ask Storage to drop the partial upload (TUS termination) after a final failure.

        Best effort, one request, errors only logged: the upload failed already, and Storage
        expires abandoned uploads itself eventually.
        """
        location = self._location
        if location is None:
            return
        try:
            await self._send(
                self.client.build_request("DELETE", location, headers=self._tus_headers())
            )
        except Exception as exc:
            _logger.warning(
                "Could not terminate the abandoned resumable upload of %s/%s: %s",
                self.bucket,
                self.object_name,
                exc,
                extra={"bucket": self.bucket, "path": self.object_name, "job_id": self.job_id},
            )

    async def _send_all(self) -> None:
        push = self.retrying(self._push_chunk)
        while self._offset < self.size:
            before = self._offset
            await push()
            _logger.debug(
                "Resumable upload progress",
                extra={
                    "bucket": self.bucket,
                    "path": self.object_name,
                    "offset": self._offset,
                    "size": self.size,
                    "job_id": self.job_id,
                },
            )
            if self._offset <= before and not self._resync:
                raise StorageError(
                    f"resumable upload made no progress at offset {before}",
                    self.job_id,
                    code="tus_protocol_error",
                    service="storage",
                )
