"""The breaking-change gate: compare ``schemas/`` (and the SQL generated from it) with a base.

``python -m codegen breaking [REF] [--snapshot DIR] [--json]`` (``nox -s breaking -- ...``) loads
the schemas of the base and of the working tree and prints every change with a rule id, the schema
file, the JSON pointer and a verdict per role:

* **readers** (consumers validating with the old schema) break when some instance valid under the
  new schema is invalid under the old one;
* **writers** (producers writing the old shape, and data already stored) break when some instance
  valid under the old schema is invalid under the new one;
* **database** breaks when the forward migration would fail or lose data on existing rows.

Verdicts come from a sound containment decision (:mod:`codegen.breaking.containment`): a role is
reported safe only when containment is proven, so "no break" is never wrong; where containment is
not decided (a rewritten ``pattern``...) the break is *conservative* and says why. Each break
carries a witness built from the schemas (:mod:`codegen.breaking.witness`) and checked with both
versions' validators, or the reason none was produced.

Base (:mod:`codegen.breaking.baseline`): the release snapshot ``releases/latest/`` when it exists,
else the first commit; a ref or ``--snapshot DIR`` when given. Decision and allow-list:
:mod:`codegen.breaking.allow`. Exit status: 0 the gate passes, 1 it fails, 2 unusable input (a
schema it cannot read, an unreadable ref, a shallow clone without a snapshot).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from codegen.breaking.allow import ALLOW_LIST, change_id, decide, load_allow_list, set_change_ids
from codegen.breaking.baseline import (
    RELEASE_SNAPSHOT,
    Base,
    default_base,
    load_base,
    load_schemas_at,
    load_set,
    snapshot_base,
)
from codegen.breaking.database import attach_database
from codegen.breaking.model import RULES, Change, GateInputError, Report
from codegen.breaking.report import format_report, report_json
from codegen.breaking.rules import Differ
from codegen.breaking.sides import Side
from codegen.breaking.witness import attach_counterexamples
from codegen.schemas import SchemaSet

__all__ = [
    "ALLOW_LIST",
    "RELEASE_SNAPSHOT",
    "RULES",
    "Change",
    "GateInputError",
    "Report",
    "change_id",
    "compare",
    "default_base",
    "format_report",
    "load_schemas_at",
    "main",
    "report_json",
    "run_gate",
]


def compare(
    old: SchemaSet,
    new: SchemaSet,
    allowed: list[dict[str, str]] | None = None,
    *,
    witnesses: bool = True,
    base: str = "",
) -> Report:
    """Compare two schema sets and decide the gate.

    Args:
        old: The schemas of the base.
        new: The schemas of the working tree.
        allowed: Allow-list entries (see :mod:`codegen.breaking.allow`).
        witnesses: Search a counterexample for every break (off: verdicts only).
        base: What ``old`` is, for the report.

    Returns:
        The report: every change with verdicts and counterexamples, the failures, and warnings
        for allow-list entries that matched nothing.

    Raises:
        GateInputError: A schema the gate cannot read (see :class:`codegen.breaking.sides.Side`).
    """
    old_side, new_side = Side(old, "old"), Side(new, "new")
    changes = Differ(old_side, new_side).run()
    changes.extend(attach_database(changes, old_side, new_side))
    if witnesses:
        attach_counterexamples(changes, old_side, new_side)
    set_change_ids(changes, old_side, new_side)
    decision = decide(changes, old_side, new_side, allowed)
    return Report(
        changes,
        decision.failures,
        {d.area: d.id for d in old.docs},
        {d.area: d.id for d in new.docs},
        decision.warnings,
        decision.suggestions,
        base,
    )


def run_gate(root: Path, ref: str | None = None, snapshot: Path | None = None) -> Report:
    """Compare the working tree's ``schemas/`` under ``root`` with a ref, a snapshot or the default.

    Raises:
        GateInputError: The base or a schema cannot be read, or the allow-list is malformed.
    """
    if snapshot is not None:
        base = snapshot_base(snapshot)
    elif ref is not None:
        base = Base(ref, ref=ref)
    else:
        base = default_base(root)
    with tempfile.TemporaryDirectory(prefix="videogen-breaking-") as tmp:
        old = load_base(root, base, Path(tmp))
        new = load_set(root / "schemas", "schemas")
        return compare(old, new, load_allow_list(root), base=base.label)


def main(
    root: Path, ref: str | None, *, as_json: bool = False, snapshot: Path | None = None
) -> int:
    """Run the gate; print the report; return 0 (pass), 1 (fail) or 2 (unusable input)."""
    try:
        report = run_gate(root, ref, snapshot)
    except GateInputError as exc:
        print(f"breaking: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print("breaking: the schemas nest or refer to each other too deeply", file=sys.stderr)
        return 2
    print(report_json(report) if as_json else format_report(report, report.base))
    return 0 if report.ok else 1
