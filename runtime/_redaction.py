"""Secret redaction for log records: key names, structures, URLs, free text and known values.

This module is the single place that decides what a log line may show. It is written as a
processor-like function over plain values (:class:`Redactor`), independent of how lines are
rendered, so it can sit under the stdlib formatter today or inside a structlog processor chain.

Rules, applied by construction rather than by enumerating shapes:

* **Key names** are normalised before matching (:func:`is_secret_name`): bytes are decoded,
  Unicode is NFKC-folded and lower-cased, camelCase and PascalCase are split, every run of
  separators (``-``, ``.``, space, ``_``...) becomes one ``_``. The compact form is then matched
  against secret words (``password``, ``secret``, ``credential``, ``apikey``, ``privatekey``...)
  and secret endings (``...token``, ``...auth``, ``...accesskey``...), so ``accessToken``,
  ``CLIENT-SECRET``, ``db.password``, ``b"password"`` and ``x-api-key`` all match, while
  ``max_tokens``, ``token_count`` and ``cache_key`` do not.
* **Structures** are walked iteratively (no recursion, no depth at which secrets start to pass
  through): mappings, lists, tuples, sets, pydantic models (field by field), dataclasses (field
  by field), objects with attributes (``__dict__`` and ``__slots__``), with a visited set so
  cycles end as ``"[circular]"``. Values under a secret-named key become ``[REDACTED]``. The
  output is bounded: containers nested deeper than :data:`MAX_DEPTH` and items beyond
  :data:`MAX_NODES` per value are replaced by ``"[TRUNCATED]"`` (never printed).
* **Text** (every string leaf, the message, exception text, tracebacks) is scrubbed: registered
  secret values, key- and token-shaped substrings, ``user:password@`` in URLs, secret-named query
  parameters and ``name=value`` / ``name: value`` pairs whose name is secret-like.
* **Values seen under secret names** anywhere in a record are collected and removed from the
  whole line at the end (a ``repr`` or a message that repeats them is scrubbed too).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import threading
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from pathlib import PurePath
from typing import Any, Final
from urllib.parse import unquote
from uuid import UUID

import pydantic

REDACTED: Final = "[REDACTED]"
CIRCULAR: Final = "[circular]"
TRUNCATED: Final = "[TRUNCATED]"
#: Containers nested deeper than this are shown as ``[TRUNCATED]``.
MAX_DEPTH: Final = 200
#: At most this many values (containers and leaves) are rendered per logged value.
MAX_NODES: Final = 10_000
MAX_REPR_CHARS: Final = 2000
MIN_SECRET_LENGTH: Final = 6
MAX_REGISTERED_SECRETS: Final = 256

# ---------------------------------------------------------------------------------------------
# Key names
# ---------------------------------------------------------------------------------------------

#: A compact (separator-free, lower-case) name containing one of these is a secret.
_SECRET_WORDS: Final = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "credential",
    "privatekey",
    "apikey",
    "authorization",
    "cookie",
    "jwt",
    "bearer",
)
#: A compact name ending with one of these is a secret (``accesstoken``, ``dbpwd``...).
_SECRET_ENDINGS: Final = (
    "token",
    "pwd",
    "auth",
    "accesskey",
    "servicekey",
    "anonkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "sessionkey",
    "authkey",
    "openaikey",
    "supabasekey",
    "replicatekey",
    "signature",
    "sessionid",
    "rolekey",
)
#: Exact compact names that are secrets (short ones that would match too much as endings).
_SECRET_EXACT: Final = frozenset({"sig", "pass", "pw", "sid", "dsn"})
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS: Final = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=4096)
def normalise_name(name: str) -> str:
    """Return ``name`` as lower-case words joined by ``_`` (``dbPassword`` -> ``db_password``).

    Args:
        name: A key, field or attribute name.

    Returns:
        The normalised name.
    """
    text = unicodedata.normalize("NFKC", name)
    text = _CAMEL_BOUNDARY.sub("_", text).casefold()
    return _SEPARATORS.sub("_", text).strip("_")


def _key_text(name: object) -> str | None:
    if isinstance(name, str):
        return name
    if isinstance(name, bytes | bytearray):
        return bytes(name).decode("utf-8", errors="replace")
    return None


def is_secret_name(name: object) -> bool:
    """Whether a key, field, attribute or parameter name says that it holds a secret.

    Args:
        name: The name (``str`` or ``bytes``; anything else is never a secret name).

    Returns:
        ``True`` for ``password``, ``accessToken``, ``X-Api-Key``, ``b"client_secret"``...
    """
    text = _key_text(name)
    if text is None:
        return False
    return _is_secret_text(text)


@lru_cache(maxsize=4096)
def _is_secret_text(text: str) -> bool:
    compact = normalise_name(text).replace("_", "")
    if not compact:
        return False
    if compact in _SECRET_EXACT:
        return True
    return any(word in compact for word in _SECRET_WORDS) or compact.endswith(_SECRET_ENDINGS)


# ---------------------------------------------------------------------------------------------
# Registered (known) secret values
# ---------------------------------------------------------------------------------------------

_secrets_lock = threading.Lock()
_secrets: dict[str, None] = {}
_pinned_secrets: set[str] = set()
_secrets_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None, *, pinned: bool = False) -> None:
    """Make every later log line replace ``value`` with ``[REDACTED]``.

    Values shorter than six characters are ignored (they would blank out ordinary words).
    Unpinned values are bounded: beyond the most recent 256 the oldest is forgotten; pinned
    values are never forgotten.

    Args:
        value: The secret text; ``None`` or empty is ignored.
        pinned: Keep the value for the life of the process whatever else is registered.
    """
    global _secrets_pattern
    if not value or len(value) < MIN_SECRET_LENGTH:
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
        while len(_secrets) > MAX_REGISTERED_SECRETS:
            del _secrets[next(iter(_secrets))]
        if changed:
            ordered = sorted({*_secrets, *_pinned_secrets}, key=len, reverse=True)
            _secrets_pattern = re.compile("|".join(re.escape(s) for s in ordered))


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------

_SHAPES: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
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
)
#: Query parameters that carry a credential although their name is not secret-like.
_SECRET_QUERY_NAMES: Final = frozenset(
    {"key", "sig", "signature", "code", "x_amz_credential", "x_amz_security_token"}
)
_QUERY_PARAM: Final = re.compile(r"([?&;])([^=&;#\s\"'?]+)=([^&;#\s\"']*)")
#: ``name=value``, ``name: value``, ``"name": "value"``, ``'name': 'value'`` in free text: the
#: name and separator; the value is read by :data:`_VALUE` only when the name is secret-like.
_KEY_SEP: Final = re.compile(
    r"""(?:(?P<q1>['"])(?P<qkey>[^'"\n]{1,80})(?P=q1)|(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*))"""
    r"""[ \t]*[:=][ \t]*"""
)
_VALUE: Final = re.compile(
    r"""(?P<q2>['"])(?P<quoted>(?:\\.|(?!(?P=q2)).)*)(?P=q2)"""
    r"""|(?P<scheme>(?i:bearer|basic|token|digest)[ \t]+)?(?P<bare>\[REDACTED\]|[^\s,;&'"}\])]+)"""
)


def _scrub_query(match: re.Match[str]) -> str:
    name = unquote(match.group(2))
    if is_secret_name(name) or normalise_name(name) in _SECRET_QUERY_NAMES:
        return f"{match.group(1)}{match.group(2)}={REDACTED}"
    return match.group(0)


def _scrub_key_values(text: str) -> str:
    """Blank the value after every secret-like ``name=`` or ``name:`` in ``text``."""
    parts: list[str] = []
    done = 0
    for match in _KEY_SEP.finditer(text):
        if match.start() < done or not is_secret_name(match.group("qkey") or match.group("key")):
            continue
        value = _VALUE.match(text, match.end())
        if value is None:
            continue
        shown = value.group("quoted") if value.group("q2") else value.group("bare")
        if shown is None or shown.startswith(REDACTED):
            continue
        parts.append(text[done : match.end()])
        if value.group("q2"):
            parts.append(f"{value.group('q2')}{REDACTED}{value.group('q2')}")
        else:
            parts.append((value.group("scheme") or "") + REDACTED)
        done = value.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def scrub_text(text: str) -> str:
    """Remove secrets from free text.

    Registered secret values, key- and token-shaped substrings, URL passwords, secret-named query
    parameters and ``name=value`` pairs with a secret-like name become ``[REDACTED]``.

    Args:
        text: Any text (a message, an exception message, a traceback, a serialised line).

    Returns:
        The text without secrets.
    """
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _SHAPES:
        text = regex.sub(replacement, text)
    if "=" in text:
        text = _QUERY_PARAM.sub(_scrub_query, text)
    if "=" in text or ":" in text:
        text = _scrub_key_values(text)
    return text


def redact_known(text: str) -> str:
    """Replace registered secret values and key-shaped substrings only (cheap; for whole lines).

    Args:
        text: Any text.

    Returns:
        ``text`` with registered values and key-, token- or password-shaped substrings replaced.
    """
    pattern = _secrets_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _SHAPES:
        text = regex.sub(replacement, text)
    return text


# ---------------------------------------------------------------------------------------------
# Structures
# ---------------------------------------------------------------------------------------------

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


def _safe_repr(value: Any) -> str:
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
        if isinstance(current, Mapping):
            try:
                pairs = list(current.items())
            except Exception:
                put(f"<unreadable {type(current).__name__}>")
                return
        elif isinstance(current, list | tuple | set | frozenset | deque):
            items = list(current)
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
                put(self.text(_safe_repr(current)))
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
        return str(rendered) if done else self.text(_safe_repr(key))

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
