"""Where upload bytes come from (bytes, a path, a seekable file object) and their content type.

A source knows its size up front and reads any slice on demand, so a resumable upload holds one
chunk at a time and a failed chunk can be read again.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from pathlib import Path
from typing import IO, Any, Final

from runtime.content_types import SNIFF_BYTES, sniff_content_type
from runtime.errors import ValidationError
from runtime.storage.buckets import MIB, BucketPolicy

__all__ = ["FileData", "Source", "open_source", "resolve_content_type"]

#: What :meth:`StorageClient.upload_file` accepts: bytes-like data, a path, or a seekable binary
#: file object (read from its current position to its end).
FileData = bytes | bytearray | memoryview | os.PathLike[str] | IO[bytes]

_HASH_SLICE_BYTES: Final = MIB


class Source:
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


class _BufferSource(Source):
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


class _FileSource(Source):
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


def open_source(file_data: object) -> Source:
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


def resolve_content_type(policy: BucketPolicy, path: str, head: bytes, given: str | None) -> str:
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
