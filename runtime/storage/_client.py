"""Supabase Storage: upload, download, signed URLs, delete; bucket limits, typed errors, big files.

Usage::

    from runtime.storage import storage

    url = await storage.upload_file(
        bucket="audio-uploads",
        path="user_id/job_id/file.mp3",
        file_data=mp3_bytes,              # or a Path, or a seekable binary file object
        content_type="audio/mpeg",        # optional: detected from the bytes when omitted
    )
    file_data = await storage.download_file(bucket="audio-uploads", path="user_id/job_id/file.mp3")
    await storage.download_to_path("video-outputs", "job_id/final_video.mp4", Path("/tmp/v.mp4"))
    signed_url = await storage.get_signed_url(
        bucket="video-outputs", path="job_id/final_video.mp4", expires_in=3600
    )
    await storage.delete_file(bucket="video-clips", path="job_id/clip_0.mp4")

``storage`` is created lazily: importing this module reads no settings and opens no connection;
the first call reads ``supabase_url``, ``supabase_service_key`` and ``http_timeout_seconds``
from :mod:`runtime.config`. Workers and tests that want their own build a
:class:`StorageClient` with explicit keyword arguments (and an injected ``httpx.AsyncClient`` if
they like, the same way as the database client) and ``async with`` it.

It sits on storage3's ``AsyncStorageClient``, built the way supabase-py builds it (URL
``{supabase_url}/storage/v1/``, ``apiKey`` and ``Authorization: Bearer`` headers with the service
key, which bypasses RLS), over an ``httpx.AsyncClient`` from :func:`runtime.http.new_http_client`.

Buckets and paths
    Only the PRD's four buckets are accepted, each with a size limit and content-type allow-list
    (see :mod:`runtime.storage_buckets`); paths are checked against Storage's key rules before
    any request. Content types are detected from the file's first bytes
    (:mod:`runtime.content_types`); a given type must be allowed by the bucket and agree with
    the bytes when they are recognisable. ``upsert=False`` (the default) makes an object that
    exists when the upload starts a :class:`~runtime.errors.ConflictError`. Storage checks that
    only before it takes the body and stores with an upsert at the end, so concurrent writers to
    one path can all be told "stored"; after an upload without upsert the client reads the
    object's info back (size, MD5 ETag) and raises ``ConflictError(code=
    "overwritten_concurrently")`` when another writer's object replaced ours. A writer that
    stores after that read-back is not detected (only ``upsert=True`` or distinct paths avoid
    the race; see ``docs/storage.md``).

Large files
    Files up to ``resumable_threshold_bytes`` (6 MiB) go in one request through storage3
    (from a path it streams; bytes cost about three times their size in memory, which is why
    larger payloads never take that route). Larger files use Storage's resumable (TUS) endpoint
    in 6 MiB chunks read one at a time from the path, file object or buffer, resuming from the
    server's offset after a failed chunk (:mod:`runtime.storage_tus`); an upload that fails for
    good is terminated (TUS ``DELETE``) so no partial data is left. Downloads read
    ``/object/authenticated/{bucket}/{path}`` (where an invalid or expired key is a 403, not the
    public fallback's 404 "Bucket not found"); :meth:`StorageClient.download_file` holds the
    object once (about its size plus a few MiB), and downloads can stream to a path
    (:meth:`StorageClient.download_to_path`) or to the caller
    (:meth:`StorageClient.stream_file`) in bounded chunks.

Errors
    Every failure is a :class:`~runtime.errors.PipelineError` from
    :func:`runtime.error_mapping.translate_exception`, keeping the server's message: not found
    (``NotFoundError``; note that Storage also answers "Object not found" when the key may not
    read a private object, so not-allowed looks like not-found), unauthorized or an invalid or
    expired token (``PermissionDeniedError``), too large (``PayloadTooLargeError``), already
    exists (``ConflictError``), unreachable, timed out or a 5xx (``ServiceUnavailableError``).
    Bad input is a :class:`~runtime.errors.ValidationError` before any request.

Retries
    Transient failures (``ServiceUnavailableError``) are retried with jittered exponential
    backoff (``max_attempts``, via :func:`runtime.retry.retry_with_backoff`) where that is safe:
    downloads, signed URLs and deletes always, and uploads too. A single-request upload with
    ``upsert=False`` that failed with its outcome unknown (a 5xx, or a timeout or broken
    connection after the request went out) may have stored the object, so when its retry is
    refused with "already exists" the client reads the object's info
    (``GET /object/info/{bucket}/{path}``) before believing it: the same size and an MD5 ETag
    equal to our bytes' MD5 mean the earlier attempt stored it, and the upload succeeds; a
    different size or MD5 is another writer's object, a ``ConflictError``; when that cannot be
    told (the info fails, or its ETag is not a plain MD5) the upload fails with
    ``StorageError(code="upload_outcome_unknown")`` rather than a false conflict. A failure
    before the request was sent (connect errors) or a plain 409 on the first attempt needs no
    check. Resumable uploads resume from the server's offset (:mod:`runtime.storage_tus`).
    After an upload error the connection is closed rather than reused (Storage leaves the
    rest of a rejected body unread, which would hang the next request on it).
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("storage"):  # pragma: no cover - tested in a base install
    raise _extras.missing("storage", __name__)

import asyncio
import hashlib
import io
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, Final, TypeVar
from urllib.parse import quote
from uuid import UUID, uuid4

import httpx
import pydantic
from pydantic import SecretStr
from storage3 import AsyncStorageClient
from storage3.utils import StorageException

from runtime.content_types import SNIFF_BYTES, sniff_content_type
from runtime.error_mapping import translate_exception
from runtime.errors import (
    ConfigError,
    ConflictError,
    PipelineError,
    ServiceUnavailableError,
    StorageError,
    ValidationError,
)
from runtime.http import new_http_client
from runtime.lifecycle import LazyClient, check_bound
from runtime.logging import get_logger
from runtime.retry import retry_with_backoff
from runtime.storage._tus import (
    TUS_CHUNK_SIZE_BYTES,
    TusUpload,
    drop_connection_after_upload_error,
    read_error_response,
)
from runtime.storage.buckets import DEFAULT_BUCKETS, MIB, BucketPolicy, validate_object_path

__all__ = [
    "DEFAULT_RESUMABLE_THRESHOLD_BYTES",
    "MAX_SIGNED_URL_SECONDS",
    "FileData",
    "StorageClient",
    "StorageOptions",
    "get_storage",
    "storage",
]

T = TypeVar("T")

#: Files larger than this use the resumable (TUS) endpoint (Supabase's advice: above 6 MB).
DEFAULT_RESUMABLE_THRESHOLD_BYTES: Final = 6 * MIB
#: Longest lifetime accepted for a signed URL (7 days).
MAX_SIGNED_URL_SECONDS: Final = 7 * 24 * 3600

#: What :meth:`StorageClient.upload_file` accepts: bytes-like data, a path, or a seekable binary
#: file object (read from its current position to its end).
FileData = bytes | bytearray | memoryview | os.PathLike[str] | IO[bytes]

_logger = get_logger("runtime.storage")
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_HASH_SLICE_BYTES: Final = MIB
# A plain MD5 ETag (what Storage reports for an object stored in one piece), quotes optional.
_MD5_ETAG: Final = re.compile(r'(?:W/)?"?([0-9a-fA-F]{32})"?')


@dataclass(frozen=True)
class StorageOptions:
    """The policy of one :class:`StorageClient`; bounds are checked when it is built.

    Attributes:
        url: The Supabase project URL (``https://<ref>.supabase.co``).
        service_key: The service-role key (bypasses RLS).
        buckets: The allow-list of buckets and their limits.
        timeout_seconds: Read/write timeout per request of the client built here.
        max_connections: Connection pool size of the client built here.
        max_attempts: Tries per operation (or per upload chunk) on transient failures (1-10).
        retry_base_delay_seconds: Backoff before the first retry (doubling, jittered).
        retry_max_delay_seconds: Upper bound on one backoff delay.
        resumable_threshold_bytes: Files larger than this use the TUS endpoint.
        chunk_size_bytes: TUS chunk size (Supabase requires 6 MiB).
        cache_control_seconds: ``Cache-Control: max-age`` stored objects are served with.
        download_chunk_bytes: Chunk size when streaming a download.
        operation_deadline_seconds: Total time of one metadata operation (signed URL, delete,
            object info, bucket set-up), attempts and backoff included; transfers are bounded per
            request by ``timeout_seconds`` and per chunk by ``max_attempts`` instead, since their
            length depends on the file.
    """

    url: str
    service_key: SecretStr
    buckets: Mapping[str, BucketPolicy] = field(default_factory=lambda: DEFAULT_BUCKETS)
    timeout_seconds: float = 10.0
    max_connections: int = 10
    max_attempts: int = 3
    retry_base_delay_seconds: float = 0.5
    retry_max_delay_seconds: float = 8.0
    resumable_threshold_bytes: int = DEFAULT_RESUMABLE_THRESHOLD_BYTES
    chunk_size_bytes: int = TUS_CHUNK_SIZE_BYTES
    cache_control_seconds: int = 3600
    download_chunk_bytes: int = MIB
    operation_deadline_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not self.url.startswith(("https://", "http://")):
            raise ConfigError("Storage url must be the project's http(s):// URL")
        if not self.service_key.get_secret_value():
            raise ConfigError("Storage needs the service key")
        if not self.buckets:
            raise ConfigError("Storage needs at least one bucket policy")
        check_bound("timeout_seconds", self.timeout_seconds, low=0.1, high=600)
        check_bound("max_connections", self.max_connections, low=1, high=100, whole=True)
        check_bound("max_attempts", self.max_attempts, low=1, high=10, whole=True)
        check_bound(
            "operation_deadline_seconds", self.operation_deadline_seconds, low=0.1, high=600
        )
        check_bound("retry_max_delay_seconds", self.retry_max_delay_seconds, low=0.01, high=600)
        check_bound(  # never above the cap, which would make every delay the cap
            "retry_base_delay_seconds",
            self.retry_base_delay_seconds,
            low=0,
            high=min(60, self.retry_max_delay_seconds),
        )
        check_bound(
            "resumable_threshold_bytes",
            self.resumable_threshold_bytes,
            low=1,
            high=50 * MIB,
            whole=True,
        )
        check_bound(
            "chunk_size_bytes", self.chunk_size_bytes, low=64 * 1024, high=64 * MIB, whole=True
        )
        check_bound(
            "cache_control_seconds", self.cache_control_seconds, low=0, high=31_536_000, whole=True
        )
        check_bound(
            "download_chunk_bytes", self.download_chunk_bytes, low=4096, high=64 * MIB, whole=True
        )

    @property
    def storage_url(self) -> str:
        """``{url}/storage/v1/`` (with the trailing slash storage3 wants)."""
        return self.url.rstrip("/") + "/storage/v1/"


# -- upload sources ------------------------------------------------------------------------------


class _Source:
    """Where upload bytes come from: size known up front, any slice readable on demand.

    ``read`` returns a view that stays valid until the next ``read``: file sources read into one
    chunk-sized buffer, allocated once in the event loop's thread and reused for the whole
    upload, instead of allocating a fresh 6 MiB ``bytes`` per chunk.
    """

    size: int
    head: bytes

    async def read(self, offset: int, length: int) -> memoryview:
        raise NotImplementedError

    async def whole(self) -> bytes | Path:
        """The payload for a single-request upload (only used up to the resumable threshold)."""
        raise NotImplementedError

    async def md5(self) -> str:
        """The hex MD5 of the whole payload, read in 1 MiB slices."""
        digest = hashlib.md5(usedforsecurity=False)
        for offset in range(0, self.size, _HASH_SLICE_BYTES):
            digest.update(await self.read(offset, min(_HASH_SLICE_BYTES, self.size - offset)))
        return digest.hexdigest()

    def close(self) -> None:
        """Release what the source opened."""


class _BufferSource(_Source):
    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._data = data
        self._view = memoryview(data).cast("B")
        self.size = self._view.nbytes
        self.head = bytes(self._view[:SNIFF_BYTES])

    async def read(self, offset: int, length: int) -> memoryview:
        return self._view[offset : offset + length]

    async def whole(self) -> bytes:
        return self._data if isinstance(self._data, bytes) else bytes(self._view)

    def close(self) -> None:
        self._view.release()


class _FileSource(_Source):
    """A seekable binary file: from a path we open, or a file object the caller owns."""

    def __init__(self, handle: IO[bytes], *, path: Path | None) -> None:
        self._handle = handle
        self._path = path
        self._buffer: bytearray | None = None
        self._start = handle.tell()
        end = handle.seek(0, io.SEEK_END)
        self.size = end - self._start
        handle.seek(self._start)
        self.head = handle.read(SNIFF_BYTES)
        handle.seek(self._start)

    def _fill(self, view: memoryview, offset: int) -> int:
        """Read into ``view`` from ``offset`` (relative to the start); return the bytes read."""
        self._handle.seek(self._start + offset)
        filled = 0
        readinto = getattr(self._handle, "readinto", None)
        while filled < len(view):
            if readinto is not None:
                count = readinto(view[filled:])
            else:
                data = self._handle.read(len(view) - filled)
                count = len(data)
                view[filled : filled + count] = data
            if not count:
                break
            filled += count
        return filled

    async def read(self, offset: int, length: int) -> memoryview:
        if self._buffer is None or len(self._buffer) < length:
            self._buffer = bytearray(length)
        view = memoryview(self._buffer)[:length]
        filled = await asyncio.to_thread(self._fill, view, offset)
        if filled != length:
            raise ValidationError(
                f"the file changed while uploading: expected {length} bytes at offset {offset}, "
                f"read {filled}",
                code="file_changed",
            )
        return view

    async def whole(self) -> bytes | Path:
        return self._path if self._path is not None else bytes(await self.read(0, self.size))

    def close(self) -> None:
        self._buffer = None
        if self._path is not None:
            self._handle.close()


def _open_source(file_data: object) -> _Source:
    if isinstance(file_data, bytes | bytearray | memoryview):
        return _BufferSource(file_data)
    if isinstance(file_data, os.PathLike):
        path = Path(file_data)
        if not path.is_file():
            raise ValidationError(f"{path} is not a readable file", code="file_not_found")
        return _FileSource(path.open("rb"), path=path)
    if isinstance(file_data, str):
        raise ValidationError(
            "file_data is a str: pass bytes, a pathlib.Path or a binary file object",
            code="invalid_file_data",
        )
    read = getattr(file_data, "read", None)
    if callable(read):
        handle: Any = file_data
        if isinstance(file_data, io.TextIOBase) or "b" not in getattr(handle, "mode", "b"):
            raise ValidationError(
                "file objects must be opened in binary mode", code="invalid_file_data"
            )
        if not (hasattr(handle, "seekable") and handle.seekable()):
            raise ValidationError(
                "file objects must be seekable (their size is needed up front and a failed "
                "chunk is re-read); save the stream to a file first",
                code="invalid_file_data",
            )
        return _FileSource(handle, path=None)
    raise ValidationError(
        f"cannot upload a {type(file_data).__name__}: pass bytes, a Path or a binary file object",
        code="invalid_file_data",
    )


def _resolve_content_type(policy: BucketPolicy, path: str, head: bytes, given: str | None) -> str:
    detected = sniff_content_type(head)
    if given is None:
        if detected is None:
            raise ValidationError(
                f"{policy.name}/{path}: the content type cannot be detected from the file's "
                "bytes; pass content_type",
                code="unknown_content_type",
            )
        return policy.check_content_type(detected, path=path, source="detected")
    canonical = policy.check_content_type(given, path=path, source="given")
    if detected is not None and detected != canonical:
        raise ValidationError(
            f"{policy.name}/{path}: content type {canonical!r} was given but the bytes are "
            f"{detected!r}",
            code="content_type_mismatch",
            details={"given": canonical, "detected": detected},
        )
    return canonical


# -- the client ----------------------------------------------------------------------------------


@dataclass
class _Connection:
    http: httpx.AsyncClient
    api: AsyncStorageClient
    headers: dict[str, str]


class StorageClient(LazyClient[StorageOptions]):
    """Supabase Storage with bucket limits, typed errors, retries and streaming large files.

    Args:
        url: The Supabase project URL (``https://<ref>.supabase.co``).
        service_key: The service-role key.
        http_client: An ``httpx.AsyncClient`` to use (the caller keeps ownership; a response hook
            that drops connections after upload errors is added to it). When omitted one is built
            with :func:`runtime.http.new_http_client` and closed by :meth:`aclose`.
        buckets: The bucket allow-list (defaults to the PRD's four buckets).
        timeout_seconds: Read/write timeout per request (for the client built here).
        max_connections: Pool size (for the client built here).
        max_attempts: Tries per operation (or per upload chunk) on transient failures.
        retry_base_delay_seconds: Backoff before the first retry (doubling, jittered).
        retry_max_delay_seconds: Upper bound on one backoff delay.
        resumable_threshold_bytes: Files larger than this use the TUS endpoint.
        chunk_size_bytes: TUS chunk size (Supabase requires 6 MiB).
        cache_control_seconds: ``Cache-Control: max-age`` stored objects are served with.
        download_chunk_bytes: Chunk size when streaming a download.
        operation_deadline_seconds: Total time of one metadata operation, attempts included.

    Raises:
        ConfigError: A setting is missing or out of range.
    """

    def __init__(
        self,
        *,
        url: str,
        service_key: str | SecretStr,
        http_client: httpx.AsyncClient | None = None,
        buckets: Mapping[str, BucketPolicy] = DEFAULT_BUCKETS,
        timeout_seconds: float = 10.0,
        max_connections: int = 10,
        max_attempts: int = 3,
        retry_base_delay_seconds: float = 0.5,
        retry_max_delay_seconds: float = 8.0,
        resumable_threshold_bytes: int = DEFAULT_RESUMABLE_THRESHOLD_BYTES,
        chunk_size_bytes: int = TUS_CHUNK_SIZE_BYTES,
        cache_control_seconds: int = 3600,
        download_chunk_bytes: int = MIB,
        operation_deadline_seconds: float = 10.0,
    ) -> None:
        key = service_key if isinstance(service_key, SecretStr) else SecretStr(service_key)
        options = StorageOptions(
            url=url,
            service_key=key,
            buckets=buckets,
            timeout_seconds=timeout_seconds,
            max_connections=max_connections,
            max_attempts=max_attempts,
            retry_base_delay_seconds=retry_base_delay_seconds,
            retry_max_delay_seconds=retry_max_delay_seconds,
            resumable_threshold_bytes=resumable_threshold_bytes,
            chunk_size_bytes=chunk_size_bytes,
            cache_control_seconds=cache_control_seconds,
            download_chunk_bytes=download_chunk_bytes,
            operation_deadline_seconds=operation_deadline_seconds,
        )
        self._setup(options=options, factory=None, http_client=http_client)

    def _setup(
        self,
        *,
        options: StorageOptions | None,
        factory: Callable[[], StorageOptions] | None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super()._setup(options=options, factory=factory)
        self._injected = http_client
        self._connection: _Connection | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------

    def _conn(self) -> _Connection:
        if self._connection is None:
            if self._closed:
                raise StorageError(
                    "this StorageClient is closed; build a new one", code="storage_closed"
                )
            opts = self.options
            http = self._injected or new_http_client(
                max_connections=opts.max_connections, timeout_seconds=opts.timeout_seconds
            )
            hooks = http.event_hooks["response"]
            if drop_connection_after_upload_error not in hooks:
                hooks.append(drop_connection_after_upload_error)
            key = opts.service_key.get_secret_value()
            headers = {"apiKey": key, "Authorization": f"Bearer {key}"}
            api = AsyncStorageClient(url=opts.storage_url, headers=headers, http_client=http)
            self._connection = _Connection(http=http, api=api, headers=headers)
        return self._connection

    @property
    def api(self) -> AsyncStorageClient:
        """storage3's client, for operations this wrapper does not cover."""
        return self._conn().api

    async def aclose(self) -> None:
        """Close the HTTP client built here (an injected one is left open).

        A closed client refuses further calls, except a lazy one (the module-level
        :data:`storage`), which re-reads its settings and reconnects on next use.
        """
        connection, self._connection = self._connection, None
        if self._factory is not None:
            self._options = None
        else:
            self._closed = True
        if connection is not None and self._injected is None:
            await connection.http.aclose()

    # -- helpers ---------------------------------------------------------------------------

    def policy(self, bucket: str) -> BucketPolicy:
        """Return the policy of an allowed bucket.

        Args:
            bucket: The bucket id.

        Returns:
            Its size limit and content types.

        Raises:
            ValidationError: ``code="unknown_bucket"`` for a bucket outside the allow-list.
        """
        policy = self.options.buckets.get(bucket) if isinstance(bucket, str) else None
        if policy is None:
            allowed = ", ".join(sorted(self.options.buckets))
            raise ValidationError(
                f"bucket {bucket!r} is not allowed (allowed: {allowed})", code="unknown_bucket"
            )
        return policy

    def object_url(self, bucket: str, path: str) -> str:
        """Return the authenticated URL of an object (readable with the service key).

        Args:
            bucket: The bucket id.
            path: The object path.

        Returns:
            ``{supabase_url}/storage/v1/object/{bucket}/{path}`` with the path URL-encoded.
        """
        return f"{self.options.storage_url}object/{quote(bucket, safe='')}/{quote(path, safe='/')}"

    def _download_url(self, bucket: str, path: str) -> str:
        """``/object/authenticated/{bucket}/{path}``: an invalid key is 403 there.

        ``GET /object/{bucket}/{path}`` falls back to public access when the key is invalid or
        expired, and then answers 404 "Bucket not found" for a private bucket.
        """
        return (
            f"{self.options.storage_url}object/authenticated/"
            f"{quote(bucket, safe='')}/{quote(path, safe='/')}"
        )

    def _retrying(self) -> Callable[[Callable[[], Awaitable[T]]], Callable[[], Awaitable[T]]]:
        opts = self.options
        return retry_with_backoff(
            opts.max_attempts,
            opts.retry_base_delay_seconds,
            max_delay=opts.retry_max_delay_seconds,
            jitter=0.25,
        )

    async def _call(self, operation: Callable[[], Awaitable[T]], *, job_id: UUID | None) -> T:
        """Run an idempotent storage3 operation: errors translated, transient ones retried.

        Everything happens within ``operation_deadline_seconds``, so a frozen server cannot hold
        the caller longer.
        """
        budget = self.options.operation_deadline_seconds
        deadline = time.monotonic() + budget

        async def attempt() -> T:
            remaining = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(remaining, 0.0)):
                    return await operation()
            except TimeoutError as exc:
                raise ServiceUnavailableError(
                    f"Storage did not answer within the operation's deadline ({budget:g} s)",
                    job_id,
                    code="deadline_exceeded",
                    service="storage",
                    retryable=False,  # the budget is spent
                ) from exc
            except (StorageException, httpx.HTTPError) as exc:
                raise translate_exception(exc, service="storage", job_id=job_id) from exc
            except (pydantic.ValidationError, ValueError) as exc:
                # storage3 could not parse a success response: the server broke the protocol.
                raise StorageError(
                    f"Storage sent a response that could not be read: {exc}",
                    job_id,
                    code="storage_protocol_error",
                    service="storage",
                ) from exc

        opts = self.options
        retrying = retry_with_backoff(
            opts.max_attempts,
            opts.retry_base_delay_seconds,
            max_delay=opts.retry_max_delay_seconds,
            jitter=0.25,
            deadline_seconds=budget,
        )
        return await retrying(attempt)()

    # -- upload ----------------------------------------------------------------------------

    async def upload_file(
        self,
        bucket: str,
        path: str,
        file_data: FileData,
        content_type: str | None = None,
        *,
        upsert: bool = False,
        cache_control_seconds: int | None = None,
        job_id: UUID | None = None,
    ) -> str:
        """Store a file, in one request or, above the threshold, resumably in 6 MiB chunks.

        Args:
            bucket: One of the allowed buckets.
            path: Object path inside the bucket, e.g. ``"user_id/job_id/file.mp3"``.
            file_data: ``bytes``/``bytearray``/``memoryview``, a ``pathlib.Path``, or a seekable
                binary file object (read from its current position to its end; left open).
            content_type: The MIME type; detected from the bytes when omitted. Either way it must
                be allowed by the bucket and agree with the bytes when they are recognisable.
            upsert: Replace an existing object; when false an existing object is a conflict.
            cache_control_seconds: ``Cache-Control: max-age`` for the object (default 3600).
            job_id: The job the file belongs to, for errors and logs.

        Returns:
            The object's authenticated URL (see :meth:`object_url`); hand out
            :meth:`get_signed_url` links to browsers instead.

        Raises:
            ValidationError: Unknown bucket, bad path, empty or too large a file, a content type
                the bucket refuses or the bytes contradict, or unusable ``file_data``.
            ConflictError: The object exists and ``upsert`` is false (and, after a retry, it
                is not ours: see "Retries" in the module docstring); or, with
                ``code="overwritten_concurrently"``, a concurrent writer's object replaced ours
                while it was stored.
            PermissionDeniedError: The key may not write there.
            PayloadTooLargeError: Storage refused the size (its own limit is lower than ours).
            NotFoundError: The bucket does not exist on the server.
            ServiceUnavailableError: Storage stayed unreachable or failing after the retries.
            StorageError: Any other refusal; ``code="upload_outcome_unknown"`` when a retried
                upload without upsert found an object there that cannot be compared with ours.
        """
        policy = self.policy(bucket)
        validate_object_path(path)
        cache_seconds = (
            self.options.cache_control_seconds
            if cache_control_seconds is None
            else cache_control_seconds
        )
        source = _open_source(file_data)
        try:
            policy.check_size(source.size, path=path)
            resolved_type = _resolve_content_type(policy, path, source.head, content_type)
            resumable = source.size > self.options.resumable_threshold_bytes
            if resumable:
                await self._upload_resumable(
                    bucket, path, source, resolved_type, upsert, cache_seconds, job_id
                )
                verified = False
            else:
                verified = await self._upload_single(
                    bucket, path, source, resolved_type, upsert, cache_seconds, job_id
                )
            if not upsert and not verified:
                await self._check_not_overtaken(bucket, path, source, job_id)
        finally:
            source.close()
        _logger.info(
            "Stored %s/%s (%d bytes)",
            bucket,
            path,
            source.size,
            extra={
                "bucket": bucket,
                "path": path,
                "size_bytes": source.size,
                "content_type": resolved_type,
                "resumable": resumable,
                "upsert": upsert,
                "job_id": job_id,
            },
        )
        return self.object_url(bucket, path)

    async def _upload_single(
        self,
        bucket: str,
        path: str,
        source: _Source,
        content_type: str,
        upsert: bool,
        cache_seconds: int,
        job_id: UUID | None,
    ) -> bool:
        """Upload in one request; return whether the stored object was already checked as ours."""
        api = self._conn().api
        file_options: Any = {
            "content-type": content_type,
            "cache-control": str(cache_seconds),
            "upsert": "true" if upsert else "false",
        }

        # An earlier attempt failed without telling whether the object was stored (a 5xx, or a
        # timeout or broken connection after the request went out).
        outcome_unknown = False
        verified = False

        async def attempt() -> None:
            nonlocal outcome_unknown, verified
            payload = await source.whole()
            try:
                await api.from_(bucket).upload(path, payload, file_options)
            except (StorageException, httpx.HTTPError) as exc:
                error = translate_exception(exc, service="storage", job_id=job_id)
                if isinstance(error, ConflictError) and outcome_unknown:
                    verdict = await self._stored_is_ours(bucket, path, source, job_id)
                    if verdict is True:  # an earlier attempt stored it after all
                        verified = True
                        _logger.info(
                            "Upload of %s/%s found stored by an earlier attempt",
                            bucket,
                            path,
                            extra={"bucket": bucket, "path": path, "job_id": job_id},
                        )
                        return
                    if isinstance(verdict, str):
                        raise self._outcome_unknown(bucket, path, error, verdict) from exc
                if error.retryable and not upsert and not isinstance(exc, _NEVER_SENT):
                    outcome_unknown = True
                raise error from exc

        await self._retrying()(attempt)()
        return verified

    async def _check_not_overtaken(
        self, bucket: str, path: str, source: _Source, job_id: UUID | None
    ) -> None:
        """After an upload without upsert, make sure the stored object is still ours.

        Storage checks for an existing object before it takes the body and stores with an upsert
        at the end, so concurrent writers to one path can all be told "stored". Reading the
        object's info back (size, then MD5 ETag) catches a writer that replaced ours before this
        check; when it cannot be told (no plain MD5 ETag, as for resumable uploads on Supabase,
        or the info fails) the upload is reported as stored and a warning is logged.

        Raises:
            ConflictError: ``code="overwritten_concurrently"``: another writer's object is there.
        """
        verdict = await self._stored_is_ours(bucket, path, source, job_id)
        if verdict is False:
            raise ConflictError(
                f"{bucket}/{path} was replaced by another writer while this upload was stored "
                "(Storage checks for an existing object only before the upload); the stored "
                "object is not ours",
                job_id,
                code="overwritten_concurrently",
                details={"bucket": bucket, "path": path},
                service="storage",
            )
        if isinstance(verdict, str):
            _logger.log(
                # No plain MD5 ETag is normal for resumable uploads on Supabase (multipart).
                logging.DEBUG if verdict.startswith("its ETag") else logging.WARNING,
                "Stored %s/%s without upsert but could not check that no concurrent writer "
                "replaced it: %s",
                bucket,
                path,
                verdict,
                extra={"bucket": bucket, "path": path, "job_id": job_id},
            )

    async def _stored_is_ours(
        self, bucket: str, path: str, source: _Source, job_id: UUID | None
    ) -> bool | str:
        """Tell whether the object at ``bucket/path`` holds exactly ``source``'s bytes.

        Reads the object's info (``GET /object/info/{bucket}/{path}``): the same size and an MD5
        ETag equal to the MD5 of our bytes mean it does.

        Returns:
            ``True`` (ours), ``False`` (a different size or MD5: another writer's object), or
            why it cannot be told (the info failed or carries no plain MD5 ETag).
        """
        api = self._conn().api
        try:
            info = await self._call(lambda: api.from_(bucket).info(path), job_id=job_id)
        except PipelineError as exc:
            return f"reading its info failed ({exc.message})"
        size = info.get("size") if isinstance(info, dict) else None
        etag = info.get("etag") if isinstance(info, dict) else None
        if isinstance(size, int) and size != source.size:
            return False
        match = _MD5_ETAG.fullmatch(etag) if isinstance(etag, str) else None
        if match is None:
            return f"its ETag {etag!r} is not an MD5 to compare with"
        return match.group(1).lower() == await source.md5()

    @staticmethod
    def _outcome_unknown(bucket: str, path: str, conflict: ConflictError, why: str) -> StorageError:
        return StorageError(
            f"the upload of {bucket}/{path} was retried after a failure of unknown outcome and "
            f"found an object there ({conflict.message}), but whether it is ours cannot be told: "
            f"{why}; check the object, or upload with upsert=True",
            conflict.job_id,
            code="upload_outcome_unknown",
            service="storage",
            upstream_code=conflict.upstream_code,
        )

    async def _upload_resumable(
        self,
        bucket: str,
        path: str,
        source: _Source,
        content_type: str,
        upsert: bool,
        cache_seconds: int,
        job_id: UUID | None,
    ) -> None:
        connection = self._conn()
        opts = self.options
        upload = TusUpload(
            client=connection.http,
            endpoint=f"{opts.storage_url}upload/resumable",
            headers=connection.headers,
            bucket=bucket,
            object_name=path,
            content_type=content_type,
            size=source.size,
            read_chunk=source.read,
            upsert=upsert,
            cache_control_seconds=cache_seconds,
            chunk_size_bytes=opts.chunk_size_bytes,
            max_attempts=opts.max_attempts,
            retry_base_delay_seconds=opts.retry_base_delay_seconds,
            retry_max_delay_seconds=opts.retry_max_delay_seconds,
            job_id=job_id,
        )
        await upload.run()

    # -- download --------------------------------------------------------------------------

    async def _open(self, bucket: str, path: str, job_id: UUID | None) -> httpx.Response:
        """GET the object and return the streaming response once its status is a success."""
        connection = self._conn()
        request = connection.http.build_request(
            "GET", self._download_url(bucket, path), headers=connection.headers
        )
        try:
            response = await connection.http.send(request, stream=True)
            if response.status_code < 400:
                return response
            error = await read_error_response(response)
        except httpx.HTTPError as exc:
            raise translate_exception(exc, service="storage", job_id=job_id) from exc
        raise translate_exception(error, service="storage", job_id=job_id) from error

    async def download_file(
        self,
        bucket: str,
        path: str,
        *,
        max_bytes: int | None = None,
        job_id: UUID | None = None,
    ) -> bytes:
        """Return an object's bytes.

        Args:
            bucket: One of the allowed buckets.
            path: The object path.
            max_bytes: Refuse objects larger than this (default: the bucket's size limit); use
                :meth:`download_to_path` or :meth:`stream_file` for big files.
            job_id: The job, for errors and logs.

        Returns:
            The object's content.

        Raises:
            ValidationError: Unknown bucket, bad path, or the object is larger than ``max_bytes``.
            NotFoundError: No such object or bucket (or the key may not read it).
            PermissionDeniedError: The key is invalid or expired.
            ServiceUnavailableError: Storage stayed unreachable or failing after the retries.
            StorageError: Any other refusal.
        """
        limit = self.policy(bucket).max_size_bytes if max_bytes is None else max_bytes
        validate_object_path(path)

        async def attempt() -> bytes:
            response = await self._open(bucket, path, job_id)
            try:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise self._too_big(bucket, path, int(declared), limit)
                return await self._read_body(response, declared, bucket, path, limit)
            except httpx.HTTPError as exc:
                raise translate_exception(exc, service="storage", job_id=job_id) from exc
            finally:
                await response.aclose()

        return await self._retrying()(attempt)()

    async def _read_body(
        self, response: httpx.Response, declared: str, bucket: str, path: str, limit: int
    ) -> bytes:
        """Read the body into one buffer that becomes the returned ``bytes`` without a copy.

        ``BytesIO.getvalue()`` hands over its buffer when nothing else holds it, so the peak is
        about the object's size (not twice it, as a ``bytearray`` turned into ``bytes`` is).
        With a ``Content-Length`` the buffer is sized once up front.
        """
        buffer = io.BytesIO()
        if declared.isdigit() and int(declared) > 0:
            buffer.seek(int(declared) - 1)
            buffer.write(b"\0")  # one allocation of the declared size
            buffer.seek(0)
        received = 0
        async for chunk in response.aiter_bytes(self.options.download_chunk_bytes):
            received += len(chunk)
            if received > limit:
                raise self._too_big(bucket, path, received, limit)
            buffer.write(chunk)
        buffer.truncate(received)  # a body shorter than declared (httpx raises first, normally)
        return buffer.getvalue()

    @staticmethod
    def _too_big(bucket: str, path: str, size: int, limit: int) -> ValidationError:
        return ValidationError(
            f"{bucket}/{path} is at least {size} bytes, more than max_bytes={limit}; use "
            "download_to_path() or stream_file()",
            code="file_too_large",
            details={"size_bytes": size, "max_bytes": limit},
        )

    async def download_to_path(
        self,
        bucket: str,
        path: str,
        destination: os.PathLike[str],
        *,
        job_id: UUID | None = None,
    ) -> int:
        """Stream an object into a file without holding it in memory.

        The bytes go to a temporary file next to ``destination`` that replaces it only when the
        download is complete, so ``destination`` never holds a partial file. A download that
        fails half-way is retried from the start (transient failures only).

        Args:
            bucket: One of the allowed buckets.
            path: The object path.
            destination: The file to write (its folder must exist).
            job_id: The job, for errors and logs.

        Returns:
            The number of bytes written.

        Raises:
            ValidationError: Unknown bucket, bad path, or the destination folder is missing.
            NotFoundError: No such object or bucket (or the key may not read it).
            PermissionDeniedError: The key is invalid or expired.
            ServiceUnavailableError: Storage stayed unreachable or failing after the retries.
            StorageError: Any other refusal.
        """
        self.policy(bucket)
        validate_object_path(path)
        target = Path(destination)
        if not target.parent.is_dir():
            raise ValidationError(
                f"destination folder {target.parent} does not exist", code="invalid_destination"
            )
        partial = target.with_name(f".{target.name}.{uuid4().hex[:12]}.part")
        chunk_size = self.options.download_chunk_bytes

        async def attempt() -> int:
            response = await self._open(bucket, path, job_id)
            written = 0
            try:
                with partial.open("wb") as handle:
                    async for chunk in response.aiter_bytes(chunk_size):
                        await asyncio.to_thread(handle.write, chunk)
                        written += len(chunk)
            except httpx.HTTPError as exc:
                raise translate_exception(exc, service="storage", job_id=job_id) from exc
            finally:
                await response.aclose()
            return written

        try:
            written = await self._retrying()(attempt)()
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return written

    @asynccontextmanager
    async def stream_file(
        self,
        bucket: str,
        path: str,
        *,
        chunk_size_bytes: int | None = None,
        job_id: UUID | None = None,
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """Open an object for streaming: ``async with storage.stream_file(b, p) as chunks:``.

        Opening is retried on transient failures; a failure while iterating is raised (the
        caller has consumed part of the data) as the translated error.

        Args:
            bucket: One of the allowed buckets.
            path: The object path.
            chunk_size_bytes: Size of each chunk yielded (default ``download_chunk_bytes``).
            job_id: The job, for errors and logs.

        Yields:
            An async iterator of byte chunks.

        Raises:
            ValidationError: Unknown bucket or bad path.
            NotFoundError: No such object or bucket (or the key may not read it).
            ServiceUnavailableError: Storage stayed unreachable or failing.
            StorageError: Any other refusal.
        """
        self.policy(bucket)
        validate_object_path(path)
        size = chunk_size_bytes or self.options.download_chunk_bytes

        async def open_stream() -> httpx.Response:
            return await self._open(bucket, path, job_id)

        response = await self._retrying()(open_stream)()

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.aiter_bytes(size):
                    yield chunk
            except httpx.HTTPError as exc:
                raise translate_exception(exc, service="storage", job_id=job_id) from exc

        try:
            yield chunks()
        finally:
            await response.aclose()

    # -- signed URLs, delete, buckets ------------------------------------------------------

    async def get_signed_url(
        self,
        bucket: str,
        path: str,
        expires_in: int = 3600,
        *,
        download: bool | str = False,
        job_id: UUID | None = None,
    ) -> str:
        """Return a time-limited URL anyone can use to read an object.

        Args:
            bucket: One of the allowed buckets.
            path: The object path.
            expires_in: Seconds the URL stays valid (1 to 7 days). After that Storage answers
                HTTP 400 ``InvalidJWT`` ("exp" claim timestamp check failed).
            download: ``True`` (or a file name) to make browsers download instead of display.
            job_id: The job, for errors and logs.

        Returns:
            The absolute signed URL.

        Raises:
            ValidationError: Unknown bucket, bad path or ``expires_in`` out of range.
            NotFoundError: No such object or bucket.
            ServiceUnavailableError: Storage stayed unreachable or failing after the retries.
            StorageError: Any other refusal, or a response without a URL.
        """
        self.policy(bucket)
        validate_object_path(path)
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or not 1 <= expires_in <= MAX_SIGNED_URL_SECONDS
        ):
            raise ValidationError(
                f"expires_in must be whole seconds from 1 to {MAX_SIGNED_URL_SECONDS}, "
                f"got {expires_in!r}",
                code="invalid_expiry",
            )
        api = self._conn().api
        options: Any = {"download": download} if download else None
        result = await self._call(
            lambda: api.from_(bucket).create_signed_url(path, expires_in, options), job_id=job_id
        )
        url = result.get("signedURL") or result.get("signedUrl")
        if not url:  # pragma: no cover - storage3 already insists on a string
            raise StorageError(
                f"Storage returned no signed URL for {bucket}/{path}",
                job_id,
                code="storage_protocol_error",
                service="storage",
            )
        return str(url)

    async def delete_file(self, bucket: str, path: str, *, job_id: UUID | None = None) -> bool:
        """Delete an object; deleting a missing object is not an error.

        Args:
            bucket: One of the allowed buckets.
            path: The object path.
            job_id: The job, for errors and logs.

        Returns:
            ``True`` when an object was deleted, ``False`` when there was none (or the key may
            not see it).

        Raises:
            ValidationError: Unknown bucket or bad path.
            NotFoundError: The bucket does not exist.
            PermissionDeniedError: The key is invalid.
            ServiceUnavailableError: Storage stayed unreachable or failing after the retries.
            StorageError: Any other refusal.
        """
        self.policy(bucket)
        validate_object_path(path)
        api = self._conn().api
        removed = await self._call(lambda: api.from_(bucket).remove([path]), job_id=job_id)
        return bool(removed)

    async def ensure_buckets(self) -> dict[str, str]:
        """Create or update every allowed bucket on the server to match its policy.

        Buckets are private, with ``file_size_limit`` and ``allowed_mime_types`` from
        :mod:`runtime.storage_buckets`, so the server enforces the same limits as this client.

        Returns:
            ``{bucket: "created" | "updated"}``.

        Raises:
            PermissionDeniedError: The key may not manage buckets.
            ServiceUnavailableError: Storage stayed unreachable or failing after the retries.
            StorageError: Any other refusal.
        """
        api = self._conn().api
        outcome: dict[str, str] = {}
        for name, policy in sorted(self.options.buckets.items()):
            options: Any = {
                "public": policy.public,
                "file_size_limit": policy.max_size_bytes,
                "allowed_mime_types": sorted(policy.allowed_content_types),
            }
            try:
                await self._call(partial(api.create_bucket, name, options=options), job_id=None)
                outcome[name] = "created"
            except ConflictError:
                await self._call(partial(api.update_bucket, name, options), job_id=None)
                outcome[name] = "updated"
        return outcome


def _options_from_settings() -> StorageOptions:
    from runtime.config import get_settings

    settings = get_settings()
    return StorageOptions(
        url=settings.supabase_url,
        service_key=settings.supabase_service_key,
        timeout_seconds=settings.http_timeout_seconds,
    )


#: The process-wide storage client, configured from :mod:`runtime.config` on first use.
storage: StorageClient = StorageClient.lazy(_options_from_settings)


def get_storage() -> StorageClient:
    """Return the process-wide storage client (the same object as :data:`storage`).

    Returns:
        The lazy, settings-backed :class:`StorageClient`.
    """
    return storage
