"""Fixtures for runtime tests: retries never sleep; valid settings values; a clean environment."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.config import Settings, clear_settings_cache
from runtime.testing import set_testing

SETTINGS_ENV_VARS = tuple(name.upper() for name in Settings.model_fields)


def make_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped token (unsigned test signature) carrying ``claims``."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.dGVzdC1zaWduYXR1cmUtYnl0ZXM"


def valid_values() -> dict[str, Any]:
    """Keyword arguments for a valid development ``Settings``."""
    return {
        "supabase_url": "https://abcdefghijklmnop.supabase.co",
        "supabase_service_key": make_jwt({"iss": "supabase", "role": "service_role"}),
        "supabase_anon_key": make_jwt({"iss": "supabase", "role": "anon"}),
        "redis_url": "redis://127.0.0.1:6379/0",
        "openai_api_key": "sk-proj-T3stK3yAbCdEfGhIjKlMnOp",
        "replicate_api_token": "r8_T3stT0k3nAbCdEfGhIjKlMnOpQrStUvWx",
        "jwt_secret_key": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c",
    }


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """Run each test in testing mode (retry delays are computed and logged but not slept)."""
    with set_testing(True):
        yield


@pytest.fixture
def settings_values() -> dict[str, Any]:
    """A fresh dict of valid settings values, to modify per test."""
    return valid_values()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No settings variables in the environment, an empty working directory, no cached settings.

    Yields the working directory, where a test may write ``.env`` files.
    """
    for name in SETTINGS_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    clear_settings_cache()
    yield tmp_path
    clear_settings_cache()


@pytest.fixture
def jwt_factory() -> Any:
    """``make_jwt``: build a JWT-shaped token carrying the given claims."""
    return make_jwt
