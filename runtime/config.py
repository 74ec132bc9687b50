"""Typed, validated configuration from environment variables and ``.env`` files.

Usage::

    from runtime.config import settings

    settings.supabase_url                       # "https://abcd.supabase.co"
    settings.openai_api_key.get_secret_value()  # secrets are SecretStr

``settings`` is a small lazy proxy: importing this module reads nothing; each attribute access
reads :func:`get_settings`, which builds :class:`Settings` once (call it at start-up to fail
fast, or when you need the :class:`Settings` object itself). Tests build their own
``Settings(...)`` and install it with :func:`override_settings`.

Sources, highest priority first: keyword arguments to ``Settings(...)``; real environment
variables (the field names in upper case: ``SUPABASE_URL``...); ``.env.<environment>``
(development, staging or production, from the ``environment`` argument, ``ENVIRONMENT`` or
``.env``); ``.env``; defaults. Files are looked up in the current directory (``_env_file=``
chooses others, ``None`` reads none).

Validation collects every problem into one :class:`~runtime.errors.ConfigError` naming each
missing or invalid variable and what a valid value looks like (``_EXPECTED``), never the value.
In every environment: ``SUPABASE_URL`` is a bare ``https://`` URL (``http://`` for localhost
outside production); ``REDIS_URL`` is ``redis://``/``rediss://`` (or ``+cluster``/``+sentinel``)
with a host; the Supabase keys are JWTs of the right ``role`` or ``sb_secret_``/
``sb_publishable_`` keys; ``OPENAI_API_KEY`` starts with ``sk-``, ``REPLICATE_API_TOKEN`` with
``r8_``; ``JWT_SECRET_KEY`` has 16 characters. Production also requires ``https://``, TLS to
Redis (``rediss://``) unless every host is internal (loopback, private address, single-label
name), no ``sslmode=disable`` in ``DATABASE_URL``, a 32-character JWT secret, role claims in
Supabase JWTs and no placeholder secret (``changeme``, ``example``, ``placeholder``, ``xxxx``).

Every secret value is registered with :func:`runtime.logging.register_secret`, so it is redacted
from log lines.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.sources import ENV_FILE_SENTINEL, DotenvType

from runtime import _bounds as _b
from runtime import _config_checks as checks
from runtime.errors import ConfigError

__all__ = [
    "ENVIRONMENTS",
    "Environment",
    "LogLevel",
    "Settings",
    "clear_settings_cache",
    "env_files_for",
    "get_settings",
    "override_settings",
    "settings",
]

Environment = Literal["development", "staging", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
ENVIRONMENTS: Final[tuple[str, ...]] = get_args(Environment)

_SUPABASE_KEYS: Final = {  # field: (the JWT role, the prefix of the new-style key)
    "supabase_service_key": ("service_role", "sb_secret_"),
    "supabase_anon_key": ("anon", "sb_publishable_"),
}

# What a valid value looks like, shown next to each problem.
_EXPECTED: Final[dict[str, str]] = {
    "supabase_url": "the project URL, e.g. https://abcdefghijkl.supabase.co",
    "supabase_service_key": "the service_role JWT (eyJ...) or a secret key (sb_secret_...)",
    "supabase_anon_key": "the anon JWT (eyJ...) or a publishable key (sb_publishable_...)",
    "redis_url": "redis://[:password@]host:6379/0, rediss://... for TLS (docs/cache.md: cluster)",
    "openai_api_key": "an OpenAI key starting with sk-",
    "replicate_api_token": "a Replicate token starting with r8_",
    "jwt_secret_key": "a random string of at least 32 characters",
    "environment": "one of development, staging, production",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "database_url": "postgresql://user:password@host:5432/dbname (optional)",
    "job_budget_limit": "a dollar amount above 0 and at most 10000, e.g. 20.00",
    "cache_ttl_seconds": "whole seconds from 1 to 2592000 (30 days)",
    "cache_key_prefix": "a non-empty prefix ending in ':', e.g. videogen:cache:",
    "db_pool_max_connections": "an integer from 1 to 10",
    "http_timeout_seconds": "seconds above 0 and at most 300",
    "redis_max_connections": "an integer from 1 to 1000",
    "redis_socket_timeout_seconds": "seconds above 0 and at most 300",
    "redis_operation_timeout_seconds": "seconds above 0 and at most 300 (whole cache call)",
    "log_file": "a file path, e.g. /var/log/videogen/worker.log (optional)",
}


def _production(info: ValidationInfo) -> bool:
    return info.data.get("environment") == "production"


class Settings(BaseSettings):
    """Every configuration value of the pipeline, validated; secrets are :class:`SecretStr`.

    Args:
        _env_file: ``.env`` files to read (later files win); ``None`` reads none; by default
            ``.env`` and ``.env.<environment>`` in the current directory (see the module docs).
        **values: Field values that win over every other source.

    Raises:
        ConfigError: One or more variables are missing or invalid; the message lists them all.
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        frozen=True,
        hide_input_in_errors=True,
        validate_default=True,
    )

    # ``environment`` comes first so that the other validators can see it.
    environment: Environment = "development"
    supabase_url: str
    supabase_service_key: SecretStr
    supabase_anon_key: SecretStr
    redis_url: str
    openai_api_key: SecretStr
    replicate_api_token: SecretStr
    jwt_secret_key: SecretStr
    log_level: LogLevel = "INFO"

    database_url: SecretStr | None = None
    job_budget_limit: Decimal = Field(default=Decimal("20.00"), gt=0, le=10000, decimal_places=4)
    cache_ttl_seconds: int = Field(default=_b.CACHE_TTL_SECONDS, ge=1, le=_b.CACHE_MAX_TTL_SECONDS)
    cache_key_prefix: str = _b.CACHE_KEY_PREFIX
    db_pool_max_connections: int = Field(
        default=_b.DB_MAX_CONNECTIONS, ge=1, le=_b.DB_MAX_CONNECTIONS
    )
    http_timeout_seconds: float = Field(
        default=_b.HTTP_TIMEOUT_SECONDS, gt=0, le=_b.TIMEOUT_CEILING_SECONDS
    )
    redis_max_connections: int = Field(
        default=_b.REDIS_MAX_CONNECTIONS, ge=1, le=_b.REDIS_MAX_CONNECTIONS_CEILING
    )
    redis_socket_timeout_seconds: float = Field(
        default=_b.REDIS_SOCKET_TIMEOUT_SECONDS, gt=0, le=_b.TIMEOUT_CEILING_SECONDS
    )
    redis_operation_timeout_seconds: float = Field(
        default=_b.REDIS_OPERATION_TIMEOUT_SECONDS, gt=0, le=_b.TIMEOUT_CEILING_SECONDS
    )
    log_file: Path | None = None

    def __init__(self, _env_file: DotenvType | None = ENV_FILE_SENTINEL, **values: Any) -> None:
        if _env_file is ENV_FILE_SENTINEL:
            _env_file = env_files_for(Path.cwd(), environment=values.get("environment"))
        try:
            super().__init__(_env_file=_env_file, **values)
        except PydanticValidationError as exc:
            # ``from None``: pydantic's error keeps every raw input (secrets included) in
            # ``.errors()``; ``details["problems"]`` carries all a caller needs.
            problems = _problems(exc)
            raise ConfigError(_describe(problems), details={"problems": problems}) from None

    def model_post_init(self, context: Any, /) -> None:
        """Register every secret value for log redaction.

        Args:
            context: Pydantic's validation context (unused).
        """
        from runtime._redaction import register_secret

        for value in self.secret_values():
            register_secret(value)

    def secret_values(self) -> list[str]:
        """The secret texts these settings hold: every ``SecretStr`` and the Redis password.

        Returns:
            The values, for redaction.
        """
        values = [
            value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr)
        ]
        password = urlsplit(self.redis_url).password
        if password:
            values.append(password)
        return values

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Pydantic's repr arguments, with the Redis password masked.

        ``REDIS_URL`` stays a plain string, as the PRD has it, but may carry a password.
        """
        for name, value in super().__repr_args__():
            yield name, checks.mask_url_password(value) if name == "redis_url" else value

    @field_validator("environment", mode="before")
    @classmethod
    def _normalise_environment(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _normalise_log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("supabase_url")
    @classmethod
    def _check_supabase_url(cls, value: str, info: ValidationInfo) -> str:
        return checks.check_supabase_url(value.strip(), production=_production(info))

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str, info: ValidationInfo) -> str:
        return checks.check_redis_url(value.strip(), production=_production(info))

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            text = value.get_secret_value().strip()
            checks.check_database_url(text, production=_production(info))
        return value

    @field_validator("supabase_service_key", "supabase_anon_key")
    @classmethod
    def _check_supabase_keys(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        role, new_prefix = _SUPABASE_KEYS[str(info.field_name)]
        text = value.get_secret_value().strip()
        production = _production(info)
        checks.check_supabase_key(text, role=role, new_prefix=new_prefix, production=production)
        checks.check_not_placeholder(text, production=production)
        return SecretStr(text)

    @field_validator("openai_api_key")
    @classmethod
    def _check_openai_key(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        text = value.get_secret_value().strip()
        if not text.startswith("sk-") or len(text) < 20 or any(c.isspace() for c in text):
            raise ValueError("must start with sk- and be at least 20 characters without spaces")
        checks.check_not_placeholder(text, production=_production(info))
        return SecretStr(text)

    @field_validator("replicate_api_token")
    @classmethod
    def _check_replicate_token(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        text = value.get_secret_value().strip()
        if not text.startswith("r8_") or len(text) < 20 or not text[3:].isalnum():
            raise ValueError("must start with r8_ followed by at least 17 letters or digits")
        checks.check_not_placeholder(text, production=_production(info))
        return SecretStr(text)

    @field_validator("jwt_secret_key")
    @classmethod
    def _check_jwt_secret(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        text = value.get_secret_value()
        minimum = 32 if _production(info) else 16
        if len(text.strip()) < minimum:
            raise ValueError(f"must be at least {minimum} characters long, spaces aside")
        checks.check_not_placeholder(text, production=_production(info))
        return value

    @field_validator("cache_key_prefix")
    @classmethod
    def _check_cache_prefix(cls, value: str) -> str:
        if not value or not value.endswith(":") or any(c.isspace() for c in value):
            raise ValueError("must be non-empty, end with ':' and contain no spaces")
        return value


def env_files_for(directory: Path, *, environment: str | None = None) -> tuple[Path, ...]:
    """Return the ``.env`` files to read from ``directory``, lowest priority first.

    Args:
        directory: Where the files live.
        environment: The environment; ``None`` takes ``ENVIRONMENT`` from the process
            environment, then from ``directory/.env``, then ``development``.

    Returns:
        ``(.env, .env.<environment>)``, or just ``(.env,)`` when the environment is not one of
        the known names (the invalid value is then reported by validation).
    """
    base = directory / ".env"
    name = environment or os.environ.get("ENVIRONMENT")
    if name is None and base.is_file():
        from dotenv import dotenv_values

        name = dotenv_values(base).get("ENVIRONMENT")
    name = (name or "development").strip().lower()
    if name not in ENVIRONMENTS:
        return (base,)
    return (base, directory / f".env.{name}")


def _problems(exc: PydanticValidationError) -> list[dict[str, str]]:
    """Describe each error by variable, problem and expectation; never the input value."""
    problems: list[dict[str, str]] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        problem = "missing" if error["type"] == "missing" else f"invalid: {message}"
        expected = _EXPECTED.get(field, "see runtime.config")
        problems.append({"variable": field.upper(), "problem": problem, "expected": expected})
    return problems


def _describe(problems: list[dict[str, str]]) -> str:
    lines = [
        f"Invalid configuration ({len(problems)} problem{'s' if len(problems) != 1 else ''}); "
        "set these environment variables or .env entries:"
    ]
    lines += [f"  {p['variable']}: {p['problem']} (expected {p['expected']})" for p in problems]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The process-wide settings
# ---------------------------------------------------------------------------------------------

_lock = threading.Lock()
_cached: Settings | None = None
_override: ContextVar[Settings | None] = ContextVar("videogen_settings_override", default=None)


def get_settings() -> Settings:
    """Return the active settings: an override if one is installed, else the cached global.

    The global is built on the first call from the environment and ``.env`` files.

    Returns:
        The settings.

    Raises:
        ConfigError: The configuration is missing or invalid (raised again on the next call).
    """
    override = _override.get()
    if override is not None:
        return override
    global _cached
    if _cached is None:
        with _lock:
            if _cached is None:
                from runtime._redaction import register_secret

                built = Settings()
                for value in built.secret_values():  # the process's own secrets stay redacted
                    register_secret(value, pinned=True)
                _cached = built
    return _cached


def clear_settings_cache() -> None:
    """Forget the cached global settings so the next access reads the environment again."""
    global _cached
    with _lock:
        _cached = None


@contextmanager
def override_settings(new: Settings) -> Iterator[Settings]:
    """Make ``new`` the active settings inside the block (context-local: asyncio-safe).

    Args:
        new: The settings to use, typically ``Settings(_env_file=None, ...)`` in a test.

    Yields:
        ``new``.

    Raises:
        TypeError: ``new`` is not a :class:`Settings`.
    """
    if isinstance(new, _SettingsProxy):
        new = get_settings()  # the proxy itself: pin what it points at now
    if not isinstance(new, Settings):
        raise TypeError(f"override_settings expects Settings, got {type(new).__name__}")
    token = _override.set(new)
    try:
        yield new
    finally:
        _override.reset(token)


class _SettingsProxy:
    """The lazy ``settings``: each attribute access reads :func:`get_settings`; read-only.

    It is a plain object, not a :class:`Settings` (``isinstance`` is false): call
    :func:`get_settings` for the object itself.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(get_settings(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("settings are read-only; use override_settings(Settings(...))")

    def __dir__(self) -> list[str]:
        return sorted(Settings.model_fields)

    def __repr__(self) -> str:
        return "<lazy runtime.config.settings>"


settings: Settings = cast(Settings, _SettingsProxy())
"""The active :class:`Settings`, read on each attribute access (see :func:`get_settings`)."""
