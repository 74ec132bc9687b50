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
:class:`StorageClient` with ``options=StorageOptions(...)`` (or :meth:`StorageClient.from_settings`,
and an injected ``httpx.AsyncClient`` if they like, the same way as the database client) and
``async with`` it::

    async with StorageClient(options=StorageOptions(url=url, service_key=key)) as client:
        ...

It sits on storage3's ``AsyncStorageClient``, built the way supabase-py builds it (URL
``{supabase_url}/storage/v1/``, ``apiKey`` and ``Authorization: Bearer`` headers with the service
key, which bypasses RLS), over an ``httpx.AsyncClient`` from :func:`runtime._http.new_http_client`.

Buckets and paths
    Only the PRD's four buckets are accepted, each with a size limit and content-type allow-list
    (see :mod:`runtime.storage.buckets`); paths are checked against Storage's key rules before
    any request. Content types are detected from the file's first bytes
    (:mod:`runtime.validation`); a given type must be allowed by the bucket and agree with
    the bytes when they are recognisable. ``upsert=False`` (the default) makes an object that
    exists when the upload starts a :class:`~runtime.errors.ConflictError`. Storage checks that
    only before it takes the body and stores with an upsert at the end, so concurrent writers to
    one path can all be told "stored"; after an upload without upsert the client reads the
    object's info back (size, MD5 ETag) and raises ``ConflictError(code=
    "overwritten_concurrently")`` when another writer's object replaced ours. A writer that
    stores after that read-back is not detected (only ``upsert=True`` or distinct paths avoid
    the race; see ``docs/storage.md``).

Large files
    Files up to :data:`RESUMABLE_THRESHOLD_BYTES` (6 MiB) go in one request through storage3
    (from a path it streams; bytes cost about three times their size in memory, which is why
    larger payloads never take that route). Larger files use Storage's resumable (TUS) endpoint
    in 6 MiB chunks read one at a time from the path, file object or buffer, resuming from the
    server's offset after a failed chunk (:mod:`runtime.storage._tus`); an upload that fails for
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
    check. Resumable uploads resume from the server's offset (:mod:`runtime.storage._tus`).
    After an upload error the connection is closed rather than reused (Storage leaves the
    rest of a rejected body unread, which would hang the next request on it).
"""

from __future__ import annotations

from runtime import _extras

if not _extras.installed("storage"):  # pragma: no cover - tested in a base install
    raise _extras.missing("storage", __name__)

from runtime.storage._client import MAX_SIGNED_URL_SECONDS, StorageClient
from runtime.storage._options import RESUMABLE_THRESHOLD_BYTES, StorageOptions
from runtime.storage._upload import FileData
from runtime.storage.buckets import (
    AUDIO_UPLOADS,
    DEFAULT_BUCKETS,
    REFERENCE_IMAGES,
    VIDEO_CLIPS,
    VIDEO_OUTPUTS,
    BucketPolicy,
)

__all__ = [
    "AUDIO_UPLOADS",
    "DEFAULT_BUCKETS",
    "MAX_SIGNED_URL_SECONDS",
    "REFERENCE_IMAGES",
    "RESUMABLE_THRESHOLD_BYTES",
    "VIDEO_CLIPS",
    "VIDEO_OUTPUTS",
    "BucketPolicy",
    "FileData",
    "StorageClient",
    "StorageOptions",
    "storage",
]

#: The process-wide storage client, configured from :mod:`runtime.config` on first use.
storage: StorageClient = StorageClient.lazy(StorageOptions.from_settings)
