"""Downloads from ``/object/authenticated/{bucket}/{path}``: whole, to a path, or streamed.

That endpoint answers 403 for an invalid or expired key (``/object/{bucket}/{path}`` falls back
to public access and answers 404 "Bucket not found" instead). :meth:`Downloads.download_file`
holds the object once (about its size plus a few MiB); :meth:`Downloads.download_to_path` and
:meth:`Downloads.stream_file` read it in bounded chunks.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID, uuid4

import httpx

from runtime.error_mapping import translate_exception
from runtime.errors import ValidationError
from runtime.storage._base import StorageBase
from runtime.storage._options import DOWNLOAD_CHUNK_BYTES
from runtime.storage._tus import read_error_response
from runtime.storage.buckets import validate_object_path

__all__ = ["Downloads"]


class Downloads(StorageBase):
    """The download operations of :class:`~runtime.storage.StorageClient`."""

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
        async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK_BYTES):
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
        chunk_size = DOWNLOAD_CHUNK_BYTES

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
            chunk_size_bytes: Size of each chunk yielded (default 1 MiB).
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
        size = chunk_size_bytes or DOWNLOAD_CHUNK_BYTES

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
