"""Uploads: one request through storage3 up to 6 MiB, resumable (TUS) above, checked afterwards.

The bytes come from a source (bytes, a path, a seekable file object) that knows its size up front
and reads any slice on demand, so a resumable upload holds one chunk at a time and a failed chunk
can be read again.

``upsert=False`` makes an object that exists when the upload starts a
:class:`~runtime.errors.ConflictError`. Storage checks that only before it takes the body and
stores with an upsert at the end, so after an upload without upsert the stored object's info
(size, MD5 ETag) is read back to catch a concurrent writer that replaced ours; a single-request
upload retried after a failure of unknown outcome uses the same read-back to tell whether an
earlier attempt stored it (see "Retries" in :mod:`runtime.storage`).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import re
from pathlib import Path
from typing import IO, Any, Final
from uuid import UUID

import httpx
from storage3.utils import StorageException

from runtime.error_mapping import translate_exception
from runtime.errors import ConflictError, PipelineError, StorageError, ValidationError
from runtime.logging import get_logger
from runtime.storage._base import StorageBase
from runtime.storage._options import RESUMABLE_THRESHOLD_BYTES
from runtime.storage._tus import TusUpload
from runtime.storage.buckets import MIB, BucketPolicy, validate_object_path
from runtime.validation import SNIFF_BYTES, sniff_content_type

__all__ = ["FileData", "Uploads"]

#: What :meth:`StorageClient.upload_file` accepts: bytes-like data, a path, or a seekable binary
#: file object (read from its current position to its end).
FileData = bytes | bytearray | memoryview | os.PathLike[str] | IO[bytes]

_logger = get_logger("runtime.storage")
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# A plain MD5 ETag (what Storage reports for an object stored in one piece), quotes optional.
_MD5_ETAG: Final = re.compile(r'(?:W/)?"?([0-9a-fA-F]{32})"?')
_HASH_SLICE_BYTES: Final = MIB

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


# -- the upload operations -----------------------------------------------------------------


class Uploads(StorageBase):
    """The upload operations of :class:`~runtime.storage.StorageClient`."""

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
                is not ours: see "Retries" in :mod:`runtime.storage`); or, with
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
            resumable = source.size > RESUMABLE_THRESHOLD_BYTES
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
            retrying=self._retrying(),
            job_id=job_id,
        )
        await upload.run()
