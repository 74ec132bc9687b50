"""Private: ``apply_batch``'s allow-list, read from the shipped SQL, checked before any I/O.

The allow-list has one source: the JSON literal of ``public._vg_batch_allow_list()`` in
``sql/handwritten/020_batch.sql`` (generated there from the schemas). This module reads that
literal from the packaged SQL, so a batch the server would refuse (a table, operation or column
that is not allowed) is refused here with :class:`~runtime.errors.ValidationError` before
anything is sent. Should the SQL's shape ever change so that the literal cannot be found, the
check is skipped and the server's refusal (SQLSTATE ``22023``, also a ``ValidationError``)
remains.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from runtime.errors import ValidationError

_LITERAL: Final = re.compile(
    r"FUNCTION\s+public\._vg_batch_allow_list\(\).*?SELECT\s+'(?P<json>\{.*?\})'::jsonb",
    re.DOTALL,
)
_COLUMN_KEYS: Final = {"insert": "insert", "upsert": "insert", "update": "update"}


@functools.cache
def allow_list() -> Mapping[str, Any] | None:
    """The parsed allow-list (``{table: {"insert": [...], "update": [...], "match": [...]}}``).

    Returns:
        The allow-list, or ``None`` when it cannot be read from the shipped SQL.
    """
    from runtime.resources import sql_scripts

    for _name, text in sql_scripts():
        match = _LITERAL.search(text)
        if match is not None:
            try:
                parsed = json.loads(match.group("json"))
            except ValueError:
                return None
            return parsed if isinstance(parsed, dict) else None
    return None


def check_operation(index: int, operation: Mapping[str, Any]) -> None:
    """Refuse, before any I/O, an operation ``apply_batch`` would refuse.

    Args:
        index: The operation's position in the batch (1-based, as the server counts).
        operation: ``{"op", "table", "values"?, "match"?}``.

    Raises:
        ValidationError: The table, the operation or a column is not allowed.
    """
    rules = allow_list()
    if rules is None:
        return
    table = operation.get("table")
    spec = rules.get(table) if isinstance(table, str) else None
    if not isinstance(table, str) or not isinstance(spec, Mapping):
        raise ValidationError(
            f"batch operation {index}: table {table} is not allowed in batches "
            f"(allowed: {', '.join(sorted(rules))})",
            details={"table": table},
        )
    op = operation.get("op")
    key = _COLUMN_KEYS.get(str(op))
    if key is not None:
        _columns(index, table, key, operation.get("values"), spec.get(key))
    if "match" in operation:
        _columns(index, table, "match", operation.get("match"), spec.get("match"))


def _columns(index: int, table: str, key: str, given: Any, allowed: Any) -> None:
    if not isinstance(given, Mapping) or not isinstance(allowed, list):
        return
    refused = sorted(column for column in given if column not in allowed)
    if refused:
        raise ValidationError(
            f'batch operation {index}: column {refused[0]} is not allowed in "{key}" for table '
            f"{table} (allowed: {', '.join(allowed)})",
            details={"table": table, "columns": refused},
        )
