"""Decide a release: the version of every schema file and of the release itself.

Rules (docs/releases.md):

* each change the breaking gate reports since the last release has a level: **major** when it
  breaks a role (readers, writers or the database), even when a reviewed allow-list entry let it
  through the gate (the entry spares the developer a bump in the working tree, not consumers the
  semver signal); **minor** for a non-breaking addition (a new definition or schema file);
  **patch** otherwise (descriptions, defaults, examples);
* a schema file gets the highest level of its changes and of the changes of every definition its
  definitions reach through ``$ref`` (a change to ``common``'s ``Money`` also changes ``job``);
  a file whose ``$ref`` values must follow another file's new ``$id`` gets at least a patch;
* its new version is the old one bumped by that level, unless the working tree already carries a
  higher one (a developer bumped the major version for the gate): the higher one wins;
* the release version is the previous release's version bumped by the highest level over the
  files (comparing each file's new version with its released one); the first release is 1.0.0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from codegen.breaking import Change, compare
from codegen.release.snapshot import Snapshot
from codegen.schemas import SchemaSet

__all__ = ["AreaPlan", "Level", "Plan", "bump", "level_of", "plan_release", "version_level"]

Version = tuple[int, int, int]
_DEF = re.compile(r"^/\$defs/([^/]+)")
FIRST_VERSION = "1.0.0"


class Level(IntEnum):
    """How much a version moves."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3


def parse(version: str) -> Version:
    """``"1.2.3"`` -> ``(1, 2, 3)``."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major, minor, patch


def show(version: Version) -> str:
    """``(1, 2, 3)`` -> ``"1.2.3"``."""
    return ".".join(str(part) for part in version)


def bump(version: str, level: Level) -> str:
    """Return ``version`` bumped by ``level`` (lower parts reset to 0)."""
    major, minor, patch = parse(version)
    if level is Level.MAJOR:
        return show((major + 1, 0, 0))
    if level is Level.MINOR:
        return show((major, minor + 1, 0))
    if level is Level.PATCH:
        return show((major, minor, patch + 1))
    return version


def version_level(old: str, new: str) -> Level:
    """The level of the move from ``old`` to ``new`` (NONE when equal)."""
    before, after = parse(old), parse(new)
    if after[0] != before[0]:
        return Level.MAJOR
    if after[1] != before[1]:
        return Level.MINOR
    return Level.PATCH if after != before else Level.NONE


def level_of(change: Change) -> Level:
    """The level one reported change calls for (see the module docstring)."""
    if change.breaking:
        return Level.MAJOR
    return Level.MINOR if "added" in change.rule else Level.PATCH


@dataclass
class AreaPlan:
    """One schema file in the release."""

    area: str
    old: str | None  #: version at the last release (None: a new file)
    current: str | None  #: version in the working tree (None: the file was removed)
    new: str | None = None  #: version it is released with (None: removed)
    level: Level = Level.NONE  #: highest level its changes call for
    changes: list[Change] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  #: why it moves besides its own changes
    contracts: list[str] = field(default_factory=list)  #: its top-level contracts (bundles)

    @property
    def moves(self) -> bool:
        """True when the file's version changes with this release (or it is added or removed)."""
        return self.old != self.new or bool(self.changes)


@dataclass
class Plan:
    """The whole release."""

    previous: Snapshot | None
    version: str
    level: Level
    areas: list[AreaPlan]
    migrations: list[str]  #: migration files added since the last release
    #: Shipped files (outside the schemas) changed since the last release, when no schema did.
    library_changes: list[str] = field(default_factory=list)

    @property
    def contracts_move(self) -> bool:
        """True when some schema file is added, removed or changes version."""
        return any(area.moves for area in self.areas)

    @property
    def tag(self) -> str:
        """The release tag, ``v<version>``."""
        return f"v{self.version}"

    def renames(self) -> dict[str, str]:
        """Old ``$id`` -> new ``$id`` of every file whose version moves in the working tree."""
        return {
            f"https://schemas.videogen.dev/{a.area}/{a.current}": (
                f"https://schemas.videogen.dev/{a.area}/{a.new}"
            )
            for a in self.areas
            if a.current and a.new and a.current != a.new
        }

    def contract_versions(self) -> dict[str, str]:
        """Schema file stem -> released version (``release.json`` ``contracts``)."""
        return {a.area: a.new for a in self.areas if a.new}


def _definition(change: Change) -> str:
    name = getattr(change, "definition", "")
    if name:
        return str(name)
    match = _DEF.match(change.pointer)
    return match[1] if match else ""


def _refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    if not isinstance(node, dict):
        return []
    found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
    return found + [ref for value in node.values() for ref in _refs(value)]


def _graph(schemas: SchemaSet) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(area, definition) -> the (area, definition) pairs it references directly."""
    graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for doc in schemas.docs:
        for name, schema in doc.definitions().items():
            targets: set[tuple[str, str]] = set()
            for ref in _refs(schema):
                try:
                    target_doc, target, _ = schemas.resolve(doc.id, ref)
                except KeyError:
                    continue
                targets.add((target_doc.area, target))
            graph[(doc.area, name)] = targets
    return graph


def _reaching(graphs: list[dict[tuple[str, str], set[tuple[str, str]]]]) -> Any:
    """A function: (area, definition) -> the areas whose definitions reach it through ``$ref``."""
    merged: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for graph in graphs:
        for key, targets in graph.items():
            merged.setdefault(key, set()).update(targets)

    def areas(target: tuple[str, str]) -> set[str]:
        found: set[str] = set()
        for start in merged:
            seen: set[tuple[str, str]] = set()
            pending = [start]
            while pending:
                node = pending.pop()
                if node in seen:
                    continue
                seen.add(node)
                pending.extend(merged.get(node, ()))
            if target in seen and start[0] != target[0]:
                found.add(start[0])
        return found

    return areas


def _file_refs(schemas: SchemaSet) -> dict[str, set[str]]:
    """Map each area to the other areas its document references."""
    out: dict[str, set[str]] = {}
    for doc in schemas.docs:
        targets = {ref.partition("#")[0] for ref in _refs(doc.document)} - {"", doc.id}
        out[doc.area] = {schemas.by_id[t].area for t in targets if t in schemas.by_id}
    return out


def plan_release(
    new: SchemaSet,
    previous: Snapshot | None,
    migrations: list[str],
    allowed: list[dict[str, str]],
) -> Plan:
    """Plan the release of the working tree's schemas ``new`` after ``previous``.

    Args:
        new: The schemas of the working tree.
        previous: The last release (None: this is the first release).
        migrations: The migration files of the working tree.
        allowed: The allow-list entries (``schemas/allowed-breaks.json``).
    """
    contracts = {doc.area: [name for name, _ in doc.contracts()] for doc in new.docs}
    if previous is None:
        areas = [
            AreaPlan(doc.area, None, doc.id.rsplit("/", 1)[1], contracts=contracts[doc.area])
            for doc in new.docs
        ]
        for plan in areas:
            plan.new = plan.current
        return Plan(None, FIRST_VERSION, Level.NONE, areas, migrations)
    old = previous.schemas
    report = compare(old, new, allowed)
    plans: dict[str, AreaPlan] = {}
    for area in sorted(set(old.by_area) | set(new.by_area)):
        before = old.by_area.get(area)
        after = new.by_area.get(area)
        plans[area] = AreaPlan(
            area,
            before.id.rsplit("/", 1)[1] if before else None,
            after.id.rsplit("/", 1)[1] if after else None,
            contracts=contracts.get(area) or ([n for n, _ in before.contracts()] if before else []),
        )
    reaching = _reaching([_graph(old), _graph(new)])
    for change in report.changes:
        level = level_of(change)
        owner = plans[change.area]
        owner.changes.append(change)
        owner.level = max(owner.level, level)
        for area in sorted(reaching((change.area, _definition(change)))):
            if area in plans and area != change.area:
                plans[area].level = max(plans[area].level, level)
                reason = f"its definitions use {change.area}'s {_definition(change)}"
                roles = [r for r in ("readers", "writers", "database") if getattr(change, r)]
                if roles and level is Level.MAJOR:
                    reason += f", whose change breaks {', '.join(roles)}"
                if reason not in plans[area].reasons:
                    plans[area].reasons.append(reason)
    _versions(plans, new)
    level = Level.NONE
    for plan in plans.values():
        if plan.old is None or plan.new is None:
            level = max(level, Level.MINOR if plan.new else Level.MAJOR)
        else:
            level = max(level, version_level(plan.old, plan.new))
    added = sorted(set(migrations) - set(previous.migrations))
    return Plan(previous, bump(previous.version, level), level, list(plans.values()), added)


def _versions(plans: dict[str, AreaPlan], new: SchemaSet) -> None:
    """Set every file's new version, then let ``$ref`` followers move by at least a patch."""
    for plan in plans.values():
        if plan.current is None:
            continue
        if plan.old is None:
            plan.new = plan.current
            continue
        proposed = bump(plan.old, plan.level)
        plan.new = max(proposed, plan.current, key=parse)
    references = _file_refs(new)
    changed = True
    while changed:
        changed = False
        for area, targets in references.items():
            plan = plans[area]
            moved = sorted(t for t in targets if plans[t].new != plans[t].old)
            if not moved or plan.old is None or plan.new != plan.old:
                continue  # nothing to follow, or its version moves anyway
            plan.level = max(plan.level, Level.PATCH)
            plan.new = bump(plan.old, Level.PATCH)
            plan.reasons.append(f"its $refs follow the new $id of {', '.join(moved)}")
            changed = True
