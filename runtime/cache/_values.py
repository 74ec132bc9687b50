"""Checks and encodings of what callers hand the cache; all raise ``ValidationError``, none do I/O.

Every public cache method runs these before it sends anything, so a refused call writes nothing.
The cache's defaults and limits live here too, so that they import without pydantic (which is
loaded on first use: ``import runtime.cache`` stays fast).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from runtime import _bounds
from runtime.errors import ValidationError

if TYPE_CHECKING:
    import pydantic

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "DEFAULT_OPERATION_TIMEOUT_SECONDS",
    "DEFAULT_TTL_SECONDS",
    "MAX_TTL_SECONDS",
    "MAX_KEY_LENGTH",
    "MISS",
    "check_callable",
    "check_lock_bounds",
    "check_flag",
    "check_key",
    "check_seconds",
    "check_ttl",
    "decode_json",
    "decode_text",
    "encode_json",
    "encode_value",
    "model_name",
    "validator_for",
]

DEFAULT_KEY_PREFIX: Final = _bounds.CACHE_KEY_PREFIX
DEFAULT_TTL_SECONDS: Final = _bounds.CACHE_TTL_SECONDS
DEFAULT_OPERATION_TIMEOUT_SECONDS: Final = _bounds.REDIS_OPERATION_TIMEOUT_SECONDS
MAX_TTL_SECONDS: Final = _bounds.CACHE_MAX_TTL_SECONDS
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


def check_ttl(seconds: object, *, name: str, default: int | None) -> int:
    """Return a TTL in whole seconds (``default`` for ``None``; ``default=None``: required).

    Raises:
        ValidationError: ``code="invalid_ttl"``: not an ``int`` (``bool`` refused), outside
            1 s to 30 days, or ``None`` where it is required.
    """
    if seconds is None:
        if default is None:
            raise ValidationError(f"{name} must be a whole number of seconds", code="invalid_ttl")
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


def check_lock_bounds(
    lock_ttl_seconds: object, wait_timeout_seconds: object
) -> tuple[float, float]:
    """Return ``get_or_set``'s lock lifetime (0.1 to 600 s) and longest wait (0 to 3600 s).

    Raises:
        ValidationError: ``code="invalid_lock"``: either is not a finite number in its range.
    """
    lock_ttl = check_seconds(
        lock_ttl_seconds, name="lock_ttl_seconds", low=0.1, high=600, code="invalid_lock"
    )
    wait = check_seconds(
        wait_timeout_seconds, name="wait_timeout_seconds", low=0, high=3600, code="invalid_lock"
    )
    return lock_ttl, wait


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
    import pydantic_core

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
    import pydantic

    return pydantic.TypeAdapter(model)


def validator_for(model: Any) -> Callable[[bytes], Any] | None:
    """Return the JSON validator for ``model`` (``None``: plain JSON), built before any I/O.

    Raises:
        ValidationError: ``code="invalid_cache_model"``: Pydantic cannot validate into it.
    """
    if model is None:
        return None
    import pydantic
    import pydantic_core

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


def decode_text(key: str, data: bytes) -> str:
    """Decode a stored value as UTF-8.

    Raises:
        ValidationError: ``code="invalid_cache_value"``: the bytes are not UTF-8.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"cache key {key!r:.80} holds bytes that are not UTF-8; use get_bytes()",
            code="invalid_cache_value",
        ) from exc
