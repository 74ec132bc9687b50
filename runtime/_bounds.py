"""The bounds every client's options share, and the error they raise, defined once.

Each client's pydantic options object validates its retry settings against these, so a delay or
an attempt count means the same thing for the database, the cache and storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from runtime.errors import ConfigError

if TYPE_CHECKING:
    import pydantic

__all__ = [
    "MAX_ATTEMPTS_CEILING",
    "RETRY_DELAY_CEILING_SECONDS",
    "TIMEOUT_CEILING_SECONDS",
    "options_error",
]

RETRY_DELAY_CEILING_SECONDS: Final = 60.0
"""The longest a single backoff delay (base or cap) may be set to, for every client."""

MAX_ATTEMPTS_CEILING: Final = 10
"""The most attempts any client's retry policy may be set to make."""

TIMEOUT_CEILING_SECONDS: Final = 300.0
"""The longest any single timeout or deadline option may be set to."""


def options_error(what: str, exc: pydantic.ValidationError) -> ConfigError:
    """The ``ConfigError`` every client's options raise for pydantic's error, without the input.

    Each problem names the field and what is wrong; the given value is never repeated (it may be a
    URL with a password or a key), and pydantic's error, which keeps the raw input, is not
    chained: raise the result ``from None``.

    Args:
        what: The options named in the message (``"Redis cache options"``).
        exc: pydantic's validation error.

    Returns:
        The error to raise.
    """
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'options'}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False, include_context=False)
    )
    return ConfigError(f"invalid {what}: {problems}")
