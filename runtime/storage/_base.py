"""What every storage operation stands on: options, the connection, bucket policy and retries.

:class:`StorageBase` is the part of :class:`~runtime.storage.StorageClient` that the upload
(:mod:`runtime.storage._upload`), download (:mod:`runtime.storage._download`) and metadata
(:mod:`runtime.storage._client`) operations share.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self, TypeVar
from urllib.parse import quote
from uuid import UUID

import httpx
import pydantic
from storage3 import AsyncStorageClient
from storage3.utils import StorageException

from runtime._http import new_http_client
from runtime._lifecycle import LazyClient, resolve_options
from runtime.error_mapping import translate_exception
from runtime.errors import ServiceUnavailableError, StorageError, ValidationError
from runtime.retry import retry_with_backoff
from runtime.storage._options import StorageOptions
from runtime.storage._tus import drop_connection_after_upload_error
from runtime.storage.buckets import DEFAULT_BUCKETS, BucketPolicy

__all__ = ["StorageBase"]

T = TypeVar("T")


@dataclass
class _Connection:
    http: httpx.AsyncClient
    api: AsyncStorageClient
    headers: dict[str, str]


class StorageBase(LazyClient[StorageOptions]):
    """The base every storage operation stands on (see :class:`runtime.storage.StorageClient`).

    Args:
        options: The client's policy (URL, key, timeouts, retries), whole; or give its fields as
            keywords (``StorageClient(url=..., service_key=..., max_attempts=5)``).
        http_client: An ``httpx.AsyncClient`` to use (the caller keeps ownership; a response hook
            that drops connections after upload errors is added to it). When omitted one is built
            with :func:`runtime._http.new_http_client` and closed by :meth:`aclose`.
        **fields: :class:`~runtime.storage.StorageOptions` fields, instead of ``options``.

    Raises:
        ConfigError: Both options and fields, or an invalid, unknown or missing field.
    """

    def __init__(
        self,
        *,
        options: StorageOptions | None = None,
        http_client: httpx.AsyncClient | None = None,
        **fields: Any,
    ) -> None:
        options = resolve_options(StorageOptions, options, fields, client=type(self).__name__)
        self._setup(options=options, factory=None, http_client=http_client)

    @classmethod
    def from_settings(cls, *, http_client: httpx.AsyncClient | None = None) -> Self:
        """Build a client from :mod:`runtime.config` now (the lazy ``storage`` does it later).

        Args:
            http_client: An ``httpx.AsyncClient`` to use instead of building one.

        Returns:
            A new client; ``async with`` it or call :meth:`aclose`.
        """
        return cls(options=StorageOptions.from_settings(), http_client=http_client)

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
        ``storage``), which re-reads its settings and reconnects on next use.
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
        policy = DEFAULT_BUCKETS.get(bucket) if isinstance(bucket, str) else None
        if policy is None:
            allowed = ", ".join(sorted(DEFAULT_BUCKETS))
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

    def _retrying(
        self, deadline_seconds: float | None = None
    ) -> Callable[[Callable[[], Awaitable[T]]], Callable[[], Awaitable[T]]]:
        opts = self.options
        return retry_with_backoff(
            opts.max_attempts,
            opts.retry_base_delay_seconds,
            max_delay=opts.retry_max_delay_seconds,
            jitter=0.25,
            deadline_seconds=deadline_seconds,
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

        return await self._retrying(budget)(attempt)()
