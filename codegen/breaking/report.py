"""The gate's output: a human-readable report and a machine-readable JSON one."""

from __future__ import annotations

import json
from typing import Any

from codegen.breaking.allow import ALLOW_LIST
from codegen.breaking.model import RULES, Change, Report

__all__ = ["format_report", "report_json"]

_ROLES = ("readers", "writers", "database")


def _example_lines(change: Change) -> list[str]:
    lines: list[str] = []
    for example in change.counterexamples:
        role = example["role"]
        if "instance" not in example:
            reason = example.get("reason", "")
            procedure = "conservative" if "conservative" in reason else "decided"
            lines.append(
                f"    counterexample ({role}): none produced by the search; the break is "
                f"{procedure}: {reason}"
            )
            continue
        instance = json.dumps(example["instance"], sort_keys=True)
        if role == "database":
            lines.append(
                f"    counterexample (database): a stored {change.definition} valid under old "
                f"that the migrated table cannot keep: {instance}"
            )
            continue
        other = "old" if example["valid_under"] == "new" else "new"
        lines.append(
            f"    counterexample ({role}): valid under {example['valid_under']}, invalid under "
            f"{other} {change.definition}: {instance}"
        )
    return lines


def format_report(report: Report, ref: str) -> str:
    """The human-readable report printed by the command."""
    lines = [f"breaking: schemas/ compared with {ref}"]
    for area in sorted(set(report.old_versions) | set(report.new_versions)):
        lines.append(
            f"  {area}: {report.old_versions.get(area, '(new)')} -> "
            f"{report.new_versions.get(area, '(removed)')}"
        )
    if not report.changes:
        lines.append("no changes")
    for change in report.changes:
        verdict = " ".join(
            f"{role}={'BREAKS' if getattr(change, role) else 'ok'}" for role in _ROLES
        )
        lines.append(f"- [{change.rule}] {change.area}#{change.pointer}: {change.message}")
        lines.append(f"    {verdict}" + (f" (change {change.id})" if change.breaking else ""))
        lines.extend(f"    database: {effect}" for effect in change.sql)
        if change.accepted:
            lines.append(f"    accepted by {ALLOW_LIST}: {change.accepted}")
        lines.extend(_example_lines(change))
    breaking = sum(1 for c in report.changes if c.breaking)
    lines.append(
        f"{len(report.changes)} changes, {breaking} breaking, "
        f"{len(report.failures)} failing the gate"
    )
    lines.extend(f"warning: {w}" for w in report.warnings)
    lines.extend(report.failures)
    if report.failures:
        lines.append(
            "bump the major version of each schema's $id (and every $ref to it), or accept a "
            f"reviewed break in {ALLOW_LIST} with an entry like:"
        )
        lines.append(json.dumps(report.suggestions, indent=2))
    return "\n".join(lines)


def _change_json(change: Change) -> dict[str, Any]:
    rule = RULES.get(change.rule)
    return {
        "id": change.id,
        "rule": change.rule,
        "kind": change.kind,
        "procedure": rule.procedure if rule else "exact",
        "schema": change.area,
        "definition": change.definition,
        "pointer": change.pointer,
        "message": change.message,
        "readers": change.readers,
        "writers": change.writers,
        "database": change.database,
        "sql": list(change.sql),
        "counterexamples": change.counterexamples,
        "conservative": dict(change.conservative),
        "accepted": change.accepted,
    }


def report_json(report: Report) -> str:
    """The machine-readable report (``python -m codegen breaking --json``)."""
    document = {
        "base": report.base,
        "ok": report.ok,
        "old_versions": report.old_versions,
        "new_versions": report.new_versions,
        "changes": [_change_json(c) for c in report.changes],
        "failures": report.failures,
        "warnings": report.warnings,
        "suggestions": report.suggestions,
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
