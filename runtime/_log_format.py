"""The JSON line formatter of :mod:`runtime.logging`: fixed fields, extras, redaction.

Every value goes through :class:`runtime._redaction_walk.Redactor`; ``%`` arguments are redacted
before they are interpolated; caller fields that would clash with ``LogRecord`` attributes or the
fixed fields are renamed ``extra_<name>`` instead of raising.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from runtime import _redaction
from runtime._redaction_walk import Redactor, safe_repr

BASE_LOGGER_NAME: Final = "videogen"


_RESERVED: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
_FIXED_FIELDS: Final = ("timestamp", "level", "module", "job_id", "stage", "message")
#: Names a caller's ``extra``/context field cannot take: they are shown as ``extra_<name>``.
_RENAMED: Final = _RESERVED | {"timestamp", "level", "module", "exc_type", "exception", "stack"}
_PLAIN_ARGS: Final = (str, int, float, bool, type(None), Decimal, UUID)


def _field_name(key: object, taken: Mapping[str, Any] | None = None) -> str:
    """The record attribute for a caller's field: reserved names get an ``extra_`` prefix."""
    name = key if isinstance(key, str) else str(key)
    while name in _RENAMED or name.startswith("_") or (taken is not None and name in taken):
        name = f"extra_{name.lstrip('_')}" if name.startswith("_") else f"extra_{name}"
    return name


def safe_extra(extra: Mapping[Any, Any]) -> dict[str, Any]:
    """Rename caller fields that would clash with a ``LogRecord`` attribute or a fixed field.

    ``extra={"message": ...}`` or ``{"args": ...}`` makes the stdlib raise ``KeyError`` into the
    caller; here they become ``extra_message`` and ``extra_args``.

    Args:
        extra: The caller's fields.

    Returns:
        The fields under names that never clash.
    """
    renamed: dict[str, Any] = {}
    for key, value in extra.items():
        if isinstance(key, str) and key not in _RENAMED and not key.startswith("_"):
            renamed[key] = value
    for key, value in extra.items():
        if not (isinstance(key, str) and key not in _RENAMED and not key.startswith("_")):
            renamed[_field_name(key, renamed)] = value
    return renamed


def _safe_args(redactor: Redactor, args: Any) -> Any:
    """``%`` arguments with every structure redacted (plain scalars kept for ``%d``/``%.2f``)."""
    if isinstance(args, Mapping):
        return {
            key: (
                _redaction.REDACTED
                if value is not None and _redaction.is_secret_name(key)
                else (value if isinstance(value, _PLAIN_ARGS) else redactor.value(value))
            )
            for key, value in args.items()
        }
    if isinstance(args, tuple):
        return tuple(arg if isinstance(arg, _PLAIN_ARGS) else redactor.value(arg) for arg in args)
    return args if isinstance(args, _PLAIN_ARGS) else redactor.value(args)


def _message(redactor: Redactor, record: logging.LogRecord) -> str:
    """The record's message from redacted arguments, scrubbed.

    A bad ``%`` format must not make the stdlib print the raw arguments (secrets included) to
    stderr: the line is still one JSON object, and still redacted.
    """
    msg = record.msg
    template = msg if isinstance(msg, str) else str(redactor.value(msg))
    args = _safe_args(redactor, record.args) if record.args else None
    try:
        text = template % args if args else template
    except Exception as exc:
        text = (
            f"{template} [log arguments did not fit the message: "
            f"{type(exc).__name__}; args={safe_repr(args)}]"
        )
    return redactor.text(text)


def handle_error_redacted(record: logging.LogRecord) -> None:
    """Stand-in for ``Handler.handleError``: report a failed write without the record's args.

    The stdlib version prints the raw arguments to stderr, secrets included.
    """
    if not logging.raiseExceptions:
        return
    exc = sys.exc_info()[1]
    message = f"a log record from {record.name} could not be written: {type(exc).__name__}: {exc}"
    try:
        line = json.dumps(
            {
                "level": "ERROR",
                "module": "runtime.logging",
                "message": _redaction.scrub_text(message),
            },
            ensure_ascii=False,
        )
        sys.stderr.write(_redaction.redact_known(line) + "\n")
    except Exception:  # nowhere left to report to
        return


def module_name(logger_name: str) -> str:
    prefix = BASE_LOGGER_NAME + "."
    return logger_name[len(prefix) :] if logger_name.startswith(prefix) else logger_name


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON with the fixed fields first, then every extra field.

    Fields: ``timestamp`` (UTC, ISO-8601, milliseconds, ``Z``), ``level``, ``module`` (the name
    given to :func:`get_logger`), ``job_id``, ``stage``, ``message``, every ``extra`` field, and
    ``exc_type``/``exception`` (the formatted traceback) when the record carries an exception.
    Every value goes through :class:`runtime.Redactor` (structures walked, secret
    names blanked, text scrubbed) and the finished line once more through its ``finish``.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single redacted JSON line (no trailing newline).

        Args:
            record: The record to format.

        Returns:
            The JSON text.
        """
        redactor = Redactor()
        timestamp = datetime.fromtimestamp(record.created, tz=UTC)
        payload: dict[str, Any] = {
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp:%f}"[:3] + "Z",
            "level": record.levelname,
            "module": module_name(record.name),
            "job_id": redactor.field("job_id", record.__dict__.get("job_id")),
            "stage": redactor.field("stage", record.__dict__.get("stage")),
            "message": _message(redactor, record),
        }
        for key, value in list(record.__dict__.items()):
            if key in _RESERVED or key in _FIXED_FIELDS or key.startswith("_"):
                continue
            payload[redactor.text(key)] = redactor.field(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            payload["exc_type"] = record.exc_info[0].__name__
            payload["exception"] = redactor.text(self.formatException(record.exc_info))
        elif record.exc_text:
            payload["exception"] = redactor.text(record.exc_text)
        if record.stack_info:
            payload["stack"] = redactor.text(self.formatStack(record.stack_info))
        try:
            line = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:  # not expected: values are plain
            line = json.dumps(
                {key: payload[key] for key in ("timestamp", "level", "module", "message")}
                | {"log_error": f"record could not be rendered: {type(exc).__name__}"},
                ensure_ascii=False,
            )
        return redactor.finish(line)
