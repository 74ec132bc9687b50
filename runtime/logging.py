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

* :func:`get_logger` returns a stdlib-compatible logger (a :class:`logging.LoggerAdapter`), so
  ``logger.info("msg", extra={...})``, ``logger.exception(...)`` and ``%``-style arguments work.
  Loggers live under the ``videogen`` logger, which does not propagate to the root logger (so an
  application's own root configuration never prints our lines twice).
* ``job_id`` and ``stage`` (and any other field given to :func:`log_context`) are taken from a
  :class:`contextvars.ContextVar`, so they follow the code into ``asyncio`` tasks created inside the
  context. Fields passed explicitly in ``extra`` win over the context.
* Output goes to the console (``sys.stderr``) always and, optionally, to a file rotated at 100 MB
  keeping 5 backups through ``concurrent-log-handler``, which is safe when several worker processes
  write the same file.
* Secrets never reach a line: the values of every secret setting (registered by
  :mod:`runtime.config` through :func:`register_secret`), strings shaped like API keys or JWTs
  (``sk-...``, ``r8_...``, ``sb_secret_...``, ``eyJ...``), bearer tokens, passwords inside URLs and
  fields whose name says they hold a secret (``password``, ``api_key``, ``token``...) are replaced
  by ``[REDACTED]``.

Logging configures itself on first use (level and file from :mod:`runtime.config` when the settings
are valid, ``INFO`` on the console otherwise); call :func:`configure_logging` at start-up to choose
explicitly. Importing this module reads no configuration.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, TextIO
from uuid import UUID

__all__ = [
    "BASE_LOGGER_NAME",
    "DEFAULT_BACKUP_COUNT",
    "DEFAULT_MAX_BYTES",
    "REDACTED",
    "JsonFormatter",
    "LogContextFilter",
    "PipelineLogger",
    "configure_logging",
    "current_log_context",
    "get_logger",
    "log_context",
    "redact",
    "register_secret",
]

BASE_LOGGER_NAME: Final = "videogen"
DEFAULT_MAX_BYTES: Final = 100 * 1024 * 1024
DEFAULT_BACKUP_COUNT: Final = 5
REDACTED: Final = "[REDACTED]"

_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_MAX_BYTES_LIMIT: Final = 10 * 1024 * 1024 * 1024
_MAX_BACKUP_COUNT: Final = 100
_MIN_SECRET_LENGTH: Final = 6
_MAX_REGISTERED_SECRETS: Final = 256
_MAX_REPR_CHARS: Final = 2000

# ---------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------

_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})
_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "videogen_log_context", default=_EMPTY
)


@contextmanager
def log_context(
    *, job_id: UUID | str | None = None, stage: str | None = None, **fields: Any
) -> Iterator[None]:
    """Attach ``job_id``, ``stage`` and other fields to every record logged inside the block.

    Contexts nest: an inner block adds to (and may override) the outer one, and the outer values
    come back when the inner block ends. The values live in a :class:`contextvars.ContextVar`, so
    ``asyncio`` tasks created inside the block inherit them and concurrent tasks do not see each
    other's values.

    Args:
        job_id: The job being processed; ``None`` keeps the outer value.
        stage: The pipeline stage (``"audio_analysis"``, ``"composition"``...); ``None`` keeps the
            outer value.
        **fields: Further fields to add to every record (``None`` values are ignored).

    Yields:
        Nothing; log inside the ``with`` block.
    """
    merged = dict(_CONTEXT.get())
    if job_id is not None:
        merged["job_id"] = job_id
    if stage is not None:
        merged["stage"] = stage
    merged.update({key: value for key, value in fields.items() if value is not None})
    token = _CONTEXT.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_log_context() -> dict[str, Any]:
    """Return a copy of the fields that :func:`log_context` currently adds to records.

    Returns:
        The active context fields (empty outside any :func:`log_context` block).
    """
    return dict(_CONTEXT.get())


class LogContextFilter(logging.Filter):
    """Copy the active :func:`log_context` fields onto each record that does not set them itself.

    It runs on the handler, in the thread that logs, so the caller's context is the one used.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Add context fields missing from ``record`` (explicit ``extra`` fields win).

        Args:
            record: The record being handled.

        Returns:
            Always ``True``: the filter only enriches records.
        """
        for key, value in _CONTEXT.get().items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


# ---------------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------------

_PATTERNS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    # JSON Web Tokens (Supabase legacy keys, access tokens, signed-URL tokens).
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # OpenAI keys: sk-..., sk-proj-...
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), REDACTED),
    # Replicate tokens.
    (re.compile(r"\br8_[A-Za-z0-9]{16,}"), REDACTED),
    # Supabase secret keys (publishable keys are public by design).
    (re.compile(r"\bsb_secret_[A-Za-z0-9_-]{8,}"), REDACTED),
    # Authorization header values.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # Passwords in URLs: scheme://user:password@host
    (re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\"']*:)[^/\s@\"']+@"), rf"\1{REDACTED}@"),
    # Credentials in query strings.
    (
        re.compile(
            r"(?i)([?&](?:token|access_token|refresh_token|apikey|api_key|key|signature|sig)=)"
            r"[^&\s\"']+"
        ),
        rf"\1{REDACTED}",
    ),
)
_SECRET_KEY_NAME: Final = re.compile(
    r"(?:^|_)(password|passwd|secret|secret_key|token|access_token|refresh_token|api_key|"
    r"apikey|api_token|authorization|credentials?|private_key|service_key|anon_key|jwt|cookie|"
    r"openai_key|supabase_key|replicate_key)$"
)
_MAX_REDACT_DEPTH: Final = 20


def _is_secret_name(name: object) -> bool:
    """Whether a field or dict key names a secret (``x-api-key``, ``DB_PASSWORD``, ``jwt``)."""
    return isinstance(name, str) and (
        _SECRET_KEY_NAME.search(name.lower().replace("-", "_")) is not None
    )


def _redact_named(value: Any, depth: int = 0) -> Any:
    """Blank values held under secret-looking keys anywhere inside dicts and lists.

    Returns ``value`` itself when nothing inside it needed blanking (no copy on the hot path).
    """
    if depth > _MAX_REDACT_DEPTH:
        return value
    if isinstance(value, Mapping):
        changed = False
        result: dict[Any, Any] = {}
        for key, item in value.items():
            if item is not None and _is_secret_name(key):
                result[key] = REDACTED
                changed = True
            else:
                new_item = _redact_named(item, depth + 1)
                changed = changed or new_item is not item
                result[key] = new_item
        return result if changed else value
    if isinstance(value, list | tuple):
        items = [_redact_named(item, depth + 1) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
    return value


_secrets_lock = threading.Lock()
_secrets: dict[str, None] = {}
_pinned_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None, *, pinned: bool = False) -> None:
    """Make every later log line replace ``value`` with ``[REDACTED]``.

    :mod:`runtime.config` registers the value of every secret setting when settings are built,
    pinned for the process-wide settings. Values shorter than six characters are ignored (they
    would blank out ordinary words). Unpinned values are bounded: beyond the most recent 256 the
    oldest is forgotten (tests build many throwaway settings); pinned values are never forgotten.

    Args:
        value: The secret text; ``None`` or empty is ignored.
        pinned: Keep the value for the life of the process whatever else is registered.
    """
    global _secrets_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    forms = {value, json.dumps(value, ensure_ascii=False)[1:-1]}
    with _secrets_lock:
        changed = False
        for form in forms:
            if pinned and form not in _pinned_secrets:
                _pinned_secrets.add(form)
                _secrets.pop(form, None)
                changed = True
            elif not pinned and form not in _secrets and form not in _pinned_secrets:
                _secrets[form] = None
                changed = True
        while len(_secrets) > _MAX_REGISTERED_SECRETS:
            del _secrets[next(iter(_secrets))]
        if changed:
            ordered = sorted({*_secrets, *_pinned_secrets}, key=len, reverse=True)
            _secrets_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """Replace registered secret values and key-, token- or password-shaped substrings.

    Args:
        text: Any text (a message, a serialised log line, an upstream error message).

    Returns:
        ``text`` with every secret replaced by ``[REDACTED]``.
    """
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _PATTERNS:
        text = regex.sub(replacement, text)
    return text


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------

_RESERVED: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_FIXED_FIELDS: Final = ("timestamp", "level", "module", "job_id", "stage", "message")


def _json_default(value: Any) -> Any:
    """Render values ``json`` does not know: safe, readable and never a secret."""
    if isinstance(value, UUID | Decimal | Path):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value if isinstance(value.value, str | int | float | bool) else value.name
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # pydantic models: SecretStr fields dump as "**********"
        return model_dump(mode="json")
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    try:
        text = repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"
    return text[:_MAX_REPR_CHARS]


def _dump(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False)


def _safe_value(value: Any) -> Any:
    """Return ``value`` if it serialises as strict JSON, else a safe text rendering of it."""
    try:
        _dump(value)
    except (TypeError, ValueError, RecursionError):
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        try:
            return repr(value)[:_MAX_REPR_CHARS]
        except Exception:
            return f"<unrepresentable {type(value).__name__}>"
    return value


def _message(record: logging.LogRecord) -> str:
    """``record.getMessage()``, or the template and its arguments when they do not fit.

    A bad ``%`` format must not make the stdlib print the raw arguments (secrets included) to
    stderr: the line is still one JSON object, and still redacted.
    """
    try:
        return record.getMessage()
    except Exception as exc:
        try:
            args = repr(record.args)[:_MAX_REPR_CHARS]
        except Exception:
            args = "<unrepresentable>"
        return (
            f"{record.msg!s} [log arguments did not fit the message: "
            f"{type(exc).__name__}; args={args}]"
        )


def _handle_error_redacted(record: logging.LogRecord) -> None:
    """Stand-in for ``Handler.handleError``: report a failed write without the record's args.

    The stdlib version prints the raw arguments to stderr, secrets included.
    """
    if not logging.raiseExceptions:
        return
    exc = sys.exc_info()[1]
    message = f"a log record from {record.name} could not be written: {type(exc).__name__}: {exc}"
    try:
        sys.stderr.write(
            redact(_dump({"level": "ERROR", "module": "runtime.logging", "message": message}))
            + "\n"
        )
    except Exception:  # nowhere left to report to
        return


def _module_name(logger_name: str) -> str:
    prefix = BASE_LOGGER_NAME + "."
    return logger_name[len(prefix) :] if logger_name.startswith(prefix) else logger_name


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON with the fixed fields first, then every extra field.

    Fields: ``timestamp`` (UTC, ISO-8601, milliseconds, ``Z``), ``level``, ``module`` (the name
    given to :func:`get_logger`), ``job_id``, ``stage``, ``message``, every ``extra`` field, and
    ``exc_type``/``exception`` (the formatted traceback) when the record carries an exception.
    The whole line is passed through :func:`redact`.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single redacted JSON line (no trailing newline).

        Args:
            record: The record to format.

        Returns:
            The JSON text.
        """
        timestamp = datetime.fromtimestamp(record.created, tz=UTC)
        payload: dict[str, Any] = {
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp:%f}"[:3] + "Z",
            "level": record.levelname,
            "module": _module_name(record.name),
            "job_id": record.__dict__.get("job_id"),
            "stage": record.__dict__.get("stage"),
            "message": _message(record),
        }
        for key, value in record.__dict__.items():
            if key in _RESERVED or key in _FIXED_FIELDS or key.startswith("_"):
                continue
            if value is not None and _is_secret_name(key):
                payload[key] = REDACTED
            else:
                payload[key] = _redact_named(value)
        if record.exc_info and record.exc_info[0] is not None:
            payload["exc_type"] = record.exc_info[0].__name__
            payload["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        try:
            line = _dump(payload)
        except (TypeError, ValueError, RecursionError):
            line = _dump({key: _safe_value(value) for key, value in payload.items()})
        return redact(line)


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


@dataclass(frozen=True, slots=True)
class _Choice:
    level: int
    log_file: Path | None


_config_lock = threading.RLock()
_configured = False
_configuring_thread: int | None = None  # the thread inside configure_logging, if any


def _base_logger() -> logging.Logger:
    base = logging.getLogger(BASE_LOGGER_NAME)
    base.propagate = False
    return base


def _parse_level(level: str | int) -> int:
    if isinstance(level, bool) or not isinstance(level, str | int):
        raise ValueError(f"log level must be one of {', '.join(_LEVELS)}, got {level!r}")
    if isinstance(level, int):
        if level not in (
            logging.DEBUG,
            logging.INFO,
            logging.WARNING,
            logging.ERROR,
            logging.CRITICAL,
        ):
            raise ValueError(f"log level must be one of {', '.join(_LEVELS)}, got {level!r}")
        return level
    name = level.strip().upper()
    if name not in _LEVELS:
        raise ValueError(f"log level must be one of {', '.join(_LEVELS)}, got {level!r}")
    return logging.getLevelNamesMapping()[name]


def _defaults_from_settings() -> _Choice:
    """Level and file from the settings; ``INFO`` to the console when they are not usable."""
    from runtime.config import get_settings
    from runtime.errors import ConfigError

    try:
        current = get_settings()
    except ConfigError:
        env_level = os.environ.get("LOG_LEVEL", "INFO")
        try:
            return _Choice(_parse_level(env_level), None)
        except ValueError:
            return _Choice(logging.INFO, None)
    return _Choice(_parse_level(current.log_level), current.log_file)


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
        raise ValueError(f"max_bytes must be between 1 and {_MAX_BYTES_LIMIT}, got {max_bytes}")
    if not 0 <= backup_count <= _MAX_BACKUP_COUNT:
        raise ValueError(
            f"backup_count must be between 0 and {_MAX_BACKUP_COUNT}, got {backup_count}"
        )
    chosen_level = None if level is None else _parse_level(level)
    with _config_lock:
        _configuring_thread = threading.get_ident()
        try:
            if chosen_level is None or log_file is None:
                defaults = _defaults_from_settings()
                chosen_level = defaults.level if chosen_level is None else chosen_level
                log_file = defaults.log_file if log_file is None else log_file
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
            for old in [h for h in base.handlers if getattr(h, "_videogen_handler", False)]:
                base.removeHandler(old)
                old.close()
            formatter = JsonFormatter()
            for handler in handlers:
                handler._videogen_handler = True  # type: ignore[attr-defined]
                handler.handleError = _handle_error_redacted  # type: ignore[method-assign]
                handler.setLevel(chosen_level)
                handler.setFormatter(formatter)
                handler.addFilter(LogContextFilter())
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
        for old in [h for h in base.handlers if getattr(h, "_videogen_handler", False)]:
            base.removeHandler(old)
            old.close()
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
        if self.extra:
            kwargs["extra"] = {**self.extra, **(kwargs.get("extra") or {})}
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
        raise ValueError("logger name must be a non-empty string")
    _base_logger()
    if name == BASE_LOGGER_NAME or name.startswith(BASE_LOGGER_NAME + "."):
        full_name = name
    else:
        full_name = f"{BASE_LOGGER_NAME}.{name}"
    return PipelineLogger(logging.getLogger(full_name))
