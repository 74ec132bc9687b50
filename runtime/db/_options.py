"""The options of both database clients, validated once by pydantic (each default lives here).

:class:`DatabaseOptions` configures the PostgREST path, :class:`PostgresOptions` the direct one.
Both are frozen, strict and refuse unknown fields; retry delays, attempt counts and timeouts share
the ceilings of :mod:`runtime._bounds` with every other client. A missing, mistyped or
out-of-range value raises :class:`~runtime.errors.ConfigError` naming the field (never echoing a
value, so a DSN's password stays out of the message).
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from runtime._bounds import (
    HTTP_TIMEOUT_SECONDS,
    MAX_ATTEMPTS_CEILING,
    RETRY_DELAY_CEILING_SECONDS,
)
from runtime._bounds import TIMEOUT_CEILING_SECONDS as _TIMEOUT
from runtime._options_model import OptionsModel
from runtime.db._common import MAX_CONNECTIONS
from runtime.errors import ConfigError

__all__ = ["DatabaseOptions", "PostgresOptions"]

_DELAY = RETRY_DELAY_CEILING_SECONDS


class DatabaseOptions(OptionsModel):
    """Connection and policy settings of the PostgREST client (``Database``).

    Args:
        url: The Supabase project URL (``https://<ref>.supabase.co``).
        service_key: The service-role key (bypasses row-level security; backend only).
        max_connections: Upper bound on open HTTP connections (1 to 10).
        timeout_seconds: Read/write timeout of one request.
        connect_timeout_seconds: Time allowed to open a connection.
        pool_timeout_seconds: Time a request waits for a free connection.
        max_attempts: Tries per request for retryable failures (1 to 10).
        retry_base_delay_seconds: Delay before the first retry; doubles for each further one.
        retry_max_delay_seconds: Upper bound on one delay.
        health_check_timeout_seconds: Time ``Database.health_check`` allows.
        call_deadline_seconds: Total time budget of one call, attempts and backoff included
            (default 5 s); once spent the call fails with ``ServiceUnavailableError``
            (``code="deadline_exceeded"``).

    Raises:
        ConfigError: A value is missing, of the wrong type or out of range.
    """

    url: str
    service_key: SecretStr
    max_connections: int = Field(MAX_CONNECTIONS, ge=1, le=MAX_CONNECTIONS)
    timeout_seconds: float = Field(HTTP_TIMEOUT_SECONDS, gt=0, le=_TIMEOUT)
    connect_timeout_seconds: float = Field(5.0, gt=0, le=_TIMEOUT)
    pool_timeout_seconds: float = Field(10.0, gt=0, le=_TIMEOUT)
    max_attempts: int = Field(3, ge=1, le=MAX_ATTEMPTS_CEILING)
    retry_base_delay_seconds: float = Field(0.5, ge=0, le=_DELAY)
    retry_max_delay_seconds: float = Field(5.0, gt=0, le=_DELAY)
    health_check_timeout_seconds: float = Field(2.0, gt=0, le=_TIMEOUT)
    call_deadline_seconds: float = Field(5.0, gt=0, le=_TIMEOUT)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("the database URL must be an http(s):// Supabase project URL")
        return value

    @field_validator("service_key")
    @classmethod
    def _check_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("the Supabase service key must not be empty")
        return value

    @classmethod
    def from_settings(cls) -> DatabaseOptions:
        """Read the PostgREST settings from :mod:`runtime.config`.

        ``SUPABASE_URL``, ``SUPABASE_SERVICE_KEY``, ``DB_POOL_MAX_CONNECTIONS`` and
        ``HTTP_TIMEOUT_SECONDS``.

        Returns:
            The options of the process-wide ``db``.

        Raises:
            ConfigError: The settings are missing or invalid.
        """
        from runtime.config import get_settings

        settings = get_settings()
        return cls(
            url=settings.supabase_url,
            service_key=settings.supabase_service_key,
            max_connections=settings.db_pool_max_connections,
            timeout_seconds=settings.http_timeout_seconds,
        )


class PostgresOptions(OptionsModel):
    """Connection and policy settings of the direct client (``PostgresDatabase``).

    Args:
        dsn: The connection string (``postgresql://user:password@host:5432/postgres``), direct
            or through a transaction-mode pooler (PgBouncer, Supavisor on port 6543): the client
            keeps no session state (no prepared statements, no session ``SET``), so both work
            with the same settings.
        max_connections: Upper bound on pooled connections (1 to 10).
        min_connections: Connections kept open while idle.
        connect_timeout_seconds: Time allowed to open one connection.
        pool_timeout_seconds: Most time one attempt waits for a free connection (never more
            than what is left of the call deadline).
        statement_timeout_seconds: Server-side limit per statement (``None``: the server's),
            sent as ``SET LOCAL`` with the statement and lowered to what is left of the call
            deadline.
        call_deadline_seconds: Total time budget of one call, every attempt, pool wait and
            backoff included (default 5 s). Once spent the call fails with
            ``ServiceUnavailableError`` (``code="deadline_exceeded"``).
        reconnect_max_delay_seconds: Longest wait between two connection attempts while the
            server is unreachable (default 0.25 s; psycopg_pool's own doubles without a cap).
        max_attempts: Tries per call for retryable failures (1 to 10).
        retry_base_delay_seconds: Delay before the first retry; doubles for each further one.
        retry_max_delay_seconds: Upper bound on one delay.
        health_check_timeout_seconds: Time ``PostgresDatabase.health_check`` allows.
        application_name: Shown in ``pg_stat_activity``.

    Raises:
        ConfigError: A value is missing, of the wrong type or out of range.
    """

    dsn: SecretStr
    max_connections: int = Field(MAX_CONNECTIONS, ge=1, le=MAX_CONNECTIONS)
    min_connections: int = Field(1, ge=0, le=MAX_CONNECTIONS)
    connect_timeout_seconds: float = Field(5.0, gt=0, le=_TIMEOUT)
    pool_timeout_seconds: float = Field(10.0, gt=0, le=_TIMEOUT)
    statement_timeout_seconds: float | None = Field(30.0, gt=0, le=_TIMEOUT)
    call_deadline_seconds: float = Field(5.0, gt=0, le=_TIMEOUT)
    reconnect_max_delay_seconds: float = Field(0.25, gt=0, le=_DELAY)
    max_attempts: int = Field(3, ge=1, le=MAX_ATTEMPTS_CEILING)
    retry_base_delay_seconds: float = Field(0.1, ge=0, le=_DELAY)
    retry_max_delay_seconds: float = Field(1.0, gt=0, le=_DELAY)
    health_check_timeout_seconds: float = Field(2.0, gt=0, le=_TIMEOUT)
    application_name: str = Field("videogen-runtime", max_length=63)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        dsn = self.dsn.get_secret_value()
        if not dsn.startswith(("postgresql://", "postgres://")) and "=" not in dsn:
            raise ValueError("DATABASE_URL must be a postgresql:// URL or a libpq key=value string")
        if self.min_connections > self.max_connections:
            raise ValueError("min_connections must not exceed max_connections")
        return self

    @classmethod
    def from_settings(cls) -> PostgresOptions:
        """Read ``DATABASE_URL`` and ``DB_POOL_MAX_CONNECTIONS`` from :mod:`runtime.config`.

        Returns:
            The options of the process-wide ``pg``.

        Raises:
            ConfigError: ``DATABASE_URL`` is not set, or a setting is invalid.
        """
        from runtime.config import get_settings

        settings = get_settings()
        if settings.database_url is None:
            raise ConfigError(
                "DATABASE_URL is not set; the direct PostgreSQL path needs it (Supabase: Project "
                "Settings > Database > Connection string)"
            )
        return cls(dsn=settings.database_url, max_connections=settings.db_pool_max_connections)
