"""Checks and encodings of what callers hand the cache; all raise ``ValidationError``, none do I/O.

Every public cache method runs these before it sends anything, so a refused call writes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final

import pydantic
import pydantic_core

from runtime.cache._options import MAX_TTL_SECONDS
from runtime.errors import ValidationError

__all__ = [
    "MAX_KEY_LENGTH",
    "MISS",
    "check_callable",
    "check_flag",
    "check_key",
    "check_seconds",
    "check_ttl",
    "decode_json",
    "encode_json",
    "encode_value",
    "model_name",
    "validator_for",
]

MAX_KEY_LENGTH: Final = 1024
RESERVED_KEY_START: Final = "__"
MISS: Final = object()
"""A lookup found nothing usable (absent, or stored data that no longer decodes)."""


def check_key(key: object) -> str:
    """Return ``key`` if it is a usable cache key.

    Args:
        key: The caller's key.

    Returns:
        The key.

    Raises:
        ValidationError: ``code="invalid_cache_key"``: not a string, empty, longer than
            :data:`MAX_KEY_LENGTH`, starting with the reserved ``__``, or not encodable as UTF-8
            (a lone surrogate).
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            f"cache key must be a non-empty string of at most {MAX_KEY_LENGTH} characters, "
            f"got {key!r:.80}",
            code="invalid_cache_key",
        )
    if key.startswith(RESERVED_KEY_START):
        raise ValidationError(
            f"cache keys starting with {RESERVED_KEY_START!r} are reserved, got {key!r:.80}",
            code="invalid_cache_key",
        )
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"cache key {key!r:.80} is not encodable as UTF-8 ({exc.reason})",
            code="invalid_cache_key",
        ) from exc
    return key


def check_ttl(seconds: object, *, name: str, default: int) -> int:
    """Return a TTL in whole seconds (``default`` for ``None``).

    Raises:
        ValidationError: ``code="invalid_ttl"``: not an ``int`` (``bool`` refused) or outside
            1 s to 30 days.
    """
    if seconds is None:
        return default
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValidationError(
            f"{name} must be a whole number of seconds, got {seconds!r:.80}", code="invalid_ttl"
        )
    if not 1 <= seconds <= MAX_TTL_SECONDS:
        raise ValidationError(
            f"{name} must be between 1 and {MAX_TTL_SECONDS} seconds, got {seconds}",
            code="invalid_ttl",
        )
    return seconds


def check_seconds(value: object, *, name: str, low: float, high: float, code: str) -> float:
    """Return a duration argument that is a finite number in ``[low, high]``.

    Raises:
        ValidationError: With ``code``: ``None``, a string, a ``bool``, NaN, infinite or out of
            range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number of seconds, got {value!r:.80}", code=code)
    if not (math.isfinite(value) and low <= value <= high):
        raise ValidationError(f"{name} must be in [{low:g}, {high:g}], got {value!r}", code=code)
    return float(value)


def check_flag(value: object, *, name: str) -> bool:
    """Return ``value`` if it is a ``bool``.

    Raises:
        ValidationError: ``code="invalid_cache_option"``.
    """
    if not isinstance(value, bool):
        raise ValidationError(
            f"{name} must be True or False, got {value!r:.80}", code="invalid_cache_option"
        )
    return value


def check_callable(value: object, *, name: str) -> None:
    """Refuse a ``compute`` that cannot be called.

    Raises:
        ValidationError: ``code="invalid_cache_option"``.
    """
    if not callable(value):
        raise ValidationError(
            f"{name} must be an async callable, got {type(value).__name__}",
            code="invalid_cache_option",
        )


def _check_size(data: bytes, key: str, limit: int) -> bytes:
    if len(data) > limit:
        raise ValidationError(
            f"value for cache key {key!r:.80} is {len(data)} bytes; the limit is {limit}",
            code="cache_value_too_large",
        )
    return data


def encode_value(key: str, value: object, *, limit: int) -> bytes:
    """Encode a :meth:`~runtime.cache.RedisCache.set` value.

    Raises:
        ValidationError: Not ``str``/``bytes``/``int``/``float`` (``bool`` refused), text that
            is not encodable as UTF-8, or more than ``limit`` bytes.
    """
    data: bytes
    if isinstance(value, str):
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"value for cache key {key!r:.80} is not encodable as UTF-8 ({exc.reason})",
                code="invalid_cache_value",
            ) from exc
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        data = repr(value).encode("ascii")
    else:
        raise ValidationError(
            f"set() stores str, bytes, int or float, got {type(value).__name__}; "
            "use set_json() for other values",
            code="invalid_cache_value",
        )
    return _check_size(data, key, limit)


def _may_hide_non_finite(data: bytes) -> bool:
    """Whether JSON bytes hold a NaN/Infinity token or a null (a model's NaN); fast memchr first."""
    return (
        (b"N" in data and b"NaN" in data)
        or (b"I" in data and b"Infinity" in data)
        or b"null" in data
    )


def _has_non_finite_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return False


def encode_json(key: str, value: object, *, limit: int) -> bytes:
    """Serialise a :meth:`~runtime.cache.RedisCache.set_json` value to JSON bytes.

    Raises:
        ValidationError: ``None`` (it would read back as a miss), a value Pydantic cannot
            serialise, a NaN or infinite float anywhere in it (not JSON; Pydantic models would
            silently write ``null``), or more than ``limit`` bytes.
    """
    if value is None:
        raise ValidationError(
            "None cannot be cached: it would read back as a miss", code="invalid_cache_value"
        )
    try:
        data = pydantic_core.to_json(value)  # NaN and Infinity come out as tokens
        # A NaN/Infinity token, or a null a model wrote for one: look at the floats themselves.
        if _may_hide_non_finite(data) and _has_non_finite_float(
            pydantic_core.to_jsonable_python(value)
        ):
            raise ValidationError(
                f"value for cache key {key!r:.80} holds NaN or Infinity, which is not JSON",
                code="invalid_cache_value",
            )
    except (pydantic_core.PydanticSerializationError, RecursionError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(
            f"value for cache key {key!r:.80} is not JSON-serialisable: {exc}"[:500],
            code="invalid_cache_value",
        ) from exc
    return _check_size(data, key, limit)


@lru_cache(maxsize=256)
def _adapter(model: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(model)


def validator_for(model: Any) -> Callable[[bytes], Any] | None:
    """Return the JSON validator for ``model`` (``None``: plain JSON), built before any I/O.

    Raises:
        ValidationError: ``code="invalid_cache_model"``: Pydantic cannot validate into it.
    """
    if model is None:
        return None
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return model.model_validate_json
    try:
        try:
            adapter = _adapter(model)
        except TypeError:  # an unhashable type expression: build the adapter each time
            adapter = pydantic.TypeAdapter(model)
    except (pydantic.PydanticUserError, pydantic_core.SchemaError, TypeError, ValueError) as exc:
        raise ValidationError(
            f"model {model!r:.80} is not a type Pydantic can validate into: {exc}"[:500],
            code="invalid_cache_model",
        ) from exc
    return adapter.validate_json


def model_name(model: Any) -> str:
    """A short name for ``model`` in log lines."""
    return "JSON" if model is None else getattr(model, "__name__", None) or repr(model)


def decode_json(data: bytes, validate: Callable[[bytes], Any] | None) -> Any:
    """Decode stored JSON, validated when ``validate`` is given.

    Raises:
        ValueError: Not JSON, or (``pydantic.ValidationError``) it does not validate.
    """
    return json.loads(data) if validate is None else validate(data)
