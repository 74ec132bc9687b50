"""The bounds every client's options share, defined once.

Each client's pydantic options object validates its retry settings against these, so a delay or
an attempt count means the same thing for the database, the cache and storage.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_ATTEMPTS_CEILING", "RETRY_DELAY_CEILING_SECONDS", "TIMEOUT_CEILING_SECONDS"]

RETRY_DELAY_CEILING_SECONDS: Final = 60.0
"""The longest a single backoff delay (base or cap) may be set to, for every client."""

MAX_ATTEMPTS_CEILING: Final = 10
"""The most attempts any client's retry policy may be set to make."""

TIMEOUT_CEILING_SECONDS: Final = 300.0
"""The longest any single timeout or deadline option may be set to."""
