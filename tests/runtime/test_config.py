"""Settings: sources and precedence, validation that names every problem, secrecy, laziness."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runtime.config import (
    Settings,
    clear_settings_cache,
    env_files_for,
    get_settings,
    override_settings,
    settings,
)
from runtime.errors import ConfigError
from runtime.logging import REDACTED, redact

REQUIRED = (
    "SUPABASE_URL",
    "SUPABASE_SERVICE_KEY",
    "SUPABASE_ANON_KEY",
    "REDIS_URL",
    "OPENAI_API_KEY",
    "REPLICATE_API_TOKEN",
    "JWT_SECRET_KEY",
)


def build(values: dict[str, Any], **changes: Any) -> Settings:
    return Settings(_env_file=None, **{**values, **changes})


def problems(error: ConfigError) -> dict[str, str]:
    return {p["variable"]: p["problem"] for p in error.details["problems"]}


def write_env(path: Path, values: dict[str, Any]) -> None:
    path.write_text("".join(f"{k.upper()}={v}\n" for k, v in values.items()), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Typed access and defaults
# ---------------------------------------------------------------------------------------------


def test_valid_values_give_typed_settings_with_defaults(settings_values: dict[str, Any]) -> None:
    s = build(settings_values)
    assert s.supabase_url == "https://abcdefghijklmnop.supabase.co"
    assert s.openai_api_key.get_secret_value() == settings_values["openai_api_key"]
    assert s.environment == "development"
    assert s.log_level == "INFO"
    assert s.job_budget_limit == Decimal("20.00")
    assert s.cache_ttl_seconds == 3600
    assert s.cache_key_prefix == "videogen:cache:"
    assert s.db_pool_max_connections == 10
    assert s.http_timeout_seconds == 10.0
    assert s.redis_max_connections == 20
    assert s.redis_socket_timeout_seconds == 1.0
    assert s.redis_operation_timeout_seconds == 3.0
    assert s.database_url is None
    assert s.log_file is None


def test_tunables_are_read_from_the_environment(
    clean_env: Path, settings_values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in settings_values.items():
        monkeypatch.setenv(key.upper(), value)
    monkeypatch.setenv("JOB_BUDGET_LIMIT", "25.50")
    monkeypatch.setenv("CACHE_TTL_SECONDS", "120")
    monkeypatch.setenv("LOG_FILE", "/var/log/videogen/w.log")
    s = Settings()
    assert s.job_budget_limit == Decimal("25.50")
    assert s.cache_ttl_seconds == 120
    assert s.log_file == Path("/var/log/videogen/w.log")


def test_trailing_slash_is_removed_from_supabase_url(settings_values: dict[str, Any]) -> None:
    assert build(settings_values, supabase_url="https://x.supabase.co/").supabase_url == (
        "https://x.supabase.co"
    )


def test_environment_and_log_level_are_case_insensitive(settings_values: dict[str, Any]) -> None:
    s = build(settings_values, environment="Staging", log_level="debug")
    assert (s.environment, s.log_level) == ("staging", "DEBUG")


def test_settings_are_immutable(settings_values: dict[str, Any]) -> None:
    s = build(settings_values)
    with pytest.raises(Exception, match="frozen"):
        s.redis_url = "redis://other:6379"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Missing and invalid values
# ---------------------------------------------------------------------------------------------


def test_missing_configuration_names_every_required_variable_at_once(clean_env: Path) -> None:
    with pytest.raises(ConfigError) as info:
        Settings()
    assert problems(info.value) == dict.fromkeys(REQUIRED, "missing")
    for name in REQUIRED:
        assert name in str(info.value)
    assert "expected the project URL, e.g. https://" in str(info.value)


def test_missing_and_invalid_variables_are_reported_together(
    settings_values: dict[str, Any],
) -> None:
    del settings_values["redis_url"]
    with pytest.raises(ConfigError) as info:
        build(settings_values, openai_api_key="not-a-key-at-all-xxxxxxxx", cache_ttl_seconds=0)
    assert set(problems(info.value)) == {"REDIS_URL", "OPENAI_API_KEY", "CACHE_TTL_SECONDS"}
    assert problems(info.value)["REDIS_URL"] == "missing"
    assert problems(info.value)["OPENAI_API_KEY"].startswith("invalid: must start with sk-")


def test_error_never_contains_the_secret_value(settings_values: dict[str, Any]) -> None:
    leaked = "totally-secret-value-1234567890"
    with pytest.raises(ConfigError) as info:
        build(
            settings_values,
            openai_api_key=leaked,
            replicate_api_token=leaked,
            supabase_service_key=leaked,
            jwt_secret_key="short",
        )
    error = info.value
    everything = "\n".join(
        [str(error), repr(error), str(error.to_dict()), str(error.__cause__), repr(error.__cause__)]
    )
    assert leaked not in everything
    assert "input_value" not in everything
    assert "short" not in str(error).replace("too short", "")


def test_error_does_not_chain_pydantics_error_which_keeps_raw_inputs(
    settings_values: dict[str, Any],
) -> None:
    with pytest.raises(ConfigError) as info:
        build(settings_values, openai_api_key="totally-secret-value-1234567890")
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_redis_password_is_masked_in_repr_and_str(settings_values: dict[str, Any]) -> None:
    s = build(settings_values, redis_url="redis://:hunter2secretpw@10.0.0.5:6379/0")
    assert "hunter2secretpw" not in repr(s)
    assert "hunter2secretpw" not in str(s)
    assert "redis://:**********@10.0.0.5:6379/0" in repr(s)
    assert s.redis_url == "redis://:hunter2secretpw@10.0.0.5:6379/0"


def test_redis_password_is_redacted_from_logs(settings_values: dict[str, Any]) -> None:
    build(settings_values, redis_url="redis://default:another-redis-pw@10.0.0.5/0")
    assert redact("auth failed for another-redis-pw") == f"auth failed for {REDACTED}"


def test_global_settings_secrets_stay_redacted_after_many_other_settings(
    clean_env: Path, settings_values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    live = "live-jwt-secret-value-that-must-stay-hidden"
    for key, value in {**settings_values, "jwt_secret_key": live}.items():
        monkeypatch.setenv(key.upper(), value)
    get_settings()
    for index in range(300):
        build(settings_values, jwt_secret_key=f"throwaway-jwt-secret-number-{index:04d}")
    assert redact(f"token {live}") == f"token {REDACTED}"


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("supabase_url", "ftp://x.supabase.co", "https://"),
        ("supabase_url", "http://x.supabase.co", "https://"),
        ("supabase_url", "https://x.supabase.co/rest/v1", "without a path"),
        ("supabase_url", "https://x.supabase.co?x=1", "without a path"),
        ("supabase_url", "not a url", "https://"),
        ("redis_url", "http://localhost:6379", "redis://"),
        ("redis_url", "redis://", "host"),
        ("redis_url", "redis://host:notaport", "port"),
        ("openai_api_key", "pk-AbCdEfGhIjKlMnOpQrSt", "sk-"),
        ("openai_api_key", "sk-short", "sk-"),
        ("openai_api_key", "sk-AbCdEfGh IjKlMnOpQrSt", "without spaces"),
        ("replicate_api_token", "AbCdEfGhIjKlMnOpQrStUv", "r8_"),
        ("replicate_api_token", "r8_abc", "r8_"),
        ("jwt_secret_key", "fifteen-chars!!", "16"),
        ("supabase_service_key", "plainly-not-a-key-value", "not a JWT"),
        ("supabase_service_key", "sb_publishable_AbCdEfGhIjKlMn", "wrong kind"),
        ("supabase_service_key", "sb_secret_short", "too short"),
        ("supabase_anon_key", "sb_secret_AbCdEfGhIjKlMnOpQr", "wrong kind"),
        ("environment", "prod", "development, staging, production"),
        ("log_level", "TRACE", "DEBUG, INFO, WARNING, ERROR"),
        ("database_url", "mysql://u:p@h/db", "postgresql://"),
        ("job_budget_limit", "-1", "0"),
        ("job_budget_limit", "twenty", "decimal"),
        ("db_pool_max_connections", "0", "1"),
        ("http_timeout_seconds", "0", "0"),
        ("cache_key_prefix", "videogen", "':'"),
    ],
)
def test_invalid_value_is_named_with_what_is_expected(
    settings_values: dict[str, Any], field: str, value: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as info:
        build(settings_values, **{field: value})
    found = problems(info.value)
    assert list(found) == [field.upper()]
    assert fragment.lower() in (found[field.upper()] + str(info.value)).lower()


def test_service_key_with_anon_role_is_refused(
    settings_values: dict[str, Any], jwt_factory: Any
) -> None:
    with pytest.raises(ConfigError, match="role 'anon'; expected role 'service_role'"):
        build(settings_values, supabase_service_key=jwt_factory({"role": "anon"}))


def test_anon_key_with_service_role_is_refused(
    settings_values: dict[str, Any], jwt_factory: Any
) -> None:
    with pytest.raises(ConfigError, match="SUPABASE_ANON_KEY"):
        build(settings_values, supabase_anon_key=jwt_factory({"role": "service_role"}))


def test_new_style_supabase_keys_are_accepted(settings_values: dict[str, Any]) -> None:
    s = build(
        settings_values,
        supabase_service_key="sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz",
        supabase_anon_key="sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH",
    )
    assert s.supabase_service_key.get_secret_value().startswith("sb_secret_")


def test_http_supabase_url_is_accepted_for_localhost_in_development(
    settings_values: dict[str, Any],
) -> None:
    assert build(settings_values, supabase_url="http://127.0.0.1:54321").supabase_url == (
        "http://127.0.0.1:54321"
    )


# ---------------------------------------------------------------------------------------------
# Production rules
# ---------------------------------------------------------------------------------------------


def production(values: dict[str, Any], **changes: Any) -> Settings:
    return build(values, environment="production", **changes)


def test_valid_production_settings_are_accepted(settings_values: dict[str, Any]) -> None:
    s = production(settings_values, redis_url="rediss://default:pw@cache.example.com:6380/0")
    assert s.environment == "production"


def test_production_refuses_http_even_for_localhost(settings_values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="SUPABASE_URL"):
        production(settings_values, supabase_url="http://localhost:54321")


def test_production_refuses_plain_redis_to_a_public_host(settings_values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="rediss://"):
        production(settings_values, redis_url="redis://cache.example.com:6379/0")


@pytest.mark.parametrize(
    "url", ["redis://redis:6379/0", "redis://10.0.3.7:6379", "redis://127.0.0.1:6379"]
)
def test_production_accepts_plain_redis_inside_the_private_network(
    settings_values: dict[str, Any], url: str
) -> None:
    assert production(settings_values, redis_url=url).redis_url == url


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("redis+cluster://10.0.0.1:7000,10.0.0.2:7000", True),
        ("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/svc/0", True),
        ("redis+sentinel://10.0.0.1:26379", False),  # no service name
        ("redis+cluster://10.0.0.1:7000,cache.example.com:7000", False),  # public node, no TLS
    ],
)
def test_production_checks_every_node_of_a_cluster_or_sentinel_url(
    settings_values: dict[str, Any], url: str, ok: bool
) -> None:
    if ok:
        assert production(settings_values, redis_url=url).redis_url == url
    else:
        with pytest.raises(ConfigError, match="REDIS_URL"):
            production(settings_values, redis_url=url)


@pytest.mark.parametrize("key", ["eyJ!!.eyJ!!.sig", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig"])
def test_a_jwt_shaped_key_that_does_not_decode_is_refused(
    settings_values: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match="SUPABASE_ANON_KEY"):
        build(settings_values, supabase_anon_key=key)


def test_production_needs_a_32_character_jwt_secret(settings_values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="at least 32 characters"):
        production(settings_values, jwt_secret_key="x7" * 10)


def test_production_refuses_a_jwt_secret_of_spaces(settings_values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="spaces aside"):
        production(settings_values, jwt_secret_key=" " * 40)


def test_production_refuses_a_supabase_jwt_without_a_role_claim(
    settings_values: dict[str, Any], jwt_factory: Any
) -> None:
    with pytest.raises(ConfigError, match="no role claim"):
        production(settings_values, supabase_service_key=jwt_factory({"iss": "supabase"}))


def test_development_accepts_a_supabase_jwt_without_a_role_claim(
    settings_values: dict[str, Any], jwt_factory: Any
) -> None:
    key = jwt_factory({"iss": "supabase"})
    assert build(settings_values, supabase_service_key=key).supabase_service_key.get_secret_value()


def test_production_refuses_placeholder_secrets(settings_values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as info:
        production(
            settings_values,
            openai_api_key="sk-replace-with-your-openai-key-example",
            jwt_secret_key="changeme-changeme-changeme-changeme",
        )
    assert set(problems(info.value)) == {"OPENAI_API_KEY", "JWT_SECRET_KEY"}
    assert "placeholder" in str(info.value)


def test_production_refuses_database_url_without_tls(settings_values: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="sslmode=disable"):
        production(
            settings_values, database_url="postgresql://u:p@db.internal/postgres?sslmode=disable"
        )


def test_development_accepts_database_url_without_tls(settings_values: dict[str, Any]) -> None:
    s = build(settings_values, database_url="postgresql://u:p@localhost/postgres?sslmode=disable")
    assert s.database_url is not None


# ---------------------------------------------------------------------------------------------
# Sources and precedence
# ---------------------------------------------------------------------------------------------


def test_dotenv_file_is_read(clean_env: Path, settings_values: dict[str, Any]) -> None:
    write_env(clean_env / ".env", settings_values)
    assert Settings().redis_url == settings_values["redis_url"]


def test_environment_variable_wins_over_dotenv(
    clean_env: Path, settings_values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(clean_env / ".env", settings_values)
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/1")
    assert Settings().redis_url == "redis://from-env:6379/1"


def test_keyword_argument_wins_over_environment(
    clean_env: Path, settings_values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/1")
    assert Settings(**settings_values).redis_url == settings_values["redis_url"]


def test_environment_file_from_dotenv_overrides_dotenv(
    clean_env: Path, settings_values: dict[str, Any]
) -> None:
    write_env(clean_env / ".env", {**settings_values, "environment": "staging"})
    write_env(clean_env / ".env.staging", {"redis_url": "redis://staging-cache:6379/0"})
    write_env(clean_env / ".env.production", {"redis_url": "redis://wrong:6379/0"})
    s = Settings()
    assert (s.environment, s.redis_url) == ("staging", "redis://staging-cache:6379/0")


def test_environment_variable_selects_the_environment_file(
    clean_env: Path, settings_values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(clean_env / ".env", settings_values)
    write_env(clean_env / ".env.production", {"log_level": "WARNING"})
    monkeypatch.setenv("ENVIRONMENT", "production")
    s = Settings()
    assert (s.environment, s.log_level) == ("production", "WARNING")


def test_environment_variable_wins_over_environment_file(
    clean_env: Path, settings_values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(clean_env / ".env", settings_values)
    write_env(clean_env / ".env.development", {"log_level": "ERROR"})
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert Settings().log_level == "DEBUG"


def test_env_file_none_reads_no_file(clean_env: Path, settings_values: dict[str, Any]) -> None:
    write_env(clean_env / ".env", settings_values)
    with pytest.raises(ConfigError):
        Settings(_env_file=None)


def test_env_files_for_layers_the_environment_file(tmp_path: Path) -> None:
    assert env_files_for(tmp_path, environment="staging") == (
        tmp_path / ".env",
        tmp_path / ".env.staging",
    )


def test_env_files_for_ignores_an_unknown_environment(tmp_path: Path) -> None:
    assert env_files_for(tmp_path, environment="../../etc/passwd") == (tmp_path / ".env",)


def test_env_files_for_defaults_to_development(clean_env: Path) -> None:
    assert env_files_for(clean_env)[-1] == clean_env / ".env.development"


# ---------------------------------------------------------------------------------------------
# Secrecy
# ---------------------------------------------------------------------------------------------


def test_secrets_never_show_in_repr_str_or_json(settings_values: dict[str, Any]) -> None:
    s = build(settings_values)
    rendered = repr(s) + str(s) + s.model_dump_json()
    for name in ("supabase_service_key", "openai_api_key", "replicate_api_token", "jwt_secret_key"):
        assert settings_values[name] not in rendered


def test_secret_values_are_registered_for_log_redaction(
    settings_values: dict[str, Any],
) -> None:
    settings_values["jwt_secret_key"] = "an unshaped secret phrase 0042"
    build(settings_values)
    assert redact("x an unshaped secret phrase 0042 y") == f"x {REDACTED} y"


# ---------------------------------------------------------------------------------------------
# The lazy global and overrides
# ---------------------------------------------------------------------------------------------


def test_importing_config_reads_nothing_and_fails_only_on_access(clean_env: Path) -> None:
    script = (
        "import runtime.config as c\n"
        "from runtime.errors import ConfigError\n"
        "print('imported', c._cached is None)\n"
        "try:\n"
        "    c.settings.redis_url\n"
        "except ConfigError as e:\n"
        "    print('error', 'REDIS_URL' in str(e))\n"
    )
    env = {k: v for k, v in os.environ.items() if k.upper() not in REQUIRED}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=clean_env,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == ["imported", "True", "error", "True"]


def test_settings_proxy_builds_once_from_the_environment(
    clean_env: Path, settings_values: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in settings_values.items():
        monkeypatch.setenv(key.upper(), value)
    assert settings.redis_url == settings_values["redis_url"]
    assert get_settings() is get_settings()
    monkeypatch.setenv("REDIS_URL", "redis://changed:6379/0")
    assert settings.redis_url == settings_values["redis_url"]  # cached
    clear_settings_cache()
    assert settings.redis_url == "redis://changed:6379/0"


def test_settings_proxy_raises_config_error_when_invalid(clean_env: Path) -> None:
    with pytest.raises(ConfigError, match="SUPABASE_URL"):
        _ = settings.supabase_url


def test_override_settings_applies_inside_the_block_only(
    clean_env: Path, settings_values: dict[str, Any]
) -> None:
    custom = build(settings_values, cache_ttl_seconds=5)
    with override_settings(custom) as active:
        assert active is custom
        assert settings.cache_ttl_seconds == 5
        assert get_settings() is custom
    with pytest.raises(ConfigError):
        get_settings()


async def test_override_settings_is_local_to_each_task(settings_values: dict[str, Any]) -> None:
    async def ttl_with(seconds: int) -> int:
        with override_settings(build(settings_values, cache_ttl_seconds=seconds)):
            await asyncio.sleep(0)
            return settings.cache_ttl_seconds

    assert await asyncio.gather(ttl_with(1), ttl_with(2), ttl_with(3)) == [1, 2, 3]


def test_override_settings_refuses_other_objects() -> None:
    with pytest.raises(TypeError, match="Settings"), override_settings({"redis_url": "x"}):  # type: ignore[arg-type]
        pass  # pragma: no cover


def test_settings_proxy_is_read_only_and_lists_fields() -> None:
    with pytest.raises(AttributeError, match="read-only"):
        settings.redis_url = "redis://x"  # type: ignore[misc]
    assert "supabase_url" in dir(settings)
    assert repr(settings) == "<lazy runtime.config.settings>"


def test_settings_proxy_reads_the_active_settings_which_get_settings_returns(
    settings_values: dict[str, Any],
) -> None:
    custom = build(settings_values, cache_ttl_seconds=9)
    with override_settings(custom):
        assert isinstance(get_settings(), Settings)
        assert settings.model_dump() == custom.model_dump()
        assert settings.secret_values() == custom.secret_values()
    assert not isinstance(settings, Settings)  # a plain proxy: no __class__ trick


def test_override_settings_with_the_proxy_pins_the_current_settings(
    clean_env: Path, settings_values: dict[str, Any]
) -> None:
    custom = build(settings_values, cache_ttl_seconds=7)
    with override_settings(custom), override_settings(settings) as pinned:
        assert pinned is custom
        assert settings.cache_ttl_seconds == 7


def test_a_cluster_url_is_checked_without_the_cache_extra(settings_values: dict[str, Any]) -> None:
    script = (
        "import sys\n"
        "sys.modules['redis'] = None  # as if the [cache] extra were not installed\n"
        "from runtime.config import Settings\n"
        "values = dict(sys.argv[1:][i:i + 2] for i in range(0, len(sys.argv) - 1, 2))\n"
        "settings = Settings(_env_file=None, **values)\n"
        "print(settings.redis_url)\n"
    )
    values = {**settings_values, "redis_url": "redis+cluster://10.0.0.1:7000,10.0.0.2:7000"}
    argv = [str(item) for pair in values.items() for item in pair]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == values["redis_url"]


def test_each_settings_default_is_the_client_options_default() -> None:
    from runtime.cache import CacheOptions
    from runtime.db import DatabaseOptions, PostgresOptions
    from runtime.storage import StorageOptions

    pairs = [
        ("cache_ttl_seconds", CacheOptions, "default_ttl_seconds"),
        ("cache_key_prefix", CacheOptions, "key_prefix"),
        ("redis_max_connections", CacheOptions, "max_connections"),
        ("redis_socket_timeout_seconds", CacheOptions, "socket_timeout_seconds"),
        ("redis_operation_timeout_seconds", CacheOptions, "operation_timeout_seconds"),
        ("db_pool_max_connections", DatabaseOptions, "max_connections"),
        ("db_pool_max_connections", PostgresOptions, "max_connections"),
        ("http_timeout_seconds", DatabaseOptions, "timeout_seconds"),
        ("http_timeout_seconds", StorageOptions, "timeout_seconds"),
    ]
    differing = [
        (setting, options.__name__, field)
        for setting, options, field in pairs
        if Settings.model_fields[setting].default != options.model_fields[field].default
    ]
    assert differing == []
