"""The bounds and defaults every client's options and the settings share, defined once.

Each client's pydantic options object validates its retry settings against these, so a delay or
an attempt count means the same thing for the database, the cache and storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from runtime.errors import ConfigError

if TYPE_CHECKING:
    import pydantic

__all__ = [
    "CACHE_KEY_PREFIX",
    "DECORATOR_MAX_ATTEMPTS",
    "DECORATOR_MAX_DELAY_SECONDS",
    "CACHE_MAX_TTL_SECONDS",
    "CACHE_TTL_SECONDS",
    "DB_MAX_CONNECTIONS",
    "HTTP_TIMEOUT_SECONDS",
    "MAX_ATTEMPTS_CEILING",
    "REDIS_MAX_CONNECTIONS",
    "REDIS_MAX_CONNECTIONS_CEILING",
    "REDIS_OPERATION_TIMEOUT_SECONDS",
    "REDIS_SOCKET_TIMEOUT_SECONDS",
    "RETRY_DELAY_CEILING_SECONDS",
    "TIMEOUT_CEILING_SECONDS",
    "options_error",
]

RETRY_DELAY_CEILING_SECONDS: Final = 60.0
"""The longest a single backoff delay (base or cap) may be set to, for every client."""

MAX_ATTEMPTS_CEILING: Final = 10
"""The most attempts any client's retry policy may be set to make."""

TIMEOUT_CEILING_SECONDS: Final = 300.0
"""The longest any single timeout or deadline option may be set to."""

DECORATOR_MAX_ATTEMPTS: Final = 20
DECORATOR_MAX_DELAY_SECONDS: Final = 3600.0
"""The wider ceilings of :func:`runtime.retry.retry_with_backoff`, which wraps a caller's own
operation (an AI provider's API waiting out its rate limit may back off for minutes), where the
client ceilings above bound our clients' per-call retries, which must fit a deadline of seconds."""

# -- defaults that both a client's options and runtime.config's settings give ------------------

HTTP_TIMEOUT_SECONDS: Final = 10.0
"""One HTTP request to Supabase (PostgREST, Storage): ``HTTP_TIMEOUT_SECONDS``."""

DB_MAX_CONNECTIONS: Final = 10
"""The default and the most connections a database client holds (``DB_POOL_MAX_CONNECTIONS``)."""

CACHE_KEY_PREFIX: Final = "videogen:cache:"
CACHE_TTL_SECONDS: Final = 3600
CACHE_MAX_TTL_SECONDS: Final = 30 * 24 * 3600
REDIS_MAX_CONNECTIONS: Final = 20
REDIS_MAX_CONNECTIONS_CEILING: Final = 1000
REDIS_SOCKET_TIMEOUT_SECONDS: Final = 1.0
REDIS_OPERATION_TIMEOUT_SECONDS: Final = 3.0


def options_error(what: str, exc: pydantic.ValidationError) -> ConfigError:
    """The ``ConfigError`` every client's options raise for pydantic's error, without the input.

    Each problem names the field and what is wrong; the given value is never repeated (it may be a
    URL with a password or a key), and pydantic's error, which keeps the raw input, is not
    chained: raise the result ``from None``.

    Args:
        what: The options named in the message (``"Redis cache options"``).
        exc: pydantic's validation error.

    Returns:
        The error to raise.
    """
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'options'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False, include_context=False)
    )
    return ConfigError(f"invalid {what}: {problems}")
