"""The diff: walk the old and new versions side by side and name each change with a rule.

Every change gets its verdict per role from :mod:`codegen.breaking.containment`: at the changed
keyword (the old node with only that keyword replaced), at the node holding it, and for the whole
definition. A role breaks at a change only when the node and the definition break it too, and when
a node or a definition breaks a role that none of its changes explains (changes that interact),
every change there carries it, so that "no break" is never reported for a definition whose old and
new versions are separated by an instance.
"""

from __future__ import annotations

import json
from typing import Any

from codegen.breaking.algebra import NOTES
from codegen.breaking.containment import Prover
from codegen.breaking.diff_base import Where, escape
from codegen.breaking.diff_notes import NoteDiff
from codegen.breaking.diff_objects import ObjectDiff
from codegen.breaking.diff_shapes import ShapeDiff
from codegen.breaking.model import Change, Path_
from codegen.breaking.sides import ROOT, Side, key

__all__ = ["Differ", "definition_uses", "refs_in"]

_NO_VALIDATION = ("annotation-changed", "default-changed")


class Differ(ObjectDiff, ShapeDiff, NoteDiff):
    """Find every change between two versions, with verdicts."""

    def __init__(self, old: Side, new: Side) -> None:
        self.old, self.new = old, new
        self.writers = Prover(old, new)
        self.readers = Prover(new, old)
        self.pending: list[tuple[list[Change], str, str, Where]] = []
        #: (area, definition) -> every (area, definition) it references, directly or not.
        self.uses = definition_uses(old, new)
        self.changed = self._changed()

    def ident(self, side: Side, node: Any) -> str:
        """A node's text with each ``$ref`` replaced by the definition's identity."""

        def walk(value: Any) -> Any:
            if isinstance(value, dict):
                return {
                    k: ("/".join(side.identity[v]) if k == "$ref" else walk(v))
                    for k, v in value.items()
                    if k not in NOTES and not k.startswith("x-")
                }
            if isinstance(value, list):
                return [walk(v) for v in value]
            return value

        return key(walk(node))

    def verdict(self, old: Any, new: Any) -> tuple[str | None, str | None]:
        """``(writers reason, readers reason)``: ``None`` where the role is proven safe."""
        return self.writers.subset(old, new), self.readers.subset(new, old)

    # ----------------------------------------------------------------------------- files

    def run(self) -> list[Change]:
        """Every change of every file and definition."""
        changes: list[Change] = []
        for area in sorted(set(self.old.docs) | set(self.new.docs)):
            if area not in self.old.docs:
                changes.append(
                    Change("schema-added", area, "", "", f"schemas/{area}.schema.json added")
                )
                continue
            if area not in self.new.docs:
                changes.append(
                    Change(
                        "schema-removed",
                        area,
                        "",
                        "",
                        f"schemas/{area}.schema.json removed ({self.old.doc_id(area)}): every "
                        "consumer of its definitions breaks",
                        readers=True,
                        writers=True,
                    )
                )
                continue
            old_defs, new_defs = self.old.definitions(area), self.new.definitions(area)
            for name in [*new_defs, *[n for n in old_defs if n not in new_defs]]:
                pointer = "" if name == ROOT else f"/$defs/{escape(name)}"
                where = Where(area, name, pointer, ())
                if name not in old_defs:
                    rule = "definition-added" if name != ROOT else "constraint-tightened"
                    changes.append(self._root_or_def(rule, where, None, new_defs[name]))
                elif name not in new_defs:
                    rule = "definition-removed" if name != ROOT else "constraint-loosened"
                    changes.append(self._root_or_def(rule, where, old_defs[name], None))
                else:
                    changes.extend(self.definition(where, old_defs[name], new_defs[name]))
        changes.extend(self._explain(changes))
        for change in changes:
            change.rule = _final_rule(change)
        return changes

    def definition(self, where: Where, old: Any, new: Any) -> list[Change]:
        """The changes of one definition, reconciled with the definition's own verdict.

        A definition whose own text did not change is still decided when a definition it uses
        changed: through ``not`` (or an overlapping ``oneOf``) a change that breaks writers of
        the used definition can break readers of this one, and the other way round.
        """
        same = self.ident(self.old, old) == self.ident(self.new, new)
        if same:
            used = self.uses.get((where.area, where.definition), set())
            if used & self.changed:
                writers, readers = self.verdict(old, new)
                self._settle([], writers, readers, where)
            if key(old) == key(new):
                return []
        return self.node(where, old, new)

    def _changed(self) -> set[tuple[str, str]]:
        """Definitions whose validation text differs between the versions (or that exist in one)."""
        found: set[tuple[str, str]] = set()
        for area in set(self.old.docs) | set(self.new.docs):
            old_defs = self.old.definitions(area) if area in self.old.docs else {}
            new_defs = self.new.definitions(area) if area in self.new.docs else {}
            for name in set(old_defs) | set(new_defs):
                if (
                    name not in old_defs
                    or name not in new_defs
                    or self.ident(self.old, old_defs[name]) != self.ident(self.new, new_defs[name])
                ):
                    found.add((area, name))
        return found

    # ----------------------------------------------------------------------------- nodes

    def node(self, where: Where, old: Any, new: Any) -> list[Change]:
        """Changes at one node and below, reconciled with the node's verdict."""
        same_validation = self.ident(self.old, old) == self.ident(self.new, new)
        if same_validation and key(old) == key(new):
            return []
        if not isinstance(old, dict) or not isinstance(new, dict):
            writers, readers = self.verdict(old, new)
            change = Change(
                "schema-replaced",
                where.area,
                where.definition,
                where.pointer,
                f"{where.label}: schema {json.dumps(old)[:60]} -> {json.dumps(new)[:60]}",
                path=where.path,
            )
            return self._settle([change], writers, readers, where)
        changes: list[Change] = []
        self._notes(where, old, new, changes)
        old_core, old_null = self._split_null(self.old, old)
        new_core, new_null = self._split_null(self.new, new)
        if not same_validation and (old_null or new_null):
            self._nullability(where, old, new, changes)
        self._object(where, old_core, new_core, changes)
        self._items(where, old_core, new_core, changes)
        self._unions(where, old_core, new_core, changes)
        self._keywords(where, old_core, new_core, changes)
        if same_validation:
            if not changes:
                changes.append(
                    Change(
                        "annotation-changed",
                        where.area,
                        where.definition,
                        where.pointer,
                        f"{where.label}: annotations inside it changed",
                        path=where.path,
                    )
                )
            writers = readers = None
        else:
            writers, readers = self.verdict(old, new)
        return self._settle(changes, writers, readers, where)

    def _settle(
        self, changes: list[Change], writers: str | None, readers: str | None, where: Where
    ) -> list[Change]:
        """Clear the roles the node is proven safe for; note the roles no change explains yet."""
        for role, reason in (("writers", writers), ("readers", readers)):
            if reason is None:
                for change in changes:
                    setattr(change, role, False)
                    change.conservative.pop(role, None)
                # A node proven safe settles every node below it for this role.
                self.pending = [
                    p
                    for p in self.pending
                    if not (
                        p[1] == role
                        and (p[3].area, p[3].definition) == (where.area, where.definition)
                        and (p[3].pointer + "/").startswith(where.pointer + "/")
                    )
                ]
                continue
            self.pending.append((changes, role, reason, where))
        return changes

    def _explain(self, all_changes: list[Change]) -> list[Change]:
        """Give each unexplained broken role of a node to that node's changes.

        A role a node breaks is explained by a change below it carrying the role, or by a change
        of a definition it references (transitively) carrying it. Otherwise every validation
        change of the node carries it (they interact), or a ``definition-changed`` change does.
        """
        extra: list[Change] = []
        for changes, role, reason, where in self.pending:
            validation = [c for c in changes if c.rule not in _NO_VALIDATION]
            if any(getattr(c, role) for c in validation):
                continue
            used = self.uses.get((where.area, where.definition), set())
            if any(getattr(c, role) and (c.area, c.definition) in used for c in all_changes):
                continue
            if not validation:
                change = Change(
                    "definition-changed",
                    where.area,
                    where.definition,
                    where.pointer,
                    f"{where.label}: admits other instances through the definitions it uses",
                    path=where.path,
                )
                validation = [change]
                changes.append(change)
                extra.append(change)
            for change in validation:
                setattr(change, role, True)
                change.conservative.setdefault(role, reason)
        self.pending.clear()
        return extra

    def _add(
        self,
        changes: list[Change],
        rule: str,
        where: Where,
        message: str,
        old: Any,
        new: Any,
        pointer: str | None = None,
        path: Path_ | None = None,
        values: list[Any] | None = None,
    ) -> Change:
        writers, readers = self.verdict(old, new)
        steps = where.path if path is None else path
        change = Change(
            rule,
            where.area,
            where.definition,
            where.pointer if pointer is None else pointer,
            message,
            readers=readers is not None,
            writers=writers is not None,
            prop=next((p for p in steps if isinstance(p, str)), None),
            path=steps,
            values=values or [],
            conservative={r: x for r, x in (("writers", writers), ("readers", readers)) if x},
        )
        changes.append(change)
        return change


def definition_uses(*sides: Side) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """``(area, definition)`` -> every definition it references, directly or not."""
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for side in sides:
        for area in side.docs:
            for name, node in side.definitions(area).items():
                found = edges.setdefault((area, name), set())
                for ref in refs_in(node):
                    found.add(side.identity[ref])
    closure: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for start in edges:
        seen: set[tuple[str, str]] = set()
        stack = [start]
        while stack:
            for target in edges.get(stack.pop(), set()):
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        closure[start] = seen
    return closure


def refs_in(node: Any) -> list[str]:
    """Every ``$ref`` value inside a schema node."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for name, value in node.items():
            if name not in ("enum", "const", "default", "examples") and not name.startswith("x-"):
                found.extend(refs_in(value))
        return found
    if isinstance(node, list):
        return [r for item in node for r in refs_in(item)]
    return []


_DIRECTED = {
    "constraint": ("constraint-tightened", "constraint-loosened", "constraint-changed"),
    "type": ("type-narrowed", "type-widened", "type-changed"),
}


def _final_rule(change: Change) -> str:
    """The rule name matching the final verdicts (a node proven safe clears its changes' roles)."""
    for names in _DIRECTED.values():
        if change.rule in names:
            if change.writers and change.readers:
                return names[2]
            if change.writers:
                return names[0]
            return names[1] if change.readers else "equivalent-rewrite"
    if change.rule in ("nullability-added", "nullability-removed") and not change.breaking:
        return "equivalent-rewrite"
    return change.rule
