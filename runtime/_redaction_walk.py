"""The structure walk of log redaction: any value to JSON-safe values with secrets replaced.

:class:`Redactor` walks iteratively (an explicit stack, no recursion) through mappings, lists,
tuples, sets, pydantic models (field by field), dataclasses (field by field) and objects with
attributes (``__dict__`` and ``__slots__``), with the containers on the current path remembered
so cycles end as ``"[circular]"``. A value under a secret-like name (:func:`is_secret_name`)
becomes ``[REDACTED]`` and is remembered so :meth:`Redactor.finish` removes it from the whole
line. Every string is scrubbed (:func:`scrub_text`). Output is bounded: containers nested deeper
than :data:`MAX_DEPTH` and values beyond :data:`MAX_NODES` become ``"[TRUNCATED]"``, never their
content.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from itertools import islice
from pathlib import PurePath
from typing import Any, Final
from uuid import UUID

import pydantic

from runtime._redaction import (
    MIN_SECRET_LENGTH,
    REDACTED,
    is_secret_name,
    redact_known,
    scrub_text,
)

CIRCULAR: Final = "[circular]"
TRUNCATED: Final = "[TRUNCATED]"
#: Containers nested deeper than this are shown as ``[TRUNCATED]``.
MAX_DEPTH: Final = 200
#: At most this many values (containers and leaves) are rendered per logged value.
MAX_NODES: Final = 10_000
MAX_REPR_CHARS: Final = 2000


_SECRET_TYPES: Final = (pydantic.SecretStr, pydantic.SecretBytes)
_ATOMS: Final = (bool, int, type(None))
Setter = Callable[[Any], None]


def _slot_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot not in ("__dict__", "__weakref__") and slot not in names:
                names.append(slot)
    return names


def _attributes(value: Any) -> list[tuple[str, Any]] | None:
    """The named parts of a model, dataclass or plain object, or ``None`` for an opaque value."""
    if isinstance(value, pydantic.BaseModel):
        items = [(name, getattr(value, name, None)) for name in type(value).model_fields]
        extra = value.__pydantic_extra__ or {}
        return items + list(extra.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [(f.name, getattr(value, f.name, None)) for f in dataclasses.fields(value)]
    if isinstance(value, type) or callable(value):
        return None
    found: list[tuple[str, Any]] = []
    instance_dict = getattr(value, "__dict__", None)
    if isinstance(instance_dict, dict):
        found.extend((str(k), v) for k, v in instance_dict.items())
    for slot in _slot_names(type(value)):
        if hasattr(value, slot):
            found.append((slot, getattr(value, slot)))
    return found or None


def safe_repr(value: Any) -> str:
    try:
        return repr(value)[:MAX_REPR_CHARS]
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"


class Redactor:
    """Turn one record's values into JSON-safe values with every secret replaced.

    One instance per record: it remembers the secret values it met under secret names so
    :meth:`finish` can remove them from the whole rendered line.
    """

    def __init__(self) -> None:
        self.found: set[str] = set()

    # -- leaves ---------------------------------------------------------------------------

    def text(self, text: str) -> str:
        """Scrub free text (see :func:`scrub_text`).

        Args:
            text: The text.

        Returns:
            The scrubbed text.
        """
        return scrub_text(text)

    def _hide(self, value: Any) -> str:
        """Record a value found under a secret name and return the marker that replaces it."""
        if isinstance(value, str | bytes | bytearray | int | float | Decimal | UUID):
            text = (
                bytes(value).decode("utf-8", "replace")
                if isinstance(value, bytes | bytearray)
                else str(value)
            )
            if len(text) >= MIN_SECRET_LENGTH:
                self.found.add(text)
        return REDACTED

    def _leaf(self, value: Any) -> tuple[bool, Any]:
        """Render a leaf; ``(False, None)`` when ``value`` is a container to walk."""
        if isinstance(value, str):
            return True, self.text(value)
        if isinstance(value, _ATOMS):
            return True, value
        if isinstance(value, float):
            return True, value if math.isfinite(value) else str(value)
        if isinstance(value, _SECRET_TYPES):
            return True, "**********"
        if isinstance(value, UUID | Decimal | PurePath):
            return True, self.text(str(value))
        if isinstance(value, datetime | date | time):
            return True, value.isoformat()
        if isinstance(value, Enum):
            inner = value.value
            return True, self.text(str(inner)) if isinstance(inner, str) else (
                inner if isinstance(inner, int | bool) else value.name
            )
        if isinstance(value, bytes | bytearray | memoryview):
            return True, f"<{len(value)} bytes>"
        if isinstance(value, BaseException):
            return True, self.exception_text(value)
        return False, None

    def exception_text(self, exc: BaseException) -> str:
        """``"Type: message"`` for an exception, scrubbed.

        Args:
            exc: The exception.

        Returns:
            The scrubbed text.
        """
        try:
            message = str(exc)
        except Exception:
            message = "<unprintable message>"
        return self.text(f"{type(exc).__name__}: {message}".rstrip(": "))

    # -- the walk ---------------------------------------------------------------------------

    def value(self, value: Any) -> Any:
        """Return a JSON-safe copy of ``value`` with every secret replaced.

        Args:
            value: Anything a caller put in a log record.

        Returns:
            Plain ``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` values.
        """
        result: list[Any] = [None]
        budget = [MAX_NODES]
        on_path: set[int] = set()
        # Work items: ("enter", value, setter, depth) or ("leave", id) to pop the path.
        stack: list[tuple[Any, ...]] = [("enter", value, _list_setter(result, 0), 0)]
        while stack:
            item = stack.pop()
            if item[0] == "leave":
                on_path.discard(item[1])
                continue
            _, current, put, depth = item
            self._visit(current, put, depth, stack, on_path, budget)
        return result[0]

    def _visit(
        self,
        current: Any,
        put: Setter,
        depth: int,
        stack: list[tuple[Any, ...]],
        on_path: set[int],
        budget: list[int],
    ) -> None:
        if budget[0] <= 0:
            put(TRUNCATED)
            return
        budget[0] -= 1
        done, rendered = self._leaf(current)
        if done:
            put(rendered)
            return
        if id(current) in on_path:
            put(CIRCULAR)
            return
        if depth >= MAX_DEPTH:
            put(TRUNCATED)
            return
        pairs: Iterable[tuple[Any, Any]] | None = None
        room = budget[0] + 1  # never copy more of a huge container than can be shown
        if isinstance(current, Mapping):
            try:
                pairs = list(islice(current.items(), room))
                if len(pairs) == room and len(current) > budget[0]:
                    pairs[-1] = (TRUNCATED, TRUNCATED)
            except Exception:
                put(f"<unreadable {type(current).__name__}>")
                return
        elif isinstance(current, tuple) and isinstance(getattr(current, "_fields", None), tuple):
            # A namedtuple (typing.NamedTuple too): its field names decide, like a dataclass's.
            pairs = list(islice(zip(current._fields, current, strict=False), room))  # type: ignore[attr-defined]
        elif isinstance(current, list | tuple | set | frozenset | deque):
            items = list(islice(current, room))
            if len(items) == room and len(current) > budget[0]:
                items[-1] = TRUNCATED  # what is beyond the bound is marked, never shown
            out_list: list[Any] = [None] * len(items)
            put(out_list)
            on_path.add(id(current))
            stack.append(("leave", id(current)))
            for index in range(len(items) - 1, -1, -1):
                stack.append(("enter", items[index], _list_setter(out_list, index), depth + 1))
            return
        else:
            pairs = _attributes(current)
            if pairs is None:
                put(self.text(safe_repr(current)))
                return
        out: dict[Any, Any] = {}
        put(out)
        on_path.add(id(current))
        stack.append(("leave", id(current)))
        children: list[tuple[Any, Setter]] = []
        for key, item in pairs:
            out_key = self._key(key)
            if item is not None and is_secret_name(key):
                out[out_key] = self._hide(item)
            else:
                out[out_key] = None  # a placeholder keeps the source order
                children.append((item, _dict_setter(out, out_key)))
        for item, setter in reversed(children):
            stack.append(("enter", item, setter, depth + 1))

    def _key(self, key: Any) -> str | int | float | bool | None:
        if isinstance(key, str):
            return self.text(key)
        if isinstance(key, bytes | bytearray):
            return self.text(bytes(key).decode("utf-8", errors="replace"))
        if isinstance(key, bool | int | type(None)):
            return key
        if isinstance(key, float):
            return key if math.isfinite(key) else str(key)
        done, rendered = self._leaf(key)
        return str(rendered) if done else self.text(safe_repr(key))

    def field(self, name: str, value: Any) -> Any:
        """Render a top-level record field: blanked when its name is secret-like.

        Args:
            name: The field name.
            value: Its value.

        Returns:
            The JSON-safe, redacted value.
        """
        if value is not None and is_secret_name(name):
            return self._hide(value)
        return self.value(value)

    def finish(self, line: str) -> str:
        """Remove registered values, key shapes and collected secret values from a whole line.

        Args:
            line: The rendered line.

        Returns:
            The line without secrets.
        """
        line = redact_known(line)
        if self.found:
            forms = {
                form
                for value in self.found
                for form in (value, json.dumps(value, ensure_ascii=False)[1:-1])
            }
            for form in sorted(forms, key=len, reverse=True):
                line = line.replace(form, REDACTED)
        return line


def _list_setter(target: list[Any], index: int) -> Setter:
    def put(value: Any) -> None:
        target[index] = value

    return put


def _dict_setter(target: dict[Any, Any], key: Any) -> Setter:
    def put(value: Any) -> None:
        target[key] = value

    return put


def _replace_found(value: Any, found: list[str]) -> Any:
    """Remove collected secret values from every string of an already-redacted plain value."""
    stack: list[tuple[Any, Setter]] = []
    holder: list[Any] = [value]
    stack.append((value, _list_setter(holder, 0)))
    while stack:
        current, put = stack.pop()
        if isinstance(current, str):
            for secret in found:
                current = current.replace(secret, REDACTED)
            put(current)
        elif isinstance(current, dict):
            for key, item in current.items():
                stack.append((item, _dict_setter(current, key)))
        elif isinstance(current, list):
            for index, item in enumerate(current):
                stack.append((item, _list_setter(current, index)))
    return holder[0]


def redaction_processor(
    logger: object, method_name: str, event_dict: Mapping[str, Any]
) -> dict[str, Any]:
    """The whole redaction as a structlog processor (``(logger, method_name, event_dict)``).

    Every key and value of the event dict is redacted as :class:`Redactor` does for a record, and
    values found under secret names are removed from every string of the result. structlog is
    not needed to call it; it is the form the redaction takes when logging moves onto structlog.

    Args:
        logger: The wrapped logger (unused).
        method_name: The log method name (unused).
        event_dict: The event's fields.

    Returns:
        A new, JSON-safe event dict without secrets.
    """
    redactor = Redactor()
    result: dict[str, Any] = {}
    for key, value in event_dict.items():
        name = key if isinstance(key, str) else str(key)
        result[redactor.text(name)] = redactor.field(name, value)
    if redactor.found:
        found = sorted(redactor.found, key=len, reverse=True)
        result = _replace_found(result, found)
    return result
