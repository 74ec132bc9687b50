"""Lists still written by hand outside the schemas are pinned to them.

The apply_batch allow-list is generated (sql/generated/schema_batch_allow_list.sql); a few enum
values remain spelled out by hand, in runtime/db/_cost_results.py and in the cost functions. These
tests fail when a schema enum changes and they do not follow.
"""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

from lint_support import REPO_ROOT

from runtime.cost_tracking import Reservation

_STATUS_LITERAL = re.compile(r"\bstatus\s*(?:=|<>|!=)\s*'([a-z_]+)'")


def _status_enum(definition: str) -> set[str]:
    job = json.loads((REPO_ROOT / "schemas" / "job.schema.json").read_text(encoding="utf-8"))
    schema = job["$defs"][definition]["properties"]["status"]
    return set(schema["enum"])


def test_reservation_status_type_lists_the_schema_enum() -> None:
    hints = typing.get_type_hints(Reservation)
    assert set(typing.get_args(hints["status"])) == _status_enum("CostReservation")


def test_status_literals_in_handwritten_sql_are_schema_enum_values() -> None:
    allowed = set().union(*(_status_enum(d) for d in ("Job", "JobStage", "CostReservation")))
    used = {
        value
        for path in sorted(Path(REPO_ROOT, "sql", "handwritten").glob("*.sql"))
        for value in _STATUS_LITERAL.findall(path.read_text(encoding="utf-8"))
    }
    assert used
    assert used <= allowed, used - allowed
