"""Argument checks for the cost tracker: every bad input is a ValidationError before any I/O.

Money is :class:`~decimal.Decimal` (or ``int``), finite, non-negative, below 10**12 and at most 6
decimal places (``numeric(18,6)``); floats are refused because they are not exact. Names and keys
must be text the database can store (no NUL, no lone surrogate).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from uuid import UUID, uuid4

from runtime.db._common import to_json_value
from runtime.errors import ConfigError, ValidationError

MONEY_QUANTUM: Final = Decimal("0.000001")
"""The smallest amount stored (``numeric(18,6)``)."""

DEFAULT_HOLD_SECONDS: Final = 900
"""A reservation's lifetime unless ``reserve(hold_seconds=...)`` says otherwise (15 minutes):
a hold neither settled nor released by then stops counting against the budget and is released
(lazily by the next reservation on the job, or by :meth:`CostTracker.release_expired`)."""

MAX_HOLD_SECONDS: Final = 7 * 24 * 3600

_MONEY_LIMIT: Final = Decimal(10) ** 12
_RESERVED_KEY_PREFIX: Final = "reservation:"
_MAX_KEY_LENGTH: Final = 200
_MAX_NAME_LENGTH: Final = 100


def money(value: Any, name: str) -> Decimal:
    """Check an amount of money.

    Args:
        value: The amount given.
        name: The argument's name, for the message.

    Returns:
        The amount as a Decimal.

    Raises:
        ValidationError: Not a Decimal or int, not finite, negative, too large or too precise.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValidationError(
            f"{name} must be a Decimal (or int), got {type(value).__name__}; "
            "floats are not exact, use Decimal('0.06')"
        )
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValidationError(f"{name} must be a finite amount, got {amount}")
    if amount < 0:
        raise ValidationError(f"{name} must be >= 0, got {amount}")
    if amount >= _MONEY_LIMIT:
        raise ValidationError(f"{name} is too large: {amount}")
    try:
        exact = amount.quantize(MONEY_QUANTUM) == amount
    except InvalidOperation:  # pragma: no cover - bounded above, so quantize cannot overflow
        exact = False
    if not exact:
        raise ValidationError(f"{name} has more than 6 decimal places: {amount}")
    return amount


def job_id(value: Any) -> UUID:
    """Check a job id (a UUID or its string).

    Raises:
        ValidationError: Not a UUID.
    """
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise ValidationError(f"job_id must be a UUID, got {value!r}")


def _stage_pattern() -> re.Pattern[str]:
    """The schema's StageName pattern, as the generated ``JobCost`` model carries it."""
    from generated.job import JobCost

    for item in JobCost.model_fields["stage_name"].metadata:
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            return re.compile(pattern)
    raise ConfigError("the generated JobCost model has no stage_name pattern")  # pragma: no cover


_STAGE_NAME: Final = _stage_pattern()


def stage(value: Any) -> str:
    """Check a stage name against the schema's snake_case pattern.

    Raises:
        ValidationError: Not a stage name.
    """
    if not isinstance(value, str) or _STAGE_NAME.fullmatch(value) is None:
        raise ValidationError(
            f"stage must be a snake_case stage name ({_STAGE_NAME.pattern}), got {value!r}"
        )
    return value


def name(value: Any, argument: str) -> str:
    """Check a required name (an API name): non-blank text of at most 100 characters.

    Raises:
        ValidationError: Not such a name, or text the database cannot store.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{argument} must be a non-empty string, got {value!r}")
    if len(value) > _MAX_NAME_LENGTH:
        raise ValidationError(f"{argument} is longer than {_MAX_NAME_LENGTH} characters")
    return to_json_value(value)  # type: ignore[no-any-return]  # NUL, lone surrogates


def idempotency_key(value: Any) -> str:
    """Check an idempotency key, or generate one (``auto:<uuid4>``) when ``None``.

    Raises:
        ValidationError: Blank, too long, not storable, or starting with ``reservation:``.
    """
    if value is None:
        return f"auto:{uuid4()}"
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"idempotency_key must be a non-empty string, got {value!r}")
    if len(value) > _MAX_KEY_LENGTH:
        raise ValidationError(f"idempotency_key is longer than {_MAX_KEY_LENGTH} characters")
    to_json_value(value)  # NUL, lone surrogates
    if value.startswith(_RESERVED_KEY_PREFIX):
        raise ValidationError(
            f"idempotency keys starting with {_RESERVED_KEY_PREFIX!r} are reserved for settle"
        )
    return value


def hold_seconds(value: Any) -> int:
    """Check a hold lifetime: 1 s to 7 days, rounded up to whole seconds.

    Raises:
        ValidationError: Not a number in range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"hold_seconds must be a number of seconds, got {value!r}")
    if not 1 <= value <= MAX_HOLD_SECONDS:
        raise ValidationError(f"hold_seconds must be between 1 and {MAX_HOLD_SECONDS}, got {value}")
    return math.ceil(value)
