"""The storage client: uploads and downloads (from their modules), signed URLs, deletes, buckets.

See :mod:`runtime.storage` for what it guarantees and how it is built.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Final
from uuid import UUID

from runtime.errors import ConflictError, StorageError, ValidationError
from runtime.storage._download import Downloads
from runtime.storage._upload import Uploads
from runtime.storage.buckets import DEFAULT_BUCKETS, validate_object_path

__all__ = ["MAX_SIGNED_URL_SECONDS", "StorageClient"]

#: Longest lifetime accepted for a signed URL (7 days).
MAX_SIGNED_URL_SECONDS: Final = 7 * 24 * 3600


class StorageClient(Uploads, Downloads):
    """Supabase Storage with bucket limits, typed errors, retries and streaming large files.

    The operations sit in layers, one module each: the shared base (options, connection,
    bucket policy, retries: :mod:`runtime.storage._base`), uploads
    (:mod:`runtime.storage._upload`), downloads (:mod:`runtime.storage._download`), and here
    signed URLs, deletes and bucket set-up.

    Args:
        options: The client's policy (:class:`~runtime.storage.StorageOptions`).
        http_client: An ``httpx.AsyncClient`` to use (the caller keeps ownership; a response hook
            that drops connections after upload errors is added to it). When omitted one is built
            with :func:`runtime._http.new_http_client` and closed by :meth:`aclose`.
    """

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
        :mod:`runtime.storage.buckets`, so the server enforces the same limits as this client.

        Returns:
            ``{bucket: "created" | "updated"}``.

        Raises:
            PermissionDeniedError: The key may not manage buckets.
            ServiceUnavailableError: Storage stayed unreachable or failing after the retries.
            StorageError: Any other refusal.
        """
        api = self._conn().api
        outcome: dict[str, str] = {}
        for name, policy in sorted(DEFAULT_BUCKETS.items()):
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
