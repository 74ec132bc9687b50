"""What ``import runtime.cache`` loads: its backend, not the database or storage stacks.

Each check runs in a fresh interpreter and looks at ``sys.modules`` (a behaviour, not a timing;
``benchmarks/bench_cache.py`` measures the time).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import runtime.cache
import runtime.redis_client

OTHER_BACKENDS = ("psycopg", "psycopg_pool", "postgrest", "supabase", "storage3", "httpx")
DEFERRED = ("pydantic", "pydantic_settings", "tenacity", "jsonschema", "runtime.config")


def loaded_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("module", ["runtime.cache", "runtime.redis_client"])
def test_importing_the_cache_loads_no_other_backend(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert "redis.asyncio" in loaded
    assert [name for name in OTHER_BACKENDS if name in loaded] == []


def test_pydantic_and_the_settings_load_on_first_use_not_on_import() -> None:
    assert [name for name in DEFERRED if name in loaded_after("import runtime.cache")] == []
    built = loaded_after(
        "from runtime.cache import RedisCache\nRedisCache(url='redis://127.0.0.1:6379/0')"
    )
    assert "pydantic" in built
    assert [name for name in OTHER_BACKENDS if name in built] == []


def test_the_old_module_name_re_exports_the_same_objects() -> None:
    assert runtime.redis_client.redis is runtime.cache.redis
    assert runtime.redis_client.RedisCache is runtime.cache.RedisCache
    assert runtime.redis_client.CacheOptions is runtime.cache.CacheOptions
    assert set(runtime.redis_client.__all__) == set(runtime.cache.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = runtime.cache.no_such_name  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = runtime.redis_client.no_such_name  # type: ignore[attr-defined]
