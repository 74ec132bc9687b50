"""What both database paths share: values in, exact money out, checked names, one convention.

Both paths send arguments through :func:`to_json_value` and decode results with
:func:`loads_exact`, so a SQL function sees the same input and its caller the same output over
PostgREST (:mod:`runtime.db._postgrest`) and over a direct connection
(:mod:`runtime.db._postgres`). No backend library is imported here.
"""

from __future__ import annotations

import enum
import functools
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final, Protocol
from uuid import UUID

from pydantic import BaseModel

from runtime._bounds import DB_MAX_CONNECTIONS
from runtime.errors import ValidationError

__all__ = [
    "MAX_CONNECTIONS",
    "FunctionCaller",
    "check_identifier",
    "check_params",
    "loads_exact",
    "money_fields",
    "to_json_value",
]

MAX_CONNECTIONS: Final = DB_MAX_CONNECTIONS
"""The most connections either database path may open (PRD: "max 10 connections"); the upper
bound of ``max_connections`` on both paths and of ``DB_POOL_MAX_CONNECTIONS``."""

#: The cost functions' money arguments (written by hand with the functions in sql/handwritten/).
_MONEY_ARGUMENTS: Final = frozenset({"p_cost", "p_amount", "p_limit", "p_actual_cost"})


@functools.cache
def money_fields() -> frozenset[str]:
    """Every property the contracts type as ``Money``, and the cost functions' money arguments.

    Read from the generated models (so from the schemas' ``x-python-type``: nothing to keep by
    hand when a money column is added or renamed), on first use: importing a client does not
    import :mod:`generated`.

    Returns:
        The keys whose values are money: :func:`to_json_value` refuses a ``float`` for them and
        :func:`loads_exact` reads a whole number under them as ``Decimal``.
    """
    import generated
    from generated import _types

    def is_money(field: Any) -> bool:
        stack: list[Any] = [*field.metadata, field.annotation]
        while stack:
            item = stack.pop()
            if getattr(item, "func", None) is _types._validate_money:
                return True
            stack.extend(getattr(item, "__metadata__", ()))
            stack.extend(typing.get_args(item))
        return False

    names: set[str] = set()
    for name in generated.__all__:
        model = getattr(generated, name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(f for f, info in model.model_fields.items() if is_money(info))
    return frozenset(names) | _MONEY_ARGUMENTS


def _money_ints_as_decimal(obj: dict[str, Any]) -> dict[str, Any]:
    for key in money_fields().intersection(obj):  # the scan over the keys runs in C
        value = obj[key]
        if type(value) is int:  # not bool: type() is exact
            obj[key] = Decimal(value)
    return obj


# One decoder for every call: json.loads builds a new one per call when given hooks.
_DECODER: Final = json.JSONDecoder(parse_float=Decimal, object_hook=_money_ints_as_decimal)


def loads_exact(data: str | bytes) -> Any:
    """``json.loads`` that reads money exactly.

    Numbers with a fraction or exponent become :class:`~decimal.Decimal` (``0.060000``), and so
    does a whole number under a money key (:func:`money_fields`: a ``numeric`` column holding
    ``20`` is sent as ``20``); other integers stay ``int``. Used for PostgREST response bodies and,
    on the direct path, for json/jsonb results, so money read through either path is exact and
    validates into the generated models.

    Args:
        data: JSON text.

    Returns:
        The decoded value.

    Raises:
        ValueError: Not JSON.
    """
    if isinstance(data, bytes | bytearray):  # as json.loads reads bytes
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    return _DECODER.decode(data)


_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def check_identifier(value: object, what: str) -> str:
    """Return ``value`` if it is a plain SQL identifier, else raise ``ValidationError``.

    Args:
        value: A function or parameter name.
        what: What it names, for the message.

    Returns:
        The name.

    Raises:
        ValidationError: Not a string of ASCII letters, digits and ``_`` starting with a letter
            or ``_``, at most 63 characters (PostgreSQL's limit).
    """
    if not isinstance(value, str) or _IDENTIFIER.fullmatch(value) is None:
        raise ValidationError(
            f"{what} must be an identifier (letters, digits, _; at most 63), got {value!r}"
        )
    return value


def check_params(name: object, params: object) -> dict[str, Any]:
    """Check a SQL function call's name and parameter names before anything is sent.

    Args:
        name: The function's name.
        params: Its named arguments (a mapping) or ``None``.

    Returns:
        The arguments as a new ``dict``.

    Raises:
        ValidationError: A name or parameter name that is not an identifier, or ``params`` that
            is not a mapping.
    """
    check_identifier(name, "function name")
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ValidationError(f"params must be a mapping, got {type(params).__name__}")
    arguments = dict(params)
    for key in arguments:
        check_identifier(key, "parameter name")
    return arguments


def _text(value: str) -> str:
    """Return ``value`` if PostgreSQL can store it (no NUL, valid UTF-8), else raise."""
    if "\x00" in value:
        raise ValidationError("cannot send text holding a NUL character to the database")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"cannot send text holding a lone surrogate ({exc.object[exc.start]!r}) to the "
                "database: not valid Unicode"
            ) from None
    return value


def to_json_value(value: Any) -> Any:
    """Convert a Python value into the JSON value sent to the database.

    Both database paths send arguments this way, so a SQL function sees the same input whether
    it is called over PostgREST or over a direct connection.

    Args:
        value: ``None``, ``bool``, ``int``, finite ``float``, ``str``, ``Decimal`` (sent as its
            exact decimal string), ``UUID`` (its canonical string), ``datetime``/``date``/``time``
            (ISO 8601), an ``Enum`` (its value), a Pydantic model (its JSON dump), or a mapping
            with string keys or a list/tuple of these. A mapping's money fields
            (:func:`money_fields`: ``total_cost``, ``cost``, ``p_amount``...) take ``Decimal``,
            ``int`` or a decimal string, never a ``float``.

    Returns:
        A value made of ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` and ``None``.

    Raises:
        ValidationError: The value (or something inside it) cannot be sent exactly: NaN or
            infinity, a float for a money field, a non-string mapping key, text holding NUL or a
            lone surrogate, an unsupported type, or nesting too deep (or cyclic) to send.
    """
    try:
        return _convert(value)
    except RecursionError:
        raise ValidationError(
            "cannot send this value to the database: it is nested too deeply (or cyclic)"
        ) from None


def _same(value: Any) -> Any:
    return value


def _float(value: float) -> float:
    if not math.isfinite(value):
        raise ValidationError(f"cannot send {value!r} to the database: not a finite number")
    return value


def _decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValidationError(f"cannot send Decimal({value}) to the database: not finite")
    return str(value)


def _convert(value: Any) -> Any:
    exact = _BY_TYPE.get(type(value))  # the common types in one lookup; subclasses below
    if exact is not None:
        return exact(value)
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return _convert(value.value)
    if isinstance(value, BaseModel):
        return _convert(value.model_dump(mode="json"))  # its text is checked too
    if isinstance(value, Mapping):
        return _convert_mapping(value)
    if isinstance(value, list | tuple):
        return _convert_list(value)
    raise ValidationError(f"cannot send a {type(value).__name__} to the database as JSON")


def _convert_mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    money = money_fields()
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValidationError(
                f"cannot send a mapping with a {type(key).__name__} key to the database; "
                "keys must be strings"
            )
        _text(key)
        if isinstance(item, float) and key in money:
            raise ValidationError(
                f"{key} is money and must be exact: send Decimal({str(item)!r}) (or a "
                f"decimal string), not the float {item!r}"
            )
        result[key] = _convert(item)
    return result


def _convert_list(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [_convert(item) for item in value]


_BY_TYPE: Final[dict[type, Callable[[Any], Any]]] = {
    str: _text,
    int: _same,
    bool: _same,
    type(None): _same,
    float: _float,
    Decimal: _decimal,
    UUID: str,
    dict: _convert_mapping,
    list: _convert_list,
}


class FunctionCaller(Protocol):
    """Something that calls our SQL functions: ``Database`` (PostgREST) or ``PostgresDatabase``."""

    async def call_function(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = False,
        job_id: UUID | None = None,
    ) -> Any:
        """Call ``public.<name>`` with named arguments and return its result as JSON.

        Args:
            name: The function's name in schema ``public``.
            params: Named arguments (``{"p_job_id": ...}``), converted by :func:`to_json_value`.
            idempotent: Whether calling twice has the effect of calling once (allows retries).
            job_id: The job the call belongs to, for errors and logs.

        Returns:
            The function's result, decoded from JSON.
        """
        ...  # pragma: no cover - protocol
