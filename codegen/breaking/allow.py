"""The gate's decision: a break passes with a major version bump or a reviewed allow-list entry.

A change that breaks a role is fine when the major version of the schema file's ``$id`` is bumped
(a change inside a definition also affects every file whose definitions reference it, so those
need a bump too). Otherwise it fails the gate unless it is accepted in
``schemas/allowed-breaks.json`` by an entry ``{"rule", "schema", "pointer", "version", "change",
"reason"}``: ``version`` is the ``$id`` of that schema in the new version (the old one for a
removed file), ``change`` the change id (:func:`change_id`), so an entry accepts that one change
and never a later, different one at the same place; ``reason`` says who reviewed it and why. An
entry that matches no change of the comparison is a warning, not a failure.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.breaking.model import Change, GateInputError
from codegen.breaking.rules import definition_uses
from codegen.breaking.sides import Side

__all__ = ["ALLOW_LIST", "Decision", "change_id", "decide", "load_allow_list", "set_change_ids"]

ALLOW_LIST = "schemas/allowed-breaks.json"
_ENTRY_KEYS = ("rule", "schema", "pointer", "version", "change", "reason")
_CHANGE_ID = re.compile(r"^[0-9a-f]{12}$")


def change_id(rule: str, schema: str, pointer: str, old: Any, new: Any) -> str:
    """The id of one exact change, as printed by the gate and written in the allow-list.

    12 hex digits of the SHA-256 of the rule, schema, pointer and the JSON values at the pointer
    before and after (``{"absent": true}`` for a missing one).
    """
    text = json.dumps(
        [rule, schema, pointer, old, new], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _at(document: Any, pointer: str) -> tuple[bool, Any]:
    node = document
    for part in pointer.split("/")[1:] if pointer else []:
        step = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return False, None
    return True, node


def set_change_ids(changes: list[Change], old: Side, new: Side) -> None:
    """Give each change its id, from the values at its pointer in both versions' files."""
    for change in changes:
        values: list[Any] = []
        for side in (old, new):
            doc = side.schemas.by_area.get(change.area)
            found, value = _at(doc.document, change.pointer) if doc else (False, None)
            values.append(value if found else {"absent": True})
        change.id = change_id(change.rule, change.area, change.pointer, values[0], values[1])


def load_allow_list(root: Path) -> list[dict[str, str]]:
    """The reviewed entries of ``schemas/allowed-breaks.json`` (none when the file is absent).

    Raises:
        GateInputError: The file is not a JSON list of complete entries.
    """
    path = root / ALLOW_LIST
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GateInputError(f"{ALLOW_LIST}: cannot be read as JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise GateInputError(f"{ALLOW_LIST}: must be a JSON list of entries")
    for entry in entries:
        if not isinstance(entry, dict):
            raise GateInputError(f"{ALLOW_LIST}: entry {entry!r} is not an object")
        missing = set(_ENTRY_KEYS) - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise GateInputError(
                f"{ALLOW_LIST}: entry {entry} needs {', '.join(_ENTRY_KEYS)} "
                "(the gate prints each of them for a failing change) and a non-empty reason"
            )
        if not _CHANGE_ID.match(str(entry["change"])):
            raise GateInputError(
                f"{ALLOW_LIST}: entry {entry}: change must be the 12-hex-digit change id the gate "
                "prints"
            )
    return entries


@dataclass
class Decision:
    """Failures, ready-to-review entries and warnings of one comparison."""

    failures: list[str] = field(default_factory=list)
    suggestions: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _roles(change: Change) -> str:
    roles = [r for r in ("readers", "writers", "database") if getattr(change, r)]
    return ", ".join(roles) or "nobody"


def decide(
    changes: list[Change], old: Side, new: Side, allowed: list[dict[str, str]] | None
) -> Decision:
    """Apply version bumps and the allow-list to the breaking changes."""
    old_versions = {d.area: d.id for d in old.schemas.docs}
    new_versions = {d.area: d.id for d in new.schemas.docs}
    users: dict[tuple[str, str], set[str]] = {}
    for (area, _name), used in definition_uses(old, new).items():
        for target in used:
            users.setdefault(target, set()).add(area)
    decision = Decision()
    matched: set[int] = set()
    for change in changes:
        if not change.breaking:
            continue
        version = new_versions.get(change.area) or old_versions.get(change.area, "")
        entry = next(
            (
                (index, e)
                for index, e in enumerate(allowed or [])
                if e["change"] == change.id
                and e["rule"] == change.rule
                and e["schema"] == change.area
                and e["pointer"] == change.pointer
                and e["version"] == version
            ),
            None,
        )
        if entry is not None:
            matched.add(entry[0])
            change.accepted = entry[1]["reason"]
            continue
        failing = False
        areas = users.get((change.area, change.definition), set()) | {change.area}
        for area in sorted(areas):
            if area not in new.schemas.by_area:
                decision.failures.append(
                    f"[{change.rule}] {area}: {old_versions[area]} is gone; a removal cannot be "
                    "made safe by a version bump, only accepted after review"
                )
                failing = True
                continue
            if area not in old.schemas.by_area:
                continue
            if new.schemas.by_area[area].version[0] > old.schemas.by_area[area].version[0]:
                continue
            failing = True
            decision.failures.append(
                f"[version-not-bumped] {area}: {change.rule} at {change.area}#{change.pointer} "
                f"breaks {_roles(change)} but {new_versions[area]} keeps major version "
                f"{old.schemas.by_area[area].version[0]}"
            )
        if failing:
            decision.suggestions.append(
                {
                    "rule": change.rule,
                    "schema": change.area,
                    "pointer": change.pointer,
                    "version": version,
                    "change": change.id,
                    "reason": "<who reviewed it, and why no consumer or stored row breaks>",
                }
            )
    decision.failures = sorted(set(decision.failures))
    decision.warnings = [
        f"{ALLOW_LIST} entry {index} ({e['rule']} at {e['schema']}#{e['pointer']}, change "
        f"{e['change']}) matches no change of this comparison"
        for index, e in enumerate(allowed or [])
        if index not in matched
    ]
    return decision
