"""Construction, lifecycle and the lazy module-level storage client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fake_storage_server import FakeStorage
from storage_mock import MP3, PROJECT_URL, SERVICE_KEY, make_settings

from runtime._bounds import (
    MAX_ATTEMPTS_CEILING,
    RETRY_DELAY_CEILING_SECONDS,
    TIMEOUT_CEILING_SECONDS,
)
from runtime.config import override_settings
from runtime.errors import ConfigError, StorageError
from runtime.storage import StorageClient, StorageOptions, storage
from runtime.storage._tus import drop_connection_after_upload_error

OPTIONS = StorageOptions(url=PROJECT_URL, service_key=SERVICE_KEY)


def test_importing_the_module_reads_no_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE", "REDIS"))}
    code = (
        "from runtime.errors import ConfigError\n"
        "from runtime.storage import storage\n"
        "try:\n"
        "    storage.options\n"
        "except ConfigError:\n"
        "    print('lazy')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "lazy"


async def test_from_settings_builds_a_client_from_the_settings_now(fake: FakeStorage) -> None:
    settings = make_settings(supabase_url=fake.url, supabase_service_key=fake.service_key)
    with override_settings(settings):
        client = StorageClient.from_settings()
    async with client:
        await client.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    assert client.options.url == fake.url
    assert fake.object_bytes("audio-uploads", "u/j/song.mp3") == MP3


async def test_the_module_client_is_configured_from_settings(fake: FakeStorage) -> None:
    settings = make_settings(supabase_url=fake.url, supabase_service_key=fake.service_key)
    try:
        with override_settings(settings):
            await storage.upload_file("audio-uploads", "u/j/song.mp3", MP3)
    finally:
        await storage.aclose()
    assert fake.object_bytes("audio-uploads", "u/j/song.mp3") == MP3


async def test_the_module_client_rereads_settings_after_aclose() -> None:
    try:
        with override_settings(make_settings(supabase_url="https://aaaaaaaaaaaa.supabase.co")):
            first = storage.object_url("video-clips", "a.mp4")
        await storage.aclose()
        with override_settings(make_settings(supabase_url="https://bbbbbbbbbbbb.supabase.co")):
            second = storage.object_url("video-clips", "a.mp4")
    finally:
        await storage.aclose()
    assert first.startswith("https://aaaaaaaaaaaa.supabase.co/storage/v1/object/")
    assert second.startswith("https://bbbbbbbbbbbb.supabase.co/storage/v1/object/")


async def test_aclose_closes_the_http_client_it_built() -> None:
    client = StorageClient(options=OPTIONS)
    http = client.api.session
    await client.aclose()
    assert http.is_closed


async def test_a_closed_client_refuses_calls() -> None:
    client = StorageClient(options=OPTIONS)
    await client.aclose()
    with pytest.raises(StorageError) as info:
        await client.upload_file("audio-uploads", "a.mp3", MP3)
    assert info.value.code == "storage_closed"


async def test_an_injected_http_client_is_left_open_and_hooked_once() -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            async with StorageClient(options=OPTIONS, http_client=http) as client:
                assert client.api.session is http
        assert not http.is_closed
        assert http.event_hooks["response"] == [drop_connection_after_upload_error]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "ftp://x"},
        {"service_key": ""},
        {"max_attempts": 0},
        {"timeout_seconds": 0},
        {"chunk_size_bytes": 1024},
        {"max_connections": True},
        {"buckets": {}},
        {"resumable_threshold_bytes": 1},
        {"timeout_seconds": TIMEOUT_CEILING_SECONDS + 1},
        {"retry_max_delay_seconds": RETRY_DELAY_CEILING_SECONDS + 1},
        {"retry_base_delay_seconds": 2, "retry_max_delay_seconds": 1},
        {"max_attempts": MAX_ATTEMPTS_CEILING + 1},
    ],
    ids=[
        "url",
        "key",
        "attempts",
        "timeout",
        "chunk",
        "bool",
        "buckets-unknown",
        "threshold-unknown",
        "timeout-ceiling",
        "delay-ceiling",
        "base-above-cap",
        "attempts-ceiling",
    ],
)
def test_out_of_range_options_are_config_errors(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"url": PROJECT_URL, "service_key": SERVICE_KEY, **kwargs}
    with pytest.raises(ConfigError):
        StorageOptions(**values)  # type: ignore[arg-type]


def test_options_default_once_and_accept_a_plain_key() -> None:
    assert OPTIONS.service_key.get_secret_value() == SERVICE_KEY
    assert OPTIONS.storage_url == f"{PROJECT_URL}/storage/v1/"
    assert (OPTIONS.max_attempts, OPTIONS.timeout_seconds) == (3, 10.0)
    with pytest.raises(ConfigError, match="invalid Storage options: max_attempts"):
        StorageOptions(url=PROJECT_URL, service_key=SERVICE_KEY, max_attempts=0)


def test_keyword_options_build_the_same_options_as_options() -> None:
    client = StorageClient(url=PROJECT_URL, service_key=SERVICE_KEY, max_attempts=5)
    assert client.options == StorageOptions(
        url=PROJECT_URL, service_key=SERVICE_KEY, max_attempts=5
    )


def test_options_and_keyword_options_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="either options= or keyword options"):
        StorageClient(options=OPTIONS, max_attempts=5)
