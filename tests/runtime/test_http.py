"""new_http_client: the bounded, explicitly timed httpx client the Supabase clients share."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from runtime._http import new_http_client
from runtime.errors import ConfigError


async def test_the_client_has_the_bounded_pool_and_timeouts_asked_for() -> None:
    client = new_http_client(
        max_connections=7, timeout_seconds=3, connect_timeout_seconds=2, pool_timeout_seconds=4
    )
    async with client:
        pool = client._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 7
        assert client.timeout == httpx.Timeout(3, connect=2, pool=4)
        assert client.follow_redirects is False


async def test_an_injected_transport_answers_the_requests() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    async with new_http_client(transport=transport) as client:
        assert (await client.get("https://project.supabase.co/rest/v1/")).status_code == 204


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_connections": 0}, "max_connections"),
        ({"max_connections": 101}, "max_connections"),
        ({"max_connections": 2.5}, "max_connections"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"connect_timeout_seconds": -1}, "connect_timeout_seconds"),
        ({"pool_timeout_seconds": 601}, "pool_timeout_seconds"),
    ],
)
def test_out_of_range_bounds_are_refused(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        new_http_client(**kwargs)
