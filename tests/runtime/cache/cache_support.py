"""Helpers shared by the Redis cache tests."""

from __future__ import annotations

import os
import socket

from redis.asyncio import Redis

from runtime.config import Settings

REDIS_URL = os.environ.get("VIDEOGEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def delete_prefix(url: str, prefix: str) -> None:
    """Remove every key under ``prefix`` (never FLUSHALL: the server is shared)."""
    raw = Redis.from_url(url)
    try:
        keys = [key async for key in raw.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await raw.delete(*keys)
    finally:
        await raw.aclose()


def free_port() -> int:
    """Return a local TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable_url() -> str:
    """A Redis URL on a local port where nothing listens (connection refused at once)."""
    return f"redis://127.0.0.1:{free_port()}/0"


def make_settings(**overrides: object) -> Settings:
    """Valid settings for tests, read from nothing but these values."""
    values: dict[str, object] = {
        "supabase_url": "https://abcdefghijkl.supabase.co",
        "supabase_service_key": "sb_secret_" + "s" * 32,
        "supabase_anon_key": "sb_publishable_" + "p" * 32,
        "redis_url": REDIS_URL,
        "openai_api_key": "sk-" + "o" * 32,
        "replicate_api_token": "r8_" + "r" * 32,
        "jwt_secret_key": "j" * 40,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)
