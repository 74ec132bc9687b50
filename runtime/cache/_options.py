"""The options of one Redis cache client, validated once by pydantic (each default lives here).

:class:`CacheOptions` holds every bound of a :class:`runtime.cache.RedisCache`, including
the one time budget that every operation runs under (``operation_timeout_seconds``). A value out
of range or of the wrong type raises :class:`~runtime.errors.ConfigError` naming the field.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from runtime._bounds import (
    MAX_ATTEMPTS_CEILING,
    REDIS_MAX_CONNECTIONS,
    REDIS_MAX_CONNECTIONS_CEILING,
    REDIS_SOCKET_TIMEOUT_SECONDS,
    RETRY_DELAY_CEILING_SECONDS,
    TIMEOUT_CEILING_SECONDS,
)
from runtime._options_model import OptionsModel
from runtime._redis_urls import SCHEMES, parse_nodes
from runtime.cache._values import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_OPERATION_TIMEOUT_SECONDS,
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
)

__all__ = ["CacheOptions", "parse_nodes"]

_Seconds = Annotated[float, Field(gt=0, le=TIMEOUT_CEILING_SECONDS)]
_Delay = Annotated[float, Field(gt=0, le=RETRY_DELAY_CEILING_SECONDS)]


class CacheOptions(OptionsModel):
    """The policy of one :class:`~runtime.cache.RedisCache`; every field is checked once.

    Attributes:
        url: Where Redis is; the scheme picks the topology: ``redis://``, ``rediss://`` or
            ``unix://`` (one server, database number included), ``redis+cluster://`` (a
            cluster) or ``redis+sentinel://.../service`` (Sentinel); see ``docs/cache.md``.
        key_prefix: Namespace put in front of every key (non-empty, UTF-8 encodable).
        default_ttl_seconds: Expiry used when a write gives none (1 s to 30 days).
        operation_timeout_seconds: The total time budget of one cache operation, every attempt,
            backoff, pool wait and read-back included (see ``docs/cache.md``). When it is spent
            the operation gives up: reads report a miss, writes raise ``ServiceUnavailableError``.
        max_connections: Size of the connection pool (1 to 1000).
        pool_timeout_seconds: How long a command may wait for a free pooled connection; ``None``
            (the default) means the operation budget.
        socket_timeout_seconds: Read/write timeout of one attempt on the socket.
        connect_timeout_seconds: Time allowed to open a connection.
        max_attempts: Tries per command on connection errors and timeouts (1 to 10), all within
            the operation budget.
        retry_base_delay_seconds: Backoff base between those tries (jittered, doubling).
        retry_max_delay_seconds: Upper bound on one backoff delay.
        max_value_bytes: Largest value accepted by the write methods.
        health_check_timeout_seconds: Time ``health_check`` allows for ``PING``.
    """

    options_name = "Redis cache options"

    url: str
    key_prefix: str = DEFAULT_KEY_PREFIX
    default_ttl_seconds: int = Field(default=DEFAULT_TTL_SECONDS, ge=1, le=MAX_TTL_SECONDS)
    operation_timeout_seconds: _Seconds = DEFAULT_OPERATION_TIMEOUT_SECONDS
    max_connections: int = Field(
        default=REDIS_MAX_CONNECTIONS, ge=1, le=REDIS_MAX_CONNECTIONS_CEILING
    )
    pool_timeout_seconds: _Seconds | None = None
    socket_timeout_seconds: _Seconds = REDIS_SOCKET_TIMEOUT_SECONDS
    connect_timeout_seconds: _Seconds = 1.0
    max_attempts: int = Field(default=3, ge=1, le=MAX_ATTEMPTS_CEILING)
    retry_base_delay_seconds: _Delay = 0.05
    retry_max_delay_seconds: _Delay = 1.0
    max_value_bytes: int = Field(default=16 * 1024 * 1024, ge=1, le=512 * 1024 * 1024)
    health_check_timeout_seconds: _Seconds = 2.0

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(SCHEMES):
            raise ValueError(
                "must start with redis://, rediss://, unix://, redis+cluster://, "
                "rediss+cluster://, redis+sentinel:// or rediss+sentinel://"
            )
        if "+cluster://" in value or "+sentinel://" in value:
            _, _, _, path = parse_nodes(value)
            if "+sentinel://" in value and not path.split("/")[0]:
                raise ValueError("a Sentinel URL must end with /service_name (and /db)")
        return value

    @field_validator("key_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not value:
            raise ValueError("must be a non-empty string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be encodable as UTF-8") from None
        return value

    @property
    def pool_wait_seconds(self) -> float:
        """How long a command waits for a free connection (the budget unless set lower)."""
        return self.pool_timeout_seconds or self.operation_timeout_seconds

    @classmethod
    def from_settings(cls) -> CacheOptions:
        """Build the options from :mod:`runtime.config` (``REDIS_URL`` and the cache settings).

        Returns:
            Options for the process-wide cache.
        """
        from runtime.config import get_settings

        settings = get_settings()
        return cls(
            url=settings.redis_url,
            key_prefix=settings.cache_key_prefix,
            default_ttl_seconds=settings.cache_ttl_seconds,
            max_connections=settings.redis_max_connections,
            socket_timeout_seconds=settings.redis_socket_timeout_seconds,
            operation_timeout_seconds=settings.redis_operation_timeout_seconds,
        )
