"""The JSON line of :mod:`runtime.logging`: a structlog processor chain under a stdlib formatter.

:class:`JsonFormatter` runs each stdlib record through this chain of structlog processors:

1. :func:`event_from_record` (ours): the stdlib record and the :func:`log_context` fields (held
   in :mod:`structlog.contextvars`) become one ordered event dict; ``%`` arguments are redacted
   before they are interpolated.
2. :func:`runtime._redaction_walk.redaction_processor`: every key and value redacted.
3. :class:`structlog.processors.JSONRenderer`: one line of JSON.
4. :func:`redact_line`: registered values and key shapes removed from the whole line once more.

The chain is run by a plain :class:`logging.Formatter` rather than structlog's
``ProcessorFormatter``: every record here is a stdlib record, read directly, so that formatter's
record copy, ``str(msg)`` and second ``Formatter.format`` pass only cost time (about 12 us a line,
20%). :func:`event_from_record` reads ``event_dict["_record"]`` as under ``ProcessorFormatter``,
so the chain moves there unchanged if structlog-native loggers ever write through our handlers.

Caller fields that would clash with ``LogRecord`` attributes or the fixed fields are renamed
``extra_<name>`` instead of raising (:func:`safe_extra`).
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

from structlog.contextvars import get_contextvars
from structlog.processors import JSONRenderer

from runtime import _redaction
from runtime._redaction_walk import (
    REDACTOR_KEY,
    Redactor,
    record_value_keys,
    redaction_processor,
    safe_repr,
)

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
        record = record_value_keys(list(args.items())) or ()  # {"name": "DB_PASSWORD", "value": S}
        return {
            key: (
                _redaction.REDACTED
                if value is not None and (_redaction.is_secret_name(key) or key in record)
                else (value if isinstance(value, _PLAIN_ARGS) else redactor.value(value))
            )
            for key, value in args.items()
        }
    if isinstance(args, tuple):
        return tuple(arg if isinstance(arg, _PLAIN_ARGS) else redactor.value(arg) for arg in args)
    return args if isinstance(args, _PLAIN_ARGS) else redactor.value(args)


def _message(redactor: Redactor, record: logging.LogRecord) -> str:
    """The record's message from redacted arguments (the redaction processor scrubs the text).

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
    return text


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
    """The ``module`` field: the logger name without the ``videogen.`` prefix.

    Args:
        logger_name: A stdlib logger name.

    Returns:
        The name shown in the line.
    """
    prefix = BASE_LOGGER_NAME + "."
    return logger_name[len(prefix) :] if logger_name.startswith(prefix) else logger_name


def event_from_record(logger: object, method_name: str, event_dict: Any) -> dict[str, Any]:
    """A structlog processor: the stdlib record behind ``event_dict["_record"]`` as fields.

    Order: ``timestamp`` (the record's time, UTC, milliseconds, ``Z``), ``level``, ``module``,
    ``job_id``, ``stage``, ``message`` (``%`` arguments redacted first), every ``extra`` field,
    the :func:`log_context` fields the record does not set itself, then ``exc_type``/
    ``exception`` and ``stack``. The :class:`Redactor` that redacted the arguments goes along
    under :data:`REDACTOR_KEY`, so values it met under secret names leave the whole line.

    Args:
        logger: Unused (structlog's wrapped logger).
        method_name: Unused (the level name).
        event_dict: ``_record`` is the stdlib record (as under ``ProcessorFormatter``).

    Returns:
        The ordered, not yet redacted, event dict.
    """
    record: logging.LogRecord = event_dict["_record"]
    fields = record.__dict__
    context = safe_extra(get_contextvars())
    redactor = Redactor()
    timestamp = datetime.fromtimestamp(record.created, tz=UTC)
    event: dict[str, Any] = {
        "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp:%f}"[:3] + "Z",
        "level": record.levelname,
        "module": module_name(record.name),
        "job_id": fields["job_id"] if "job_id" in fields else context.get("job_id"),
        "stage": fields["stage"] if "stage" in fields else context.get("stage"),
        "message": _message(redactor, record),
    }
    for key, value in fields.items():
        if key not in _RESERVED and key not in _FIXED_FIELDS and not key.startswith("_"):
            event[key] = value
    for key, value in context.items():  # explicit ``extra`` wins over the context
        if key not in fields and key not in _FIXED_FIELDS:
            event[key] = value
    if record.exc_info and record.exc_info[0] is not None:
        event["exc_type"] = record.exc_info[0].__name__
        event["exception"] = _STDLIB.formatException(record.exc_info)
    elif record.exc_text:
        event["exception"] = record.exc_text
    if record.stack_info:
        event["stack"] = _STDLIB.formatStack(record.stack_info)
    event[REDACTOR_KEY] = redactor
    return event


_STDLIB: Final = logging.Formatter()


def _dumps(event: Mapping[str, Any], **_: Any) -> str:
    """The JSON text; values are plain after redaction, so failing is not expected."""
    try:
        return json.dumps(event, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. an int past 4,300 digits
        return json.dumps(
            {key: event[key] for key in ("timestamp", "level", "module", "message")}
            | {"log_error": f"record could not be rendered: {type(exc).__name__}"},
            ensure_ascii=False,
        )


def redact_line(logger: object, method_name: str, line: Any) -> str:
    """The last processor: registered values and key shapes removed from the whole line.

    Args:
        logger: Unused.
        method_name: Unused.
        line: The rendered JSON line.

    Returns:
        The line without secrets.
    """
    return _redaction.redact_known(str(line))


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON with the fixed fields first, then every extra field.

    Fields: ``timestamp`` (UTC, ISO-8601, milliseconds, ``Z``), ``level``, ``module`` (the name
    given to :func:`get_logger`), ``job_id``, ``stage``, ``message``, every ``extra``, bound and
    :func:`log_context` field, and ``exc_type``/``exception`` (the formatted traceback) and
    ``stack`` when present. The line comes out of :data:`PROCESSORS`.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single redacted JSON line (no trailing newline).

        Args:
            record: The record to format.

        Returns:
            The JSON text.
        """
        event: Any = {"_record": record}
        method_name = record.levelname.lower()
        for processor in PROCESSORS:
            event = processor(None, method_name, event)
        return str(event)


#: The structlog processor chain of every line: record to fields, redaction, JSON, line scrub.
PROCESSORS: Final = (
    event_from_record,
    redaction_processor,
    JSONRenderer(serializer=_dumps),
    redact_line,
)
