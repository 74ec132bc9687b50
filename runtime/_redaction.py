"""Secret redaction for log records: key names, structures, URLs, free text and known values.

With :mod:`runtime._redaction_walk` (the structure walk, :class:`~runtime._redaction_walk.Redactor`)
this is the single place that decides what a log line may show. Both work on plain values,
independent of how lines are rendered, so they sit under the stdlib formatter today and can move
into a structlog processor chain unchanged.

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
  output is bounded: deeper containers and items beyond a size bound are replaced by
  ``"[TRUNCATED]"`` (never printed).
* **Text** (every string leaf, the message, exception text, tracebacks) is scrubbed: registered
  secret values, key- and token-shaped substrings, ``user:password@`` in URLs, secret-named query
  parameters and ``name=value`` / ``name: value`` pairs whose name is secret-like.
* **Values seen under secret names** anywhere in a record are collected and removed from the
  whole line at the end (a ``repr`` or a message that repeats them is scrubbed too).
"""

from __future__ import annotations

import enum
import json
import re
import threading
import unicodedata
from functools import lru_cache
from typing import Final
from urllib.parse import unquote

REDACTED: Final = "[REDACTED]"
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
    if isinstance(name, enum.Enum):  # a str-valued Enum member too: its name and value both count
        return f"{name.name} {name.value}" if isinstance(name.value, str) else name.name
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
)
#: ``scheme://userinfo@`` up to the last ``@`` of the URL: a password may hold an unescaped ``/``
#: or ``@``, and a token may stand alone (``https://TOKEN@host``).
_URL_USERINFO: Final = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^\s\"'<>]*)@")


def _scrub_userinfo(match: re.Match[str]) -> str:
    scheme, info = match.group(1), match.group(2)
    if not info or info.startswith(REDACTED):
        return match.group(0)
    _, colon, rest = info.split("/", 1)[0].partition(":")
    if "/" in info and (not colon or rest.isdigit()):
        return match.group(0)  # the "@" is in the path (host[:port]/.../@...), not userinfo
    user, colon, _ = info.partition(":")
    if not colon:
        return f"{scheme}{REDACTED}@"  # a token used as the user name
    return f"{scheme}{user}:{REDACTED}@"


#: Query parameters that carry a credential although their name is not secret-like.
_SECRET_QUERY_NAMES: Final = frozenset(
    {"key", "sig", "signature", "code", "x_amz_credential", "x_amz_security_token"}
)
#: A query value ends at ``&``, ``#``, a blank or a quote (``;`` may be part of it, RFC 3986).
_QUERY_PARAM: Final = re.compile(r"([?&;])([^=&;#\s\"'?]+)=([^&#\s\"']*)")
#: ``name=value``, ``name: value``, ``"name": "value"``, ``'name': 'value'``, ``('name', 'value')``
#: ``('name',): 'v'`` (a tuple key) and ``--name value`` (a flag) in free text: the name and
#: separator; the value is read by :data:`_VALUE` only when the name is secret-like. Fullwidth
#: colon and equals signs (U+FF1A, U+FF1D) count as separators (NFKC folds them to ``:``, ``=``).
_SEP: Final = r"[:=\uff1a\uff1d]"
_KEY_SEP: Final = re.compile(
    r"""(?:(?P<q1>['"])(?P<qkey>[\w .\-]{1,80})(?P=q1)"""
    rf"""(?:[ \t]*,?[ \t]*\)[ \t]*:|[ \t]*{_SEP}|[ \t]*(?P<comma>,))"""
    rf"""|(?<![A-Za-z0-9_.\-])-{{0,2}}(?P<key>[A-Za-z_][A-Za-z0-9_.\-]*+)[ \t]*{_SEP}"""
    # A command-line flag and its value (``--password VALUE``).
    r"""|(?<!\S)--?(?P<flag>[A-Za-z][A-Za-z0-9_.\-]*+)(?=[ \t]+[^\s\-]))"""
    r"""[ \t]*"""
)
#: A character of an unquoted value: anything but whitespace; a quote only inside a word (a
#: closing quote is followed by punctuation or the end, a quote in a secret by more of it).
_BARE_CHAR: Final = r"""(?:[^\s'"]|['"](?=[^\W_]))"""
_VALUE: Final = re.compile(
    # A value on the next, indented line (YAML ``password:\n  value``).
    r"""(?:[ \t]*\r?\n[ \t]+)?"""
    # A quoted value runs to its closing quote; one never closed (a text cut short) to the end.
    r"""(?:(?P<q2>['"])(?P<quoted>(?:\\[\s\S]|(?!(?P=q2))[^\\])*+)(?:(?P=q2)|\Z)"""
    # An unquoted value runs over every character but line breaks (``,;)]}&`` included: they
    # may be part of the secret) and over blanks (a passphrase is one value) up to the next
    # ``name=`` / ``name:`` pair of the line. Trailing blanks are left out.
    r"""|(?P<scheme>(?i:bearer|basic|token|digest)[ \t]+)?"""
    rf"""(?P<bare>{_BARE_CHAR}(?:{_BARE_CHAR}"""
    rf"""|[ \t]++(?![A-Za-z_][A-Za-z0-9_.\-]*[ \t]*{_SEP}))*+))"""
)

#: ``'value': `` in the text of a name/value record (``{'Name': 'DB_PASSWORD', 'Value': ...}``).
_RECORD_VALUE_KEY: Final = re.compile(r"""(['"])(?i:[a-z]*value|val|data)\1[ \t]*:[ \t]*""")
#: ``'name': 'DB_PASSWORD'`` (or ``key``, ``ParameterName``...) in the same record.
_RECORD_NAME: Final = re.compile(
    r"""(['"])(?i:name|key|parameter_?name|parameter_?key|option_?name|header|field|variable)\1"""
    r"""[ \t]*:[ \t]*(['"])(?P<name>[^'"\n]{1,80})\2"""
)


_RECORD_REACH: Final = 1000


def _scrub_records(text: str) -> str:
    """Blank the value of every name/value record whose name is secret-like, in either order."""
    parts: list[str] = []
    done = 0
    for match in _RECORD_VALUE_KEY.finditer(text):
        # The record around it (bounded: a record's name is near its value).
        start = text.rfind("{", max(0, match.start() - _RECORD_REACH), match.start())
        end = text.find("}", match.end(), match.end() + _RECORD_REACH)
        if match.start() < done or start < 0 or end < 0:
            continue
        names = _RECORD_NAME.finditer(text, start, end)
        if not any(is_secret_name(name.group("name")) for name in names):
            continue
        value = _VALUE.match(text, match.end())
        if value is None or value.group("q2") is None:
            continue  # an unquoted value (a number, None) is no secret text
        parts.append(text[done : value.start("q2")] + f"{value.group('q2')}{REDACTED}")
        parts.append(value.group("q2"))
        done = value.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


#: What follows a closing quote directly, when it is part of the same value.
_QUOTED_TAIL: Final = re.compile(rf"(?=[^\W_]){_BARE_CHAR}++")

#: Every secret-like name contains one of these, lower-cased (ASCII text without any needs no
#: pair scan; case-insensitive alternation is slow in ``re``, so the text is lower-cased).
_NAME_HINT: Final = re.compile(
    r"pass|secret|token|key|auth|cred|cookie|jwt|sig|pwd|pw|sid|dsn|bearer|session|code"
)


def _scrub_query(match: re.Match[str]) -> str:
    name = unquote(match.group(2))
    if is_secret_name(name) or normalise_name(name) in _SECRET_QUERY_NAMES:
        return f"{match.group(1)}{match.group(2)}={REDACTED}"
    return match.group(0)


def _redacted_already(value: str) -> bool:
    """Whether an earlier rule (query, ``Bearer``, a known value) already blanked ``value``."""
    if not value.startswith(REDACTED):
        return not value
    rest = value[len(REDACTED) :]
    return not rest or not rest[0].isalnum()  # "[REDACTED]tail" is only partly blanked


def _scrub_key_values(text: str) -> str:
    """Blank the value after every secret-like ``name=`` or ``name:`` in ``text``."""
    parts: list[str] = []
    done = 0
    position = 0
    while (match := _KEY_SEP.search(text, position)) is not None:
        # A quoted text that names no secret may hold a pair itself: search on inside it.
        position = match.start("qkey") if match.group("qkey") else match.end()
        name = match.group("qkey") or match.group("key") or match.group("flag")
        if match.start() < done or not is_secret_name(name):
            continue
        value = _VALUE.match(text, match.end())
        if value is None:
            continue
        quote = value.group("q2")
        shown = value.group("quoted") if quote else value.group("bare")
        if shown is None or _redacted_already(shown):
            continue
        if match.group("comma") and text[value.end() :].lstrip(" \t").startswith(":"):
            continue  # ``'password', 'n': 1``: the next item is a key, not the value
        position = value.end()
        if quote:
            parts.append(text[done : value.start("q2")] + f"{quote}{REDACTED}{quote}")
            done = value.end()
            tail = _QUOTED_TAIL.match(text, done)  # ``"ab"cd``: the value goes on after the quote
            if tail is not None:
                parts.append(REDACTED)
                done = position = tail.end()
        else:
            parts.append(text[done : value.start("bare")] + REDACTED)
            done = value.start("bare") + len(value.group("bare").rstrip())
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def scrub_text(text: str) -> str:
    """Remove secrets from free text.

    Registered secret values, key- and token-shaped substrings, URL passwords, secret-named query
    parameters and ``name=value`` pairs with a secret-like name become ``[REDACTED]``. Short
    texts (field names, levels, stages repeat on every line) go through a bounded cache keyed by
    the registered values in force.

    Args:
        text: Any text (a message, an exception message, a traceback, a serialised line).

    Returns:
        The text without secrets.
    """
    pattern = _secrets_pattern
    if len(text) <= _CACHED_TEXT_CHARS:
        return _scrub_cached(text, pattern)
    return _scrub(text, pattern)


#: Texts up to this length are scrubbed through :func:`_scrub_cached`.
_CACHED_TEXT_CHARS: Final = 64


@lru_cache(maxsize=4096)
def _scrub_cached(text: str, pattern: re.Pattern[str] | None) -> str:
    return _scrub(text, pattern)


def _scrub(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    for regex, replacement in _SHAPES:
        text = regex.sub(replacement, text)
    if "@" in text:
        text = _URL_USERINFO.sub(_scrub_userinfo, text)
    if not text.isascii() or (
        ("=" in text or ":" in text or "," in text or "-" in text)
        and _NAME_HINT.search(text.lower())
    ):
        text = _QUERY_PARAM.sub(_scrub_query, text)
        if "'" in text or '"' in text:
            text = _scrub_records(text)
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
    if "@" in text:
        text = _URL_USERINFO.sub(_scrub_userinfo, text)
    return text
