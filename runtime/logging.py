"""Structured JSON logging with job context and secret redaction.

Every record becomes one JSON object on one line::

    {"timestamp": "2025-11-14T10:30:00.123Z", "level": "INFO", "module": "audio_parser",
     "job_id": "550e8400-...", "stage": "audio_analysis", "message": "Processing audio",
     "duration": 180}

Usage::

    from runtime.logging import get_logger, log_context

    logger = get_logger("audio_parser")
    with log_context(job_id=job_id, stage="audio_analysis"):
        logger.info("Processing audio", extra={"duration": 180})

* :func:`get_logger` returns a stdlib :class:`logging.LoggerAdapter` (``extra=``, ``%``
  arguments, ``exception()`` work) under the ``videogen`` logger, which does not propagate to the
  root logger (an application's root configuration never prints our lines twice).
* :func:`log_context` fields are held by :mod:`structlog.contextvars`, so they follow ``asyncio``
  tasks; explicit ``extra`` wins over them.
* :class:`JsonFormatter` renders each record through a chain of structlog processors, the
  redaction being one of them: every value is redacted by construction (``docs/logging.md``).
  Caller fields named like ``LogRecord`` attributes are written as ``extra_<name>``, never raise.
* Output goes to ``sys.stderr`` and, optionally, to a file rotated at 100 MB keeping 5 backups
  through ``concurrent-log-handler`` (safe when several processes write it).
* :class:`LogRateLimiter` lets one line per key through per interval (repeated warnings).
* :func:`redaction_processor` is the redaction as a structlog processor: an application that
  renders structlog events itself (``merge_contextvars`` and a renderer) adds it to its chain,
  after ``merge_contextvars``, so ``log_context`` fields reach its lines redacted too.

Logging configures itself on first use (level and file from :mod:`runtime.config` when the settings
are valid, ``INFO`` on the console otherwise); call :func:`configure_logging` at start-up to choose
explicitly. Importing this module reads no configuration.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TextIO
from uuid import UUID

from structlog.contextvars import bind_contextvars, get_contextvars, reset_contextvars

from runtime import _redaction
from runtime._log_format import BASE_LOGGER_NAME, JsonFormatter, safe_extra
from runtime._log_format import handle_error_redacted as _handle_error_redacted
from runtime._log_ratelimit import LogRateLimiter
from runtime._redaction import REDACTED, is_secret_name, register_secret
from runtime._redaction_walk import redaction_processor
from runtime.errors import InvalidOptionError

__all__ = [
    "BASE_LOGGER_NAME",
    "DEFAULT_BACKUP_COUNT",
    "DEFAULT_MAX_BYTES",
    "REDACTED",
    "JsonFormatter",
    "LogRateLimiter",
    "PipelineLogger",
    "configure_logging",
    "current_log_context",
    "get_logger",
    "is_secret_name",
    "log_context",
    "redact",
    "redaction_processor",
    "register_secret",
    "safe_extra",
]

DEFAULT_MAX_BYTES: Final = 100 * 1024 * 1024
DEFAULT_BACKUP_COUNT: Final = 5

_LEVELS: Final = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_MAX_BYTES_LIMIT: Final = 10 * 1024 * 1024 * 1024
_MAX_BACKUP_COUNT: Final = 100

# ---------------------------------------------------------------------------------------------
# Context (held by structlog.contextvars; JsonFormatter merges it into each line)
# ---------------------------------------------------------------------------------------------


@contextmanager
def log_context(
    *, job_id: UUID | str | None = None, stage: str | None = None, **fields: Any
) -> Iterator[None]:
    """Attach ``job_id``, ``stage`` and other fields to every record logged inside the block.

    Contexts nest: an inner block adds to (and may override) the outer one, and the outer values
    come back when the inner block ends. The values are bound with
    :func:`structlog.contextvars.bind_contextvars` (one :class:`contextvars.ContextVar` per
    field), so ``asyncio`` tasks created inside the block inherit them and concurrent tasks do
    not see each other's values.

    Args:
        job_id: The job being processed; ``None`` keeps the outer value.
        stage: The pipeline stage (``"audio_analysis"``, ``"composition"``...); ``None`` keeps the
            outer value.
        **fields: Further fields to add to every record (``None`` values are ignored).

    Yields:
        Nothing; log inside the ``with`` block.
    """
    given = {"job_id": job_id, "stage": stage, **fields}
    tokens = bind_contextvars(**{key: value for key, value in given.items() if value is not None})
    try:
        yield
    finally:
        reset_contextvars(**tokens)


def current_log_context() -> dict[str, Any]:
    """Return a copy of the fields that :func:`log_context` currently adds to records.

    Returns:
        The active context fields (empty outside any :func:`log_context` block).
    """
    return get_contextvars()


# ---------------------------------------------------------------------------------------------
# Redaction (the rules: runtime._redaction; the processor: runtime._redaction_walk)
# ---------------------------------------------------------------------------------------------


def redact(text: str) -> str:
    """Remove secrets from free text.

    Registered secret values, key-, token- and JWT-shaped substrings, URL passwords, secret-named
    query parameters (``?password=``, ``&accessToken=``...) and ``name=value`` pairs with a
    secret-like name become ``[REDACTED]``.

    Args:
        text: Any text (a message, a serialised log line, an upstream error message).

    Returns:
        ``text`` with every secret replaced by ``[REDACTED]``.
    """
    return _redaction.scrub_text(text)


# ---------------------------------------------------------------------------------------------
# Handlers and configuration
# ---------------------------------------------------------------------------------------------


class _StderrHandler(logging.StreamHandler[TextIO]):
    """A console handler that writes to the *current* ``sys.stderr`` (test capture swaps it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.setStream assigns it
        pass


_config_lock = threading.RLock()
_configured = False
_configuring_thread: int | None = None  # the thread inside configure_logging, if any


def _base_logger() -> logging.Logger:
    base = logging.getLogger(BASE_LOGGER_NAME)
    base.propagate = False
    return base


def _parse_level(level: str | int) -> int:
    if isinstance(level, str) and level.strip().upper() in _LEVELS:
        return _LEVELS[level.strip().upper()]
    if isinstance(level, int) and not isinstance(level, bool) and level in _LEVELS.values():
        return level
    raise InvalidOptionError(f"log level must be one of {', '.join(_LEVELS)}, got {level!r}")


def _defaults_from_settings() -> tuple[int, Path | None]:
    """Level and file from the settings; ``INFO`` to the console when they are not usable."""
    from runtime.config import get_settings
    from runtime.errors import ConfigError

    try:
        current = get_settings()
    except ConfigError:
        env_level = os.environ.get("LOG_LEVEL", "INFO")
        try:
            return _parse_level(env_level), None
        except ValueError:
            return logging.INFO, None
    return _parse_level(current.log_level), current.log_file


def _remove_our_handlers(base: logging.Logger) -> None:
    for old in [h for h in base.handlers if getattr(h, "_videogen_handler", False)]:
        base.removeHandler(old)
        old.close()


def configure_logging(
    *,
    level: str | int | None = None,
    log_file: str | os.PathLike[str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    backup_count: int = DEFAULT_BACKUP_COUNT,
) -> None:
    """Install the JSON console handler and, optionally, a rotating file handler.

    Idempotent: calling it again replaces (and closes) the handlers it installed before, so
    handlers are never duplicated.

    Args:
        level: ``DEBUG``, ``INFO``, ``WARNING`` or ``ERROR`` (or the stdlib number); ``None``
            takes ``settings.log_level`` (``INFO`` when settings are not available).
        log_file: A file to write as well as the console; ``None`` takes ``settings.log_file``
            (no file when that is unset). Parent folders are created.
        max_bytes: Rotate the file when it would grow past this size (default 100 MB).
        backup_count: How many rotated files to keep (default 5).

    Raises:
        ValueError: The level is unknown or a size/count bound is out of range.
        OSError: The log file or its folder cannot be created or opened.
    """
    global _configured, _configuring_thread
    if not 1 <= max_bytes <= _MAX_BYTES_LIMIT:
        raise InvalidOptionError(
            f"max_bytes must be between 1 and {_MAX_BYTES_LIMIT}, got {max_bytes}"
        )
    if not 0 <= backup_count <= _MAX_BACKUP_COUNT:
        raise InvalidOptionError(
            f"backup_count must be between 0 and {_MAX_BACKUP_COUNT}, got {backup_count}"
        )
    chosen_level = None if level is None else _parse_level(level)
    with _config_lock:
        _configuring_thread = threading.get_ident()
        try:
            if chosen_level is None or log_file is None:
                default_level, default_file = _defaults_from_settings()
                chosen_level = default_level if chosen_level is None else chosen_level
                log_file = default_file if log_file is None else log_file
            handlers: list[logging.Handler] = [_StderrHandler()]
            if log_file is not None:
                from concurrent_log_handler import ConcurrentRotatingFileHandler

                path = Path(log_file)
                path.parent.mkdir(parents=True, exist_ok=True)
                handlers.append(
                    ConcurrentRotatingFileHandler(
                        str(path),
                        mode="a",
                        maxBytes=max_bytes,
                        backupCount=backup_count,
                        encoding="utf-8",
                    )
                )
            base = _base_logger()
            _remove_our_handlers(base)
            formatter = JsonFormatter()
            for handler in handlers:
                handler._videogen_handler = True  # type: ignore[attr-defined]
                handler.handleError = _handle_error_redacted  # type: ignore[method-assign]
                handler.setLevel(chosen_level)
                handler.setFormatter(formatter)
                base.addHandler(handler)
            base.setLevel(chosen_level)
            _configured = True
        finally:
            _configuring_thread = None


def _ensure_configured() -> None:
    """Configure with the defaults on first use; other threads wait for a configuration underway."""
    if _configured or _configuring_thread == threading.get_ident():
        return  # done, or a log call made while configuring (e.g. by the settings code)
    with _config_lock:
        if not _configured:
            configure_logging()


def _reset_for_tests() -> None:
    """Remove our handlers and forget the configuration (used by :mod:`runtime.testing`)."""
    global _configured
    with _config_lock:
        base = _base_logger()
        _remove_our_handlers(base)
        base.setLevel(logging.NOTSET)
        _configured = False


class PipelineLogger(logging.LoggerAdapter[logging.Logger]):
    """A stdlib logger adapter that configures logging on first use and keeps bound fields.

    Per-call ``extra`` fields are merged over the fields bound with :meth:`bind` (the stdlib
    adapter would drop them).
    """

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        """Merge the bound fields with the call's ``extra`` (the call's values win).

        Args:
            msg: The log message.
            kwargs: The keyword arguments of the logging call.

        Returns:
            The message and keyword arguments to pass on to the logger.
        """
        extra = kwargs.get("extra")
        if self.extra or extra:
            merged = {**(self.extra or {}), **(extra if isinstance(extra, Mapping) else {})}
            kwargs["extra"] = safe_extra(merged)
        return msg, kwargs

    def isEnabledFor(self, level: int) -> bool:
        """Return whether a record at ``level`` would be handled, configuring logging first.

        Args:
            level: A stdlib level number.

        Returns:
            ``True`` when records at that level are emitted.
        """
        _ensure_configured()
        return self.logger.isEnabledFor(level)

    def bind(self, **fields: Any) -> PipelineLogger:
        """Return a logger that adds ``fields`` to every record it logs.

        Args:
            **fields: Fields to add (explicit ``extra`` on a call still wins).

        Returns:
            A new adapter over the same stdlib logger.
        """
        return PipelineLogger(self.logger, {**(self.extra or {}), **fields})


def get_logger(name: str) -> PipelineLogger:
    """Return the structured logger for a module or component.

    Args:
        name: Shown as ``module`` in each line, e.g. ``"audio_parser"`` or ``__name__``.

    Returns:
        A logger under the ``videogen`` hierarchy; nothing is configured until it first logs.

    Raises:
        ValueError: ``name`` is empty.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidOptionError("logger name must be a non-empty string")
    _base_logger()
    if name == BASE_LOGGER_NAME or name.startswith(BASE_LOGGER_NAME + "."):
        full_name = name
    else:
        full_name = f"{BASE_LOGGER_NAME}.{name}"
    return PipelineLogger(logging.getLogger(full_name))
