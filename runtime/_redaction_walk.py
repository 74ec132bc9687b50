"""The structure walk of log redaction: any value to JSON-safe values with secrets replaced.

:class:`Redactor` walks iteratively (an explicit stack, no recursion) through mappings, lists,
tuples, sets, pydantic models (field by field), dataclasses (field by field) and objects with
attributes (``__dict__`` and ``__slots__``), with the containers on the current path remembered
so cycles end as ``"[circular]"``. A value under a secret-like name (:func:`is_secret_name`)
becomes ``[REDACTED]`` and is remembered so :func:`redaction_processor` removes it from the
whole event. Every string is scrubbed (:func:`scrub_text`). Output is bounded: containers nested
deeper than :data:`MAX_DEPTH` and values beyond :data:`MAX_NODES` become ``"[TRUNCATED]"``, never
their content.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from collections import deque
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from itertools import islice
from pathlib import PurePath
from typing import Any, Final
from uuid import UUID

from runtime._redaction import (
    MIN_SECRET_LENGTH,
    REDACTED,
    is_secret_name,
    scrub_text,
)

CIRCULAR: Final = "[circular]"
TRUNCATED: Final = "[TRUNCATED]"
#: Containers nested deeper than this are shown as ``[TRUNCATED]``.
MAX_DEPTH: Final = 200
#: At most this many values (containers and leaves) are rendered per logged value.
MAX_NODES: Final = 10_000
MAX_REPR_CHARS: Final = 2000
#: A ``repr`` is scrubbed up to this many characters, then cut to :data:`MAX_REPR_CHARS`.
MAX_SCRUB_CHARS: Final = 64 * 1024
#: Keys of a name/value record (``{"name": "DB_PASSWORD", "value": ...}``), compact lower-case.
_RECORD_NAME_KEYS: Final = frozenset(
    form
    for base in ("name", "key", "header", "field", "variable", "parameter_name", "parameter_key")
    for words in [base.split("_")]
    for form in (
        "_".join(words),
        "_".join(words).upper(),
        "".join(w.capitalize() for w in words),
        words[0] + "".join(w.capitalize() for w in words[1:]),
    )
)
#: A record of more items than this is not read as a name/value record.
_RECORD_MAX_ITEMS: Final = 8
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


#: Where the event dict of :func:`redaction_processor` may carry the :class:`Redactor` an earlier
#: processor used (for ``%`` arguments), so what it found leaves the whole event too.
REDACTOR_KEY: Final = "_redactor"
_ATOMS: Final = (bool, int, type(None))
Setter = Callable[[Any], None]
_pydantic_types: tuple[type[Any], type[Any], type[Any]] | None = None


def _pydantic() -> tuple[type[Any], type[Any], type[Any]] | None:
    """Return ``BaseModel``, ``SecretStr``, ``SecretBytes`` once something imported pydantic.

    No model or secret can exist before pydantic is imported, so importing it here would only
    make ``import runtime.logging`` slower (about 50 ms).
    """
    global _pydantic_types
    if _pydantic_types is None:
        module = sys.modules.get("pydantic")
        if module is None:
            return None
        _pydantic_types = (module.BaseModel, module.SecretStr, module.SecretBytes)
    return _pydantic_types


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
    pydantic = _pydantic()
    if pydantic is not None and isinstance(value, pydantic[0]):
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
    """The ``repr`` of ``value``, scrubbed, then cut to :data:`MAX_REPR_CHARS` characters.

    Scrubbing comes first (on at most :data:`MAX_SCRUB_CHARS`), so a cut never separates a
    secret from the name or the closing quote that marks it.

    Args:
        value: Anything.

    Returns:
        The scrubbed text, or ``<unrepresentable TYPE>`` when ``repr`` raises.
    """
    try:
        text = repr(value)
    except Exception:
        return f"<unrepresentable {type(value).__name__}>"
    return scrub_text(text[:MAX_SCRUB_CHARS])[:MAX_REPR_CHARS]


def _is_secret_key(key: Any, shown: object) -> bool:
    """Whether a mapping key names a secret; a tuple or object key by any word of its text."""
    if isinstance(key, str | bytes | bytearray | Enum):
        return is_secret_name(key)
    if isinstance(key, int | float | type(None)):
        return False
    if isinstance(key, tuple | frozenset) and any(
        isinstance(part, str | bytes) and is_secret_name(part) for part in islice(key, 16)
    ):
        return True  # ("db", "api key")
    return any(is_secret_name(word) for word in _WORD.findall(str(shown)))


def record_value_keys(pairs: list[tuple[Any, Any]]) -> set[Any] | None:
    """The value keys of a name/value record naming a secret (``{"Name": "DB_PASSWORD", ...}``)."""
    if len(pairs) > _RECORD_MAX_ITEMS:
        return None
    for key, item in pairs:
        if key.__class__ is str and key in _RECORD_NAME_KEYS and is_secret_name(item):
            return {k for k, _ in pairs if isinstance(k, str) and k.lower().endswith("value")}
    return None


def _hidden_items(items: list[Any]) -> set[int] | None:
    """Indexes of the items a secret name names: ``("password", S)``, ``[..., "--password", S]``."""
    if len(items) == 2:
        first = items[0]
        secret = isinstance(first, str | bytes) and len(first) <= 80 and is_secret_name(first)
        return {1} if secret else None
    hidden: set[int] | None = None
    for index, item in enumerate(items[:-1]):
        if item.__class__ is str and item[:1] == "-" and is_secret_name(item):
            hidden = {index + 1} if hidden is None else hidden | {index + 1}
    return hidden


class Redactor:
    """Turn one record's values into JSON-safe values with every secret replaced.

    One instance per record: it remembers the secret values it met under secret names so
    :func:`redaction_processor` can remove them from the whole event.
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
        pydantic = _pydantic()
        if pydantic is not None and isinstance(value, pydantic[1:]):
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
        pairs: list[tuple[Any, Any]] | None = None
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
            hidden = None if isinstance(current, set | frozenset) else _hidden_items(items)
            for index in range(len(items) - 1, -1, -1):
                if hidden is not None and index in hidden and items[index] is not None:
                    out_list[index] = self._hide(items[index])
                else:
                    stack.append(("enter", items[index], _list_setter(out_list, index), depth + 1))
            return
        else:
            pairs = _attributes(current)
            if pairs is None:
                put(safe_repr(current))
                return
        out: dict[Any, Any] = {}
        put(out)
        on_path.add(id(current))
        stack.append(("leave", id(current)))
        children: list[tuple[Any, Setter]] = []
        record_values = record_value_keys(pairs)
        for key, item in pairs:
            out_key = self._key(key)
            if item is not None and (
                (is_secret_name(key) if isinstance(key, str) else _is_secret_key(key, out_key))
                or (record_values is not None and key in record_values)
            ):
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
        return str(rendered) if done else safe_repr(key)

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


def _list_setter(target: list[Any], index: int) -> Setter:
    def put(value: Any) -> None:
        target[index] = value

    return put


def _dict_setter(target: dict[Any, Any], key: Any) -> Setter:
    def put(value: Any) -> None:
        target[key] = value

    return put


def _replace_found(value: Any, found: list[str]) -> Any:
    """Remove collected secret values from every string and key of a redacted plain value."""

    def clean(text: str) -> str:
        for secret in found:
            text = text.replace(secret, REDACTED)
        return text

    holder: list[Any] = [value]
    stack: list[tuple[Any, Setter]] = [(value, _list_setter(holder, 0))]
    while stack:
        current, put = stack.pop()
        if isinstance(current, str):
            put(clean(current))
        elif isinstance(current, dict):
            cleaned = {clean(k) if isinstance(k, str) else k: v for k, v in current.items()}
            put(cleaned)
            stack.extend((item, _dict_setter(cleaned, key)) for key, item in cleaned.items())
        elif isinstance(current, list):
            stack.extend((item, _list_setter(current, i)) for i, item in enumerate(current))
    return holder[0]


def redaction_processor(
    logger: object, method_name: str, event_dict: Mapping[str, Any]
) -> dict[str, Any]:
    """The whole redaction as a structlog processor (``(logger, method_name, event_dict)``).

    Every key and value of the event dict is redacted (structures walked, secret names blanked,
    text scrubbed), and values found under secret names are removed from every string and key
    of the result. An earlier processor may hand over the :class:`Redactor` it used under
    :data:`REDACTOR_KEY` (it is not rendered). :class:`runtime.logging.JsonFormatter` runs it on
    every line; it needs no structlog configuration to be called.

    Args:
        logger: The wrapped logger (unused).
        method_name: The log method name (unused).
        event_dict: The event's fields.

    Returns:
        A new, JSON-safe event dict without secrets.
    """
    handed = event_dict.get(REDACTOR_KEY)
    redactor = handed if isinstance(handed, Redactor) else Redactor()
    result: dict[str, Any] = {}
    for key, value in event_dict.items():
        if key == REDACTOR_KEY:
            continue
        name = key if isinstance(key, str) else str(key)
        result[redactor.text(name)] = redactor.field(name, value)
    if redactor.found:
        found = sorted(redactor.found, key=len, reverse=True)
        result = _replace_found(result, found)
    return result
