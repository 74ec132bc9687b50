"""The one way this library builds an :class:`httpx.AsyncClient` for Supabase's HTTP gateways.

The database (PostgREST) and storage clients take an injected client so that tests and workers
control connections; when none is given they build one here, with a bounded pool and explicit
timeouts, and own (close) it.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("httpx") is None:  # pragma: no cover - tested in a base install
    raise ImportError(
        "runtime._http needs the [db] or [storage] extra of videogen-shared (missing: httpx): "
        "pip install 'videogen-shared[storage]'",
        name="httpx",
    )

import httpx

from runtime._bounds import HTTP_TIMEOUT_SECONDS
from runtime._lifecycle import check_bound

__all__ = ["DEFAULT_MAX_CONNECTIONS", "DEFAULT_TIMEOUT_SECONDS", "new_http_client"]

DEFAULT_MAX_CONNECTIONS = 10
DEFAULT_TIMEOUT_SECONDS = HTTP_TIMEOUT_SECONDS


def new_http_client(
    *,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    connect_timeout_seconds: float = 5.0,
    pool_timeout_seconds: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """Build an async HTTP client with a bounded pool and explicit timeouts.

    Args:
        max_connections: Upper bound on open connections (the PRD's pool of 10).
        timeout_seconds: Read and write timeout for one request.
        connect_timeout_seconds: Time allowed to open a connection.
        pool_timeout_seconds: Time a request waits for a free connection from the pool.
        transport: A transport to use instead of the network (``httpx.MockTransport`` in tests).

    Returns:
        A new client; the caller owns it and must ``await client.aclose()``.

    Raises:
        ConfigError: A bound is out of range (1 to 100 connections; timeouts above 0 and at
            most 600 seconds).
    """
    check_bound("max_connections", max_connections, low=1, high=100, whole=True)
    for name, seconds in (
        ("timeout_seconds", timeout_seconds),
        ("connect_timeout_seconds", connect_timeout_seconds),
        ("pool_timeout_seconds", pool_timeout_seconds),
    ):
        check_bound(name, seconds, low=0, high=600, above_low=True)
    return httpx.AsyncClient(
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
        ),
        timeout=httpx.Timeout(
            timeout_seconds,
            connect=connect_timeout_seconds,
            pool=pool_timeout_seconds,
        ),
        transport=transport,
        follow_redirects=False,
    )
