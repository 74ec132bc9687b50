"""The options of one storage client, validated once by pydantic (each default lives here).

A value out of range, of the wrong type or unknown raises :class:`~runtime.errors.ConfigError`
naming the field. The retry and timeout ceilings are the ones every client shares
(:mod:`runtime._bounds`).
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, SecretStr, field_validator

from runtime._bounds import (
    HTTP_TIMEOUT_SECONDS,
    MAX_ATTEMPTS_CEILING,
    RETRY_DELAY_CEILING_SECONDS,
    TIMEOUT_CEILING_SECONDS,
)
from runtime._options_model import OptionsModel
from runtime.storage._tus import TUS_CHUNK_SIZE_BYTES
from runtime.storage.buckets import MIB

__all__ = ["DOWNLOAD_CHUNK_BYTES", "RESUMABLE_THRESHOLD_BYTES", "StorageOptions"]

#: Files larger than this use the resumable (TUS) endpoint (Supabase's advice: above 6 MB).
RESUMABLE_THRESHOLD_BYTES: Final = 6 * MIB
#: Chunk size when reading a download (``stream_file`` may ask for another).
DOWNLOAD_CHUNK_BYTES: Final = MIB


class StorageOptions(OptionsModel):
    """The policy of one :class:`~runtime.storage.StorageClient`; every field is checked once.

    Attributes:
        url: The Supabase project URL (``https://<ref>.supabase.co``).
        service_key: The service-role key (bypasses RLS); a ``str`` is accepted.
        timeout_seconds: Read/write timeout per request of the HTTP client built by the client.
        max_connections: Connection pool size of the HTTP client built by the client (1-100).
        max_attempts: Tries per operation (or per upload chunk) on transient failures (1-10).
        retry_base_delay_seconds: Backoff before the first retry (doubling, jittered); never
            above ``retry_max_delay_seconds``.
        retry_max_delay_seconds: Upper bound on one backoff delay.
        chunk_size_bytes: TUS chunk size (Supabase requires 6 MiB).
        cache_control_seconds: ``Cache-Control: max-age`` stored objects are served with.
        operation_deadline_seconds: Total time of one metadata operation (signed URL, delete,
            object info, bucket set-up), attempts and backoff included; transfers are bounded per
            request by ``timeout_seconds`` and per chunk by ``max_attempts`` instead, since their
            length depends on the file.

    Raises:
        ConfigError: A value is missing, unknown, of the wrong type or out of range.
    """

    options_name = "Storage options"

    url: str
    service_key: SecretStr
    timeout_seconds: float = Field(HTTP_TIMEOUT_SECONDS, ge=0.1, le=TIMEOUT_CEILING_SECONDS)
    max_connections: int = Field(10, ge=1, le=100)
    max_attempts: int = Field(3, ge=1, le=MAX_ATTEMPTS_CEILING)
    retry_base_delay_seconds: float = Field(0.5, ge=0, le=RETRY_DELAY_CEILING_SECONDS)
    retry_max_delay_seconds: float = Field(8.0, ge=0.01, le=RETRY_DELAY_CEILING_SECONDS)
    chunk_size_bytes: int = Field(TUS_CHUNK_SIZE_BYTES, ge=64 * 1024, le=64 * MIB)
    cache_control_seconds: int = Field(3600, ge=0, le=365 * 24 * 3600)
    operation_deadline_seconds: float = Field(10.0, ge=0.1, le=TIMEOUT_CEILING_SECONDS)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be the project's http(s):// URL")
        return value

    @field_validator("service_key")
    @classmethod
    def _check_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("Storage needs the service key")
        return value

    @property
    def storage_url(self) -> str:
        """``{url}/storage/v1/`` (with the trailing slash storage3 wants)."""
        return self.url.rstrip("/") + "/storage/v1/"

    @classmethod
    def from_settings(cls) -> StorageOptions:
        """Build the options from :mod:`runtime.config`.

        Reads ``supabase_url``, ``supabase_service_key`` and ``http_timeout_seconds``.

        Returns:
            Options for the process-wide client.
        """
        from runtime.config import get_settings

        settings = get_settings()
        return cls(
            url=settings.supabase_url,
            service_key=settings.supabase_service_key,
            timeout_seconds=settings.http_timeout_seconds,
        )
