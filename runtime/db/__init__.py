"""The database: the PostgREST and direct PostgreSQL paths, and cost tracking on either.

Names load on first use (PEP 562), so importing this package loads no backend library::

    from runtime.db import cost_tracker
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.db._costs import (
        DEFAULT_HOLD_SECONDS,
        MONEY_QUANTUM,
        CostRecord,
        CostSummary,
        CostTracker,
        Reservation,
        ReservationHandle,
        cost_tracker,
    )

__all__ = [
    "DEFAULT_HOLD_SECONDS",
    "MONEY_QUANTUM",
    "CostRecord",
    "CostSummary",
    "CostTracker",
    "Reservation",
    "ReservationHandle",
    "cost_tracker",
]

_LAZY: dict[str, str] = {
    "DEFAULT_HOLD_SECONDS": "runtime.db._costs",
    "MONEY_QUANTUM": "runtime.db._costs",
    "CostRecord": "runtime.db._costs",
    "CostSummary": "runtime.db._costs",
    "CostTracker": "runtime.db._costs",
    "Reservation": "runtime.db._costs",
    "ReservationHandle": "runtime.db._costs",
    "cost_tracker": "runtime.db._costs",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
