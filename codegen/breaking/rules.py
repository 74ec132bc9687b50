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
from dataclasses import dataclass, replace
from typing import Any

from codegen.breaking.algebra import NOTES, schema_for, type_atoms
from codegen.breaking.containment import Prover
from codegen.breaking.model import Change, Path_
from codegen.breaking.sides import ROOT, Side, key

__all__ = ["Differ"]

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_UNIONS = ("anyOf", "oneOf", "allOf", "not")
_OBJECT_REST = ("additionalProperties", "patternProperties", "unevaluatedProperties")
_ITEMS = ("items", "prefixItems", "unevaluatedItems")
_NULL = key({"type": "null"})
_NO_VALIDATION = ("annotation-changed", "default-changed")


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _show(node: dict[str, Any], name: str) -> str:
    if name not in node:
        return "absent"
    text = json.dumps(node[name], sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class _Where:
    area: str
    definition: str
    pointer: str
    path: Path_

    def at(self, suffix: str, *steps: str | int | None) -> _Where:
        return replace(self, pointer=self.pointer + suffix, path=self.path + steps)

    @property
    def label(self) -> str:
        parts = [self.definition]
        for step in self.path:
            parts.append("[]" if step is None or isinstance(step, int) else f".{step}")
        return "".join(parts)


class Differ:
    """Find every change between two versions, with verdicts."""

    def __init__(self, old: Side, new: Side) -> None:
        self.old, self.new = old, new
        self.writers = Prover(old, new)
        self.readers = Prover(new, old)
        self.pending: list[tuple[list[Change], str, str, _Where]] = []
        #: (area, definition) -> every (area, definition) it references, directly or not.
        self.uses = _uses(old, new)
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
                pointer = "" if name == ROOT else f"/$defs/{_escape(name)}"
                where = _Where(area, name, pointer, ())
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

    def _root_or_def(self, rule: str, where: _Where, old: Any, new: Any) -> Change:
        if where.definition != ROOT:
            removed = rule == "definition-removed"
            return Change(
                rule,
                where.area,
                where.definition,
                where.pointer,
                f"{where.definition} {'removed' if removed else 'added'}",
                readers=removed,
                writers=removed,
            )
        writers, readers = self.verdict(True if old is None else old, True if new is None else new)
        return Change(
            rule,
            where.area,
            ROOT,
            "",
            "the file's root schema " + ("added" if old is None else "removed"),
            readers=readers is not None,
            writers=writers is not None,
            conservative={r: x for r, x in (("writers", writers), ("readers", readers)) if x},
        )

    def definition(self, where: _Where, old: Any, new: Any) -> list[Change]:
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
                if name not in old_defs or name not in new_defs:
                    found.add((area, name))
                elif self.ident(self.old, old_defs[name]) != self.ident(self.new, new_defs[name]):
                    found.add((area, name))
        return found

    # ----------------------------------------------------------------------------- nodes

    def node(self, where: _Where, old: Any, new: Any) -> list[Change]:
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

    def _split_null(self, side: Side, node: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """A nullable node as ``(the node without its null alternative, True)``.

        ``anyOf``/``oneOf`` of one schema and ``{"type": "null"}`` (its siblings merged in when
        they do not overlap), and a ``type`` list holding ``"null"`` and other types.
        """
        unions = [n for n in ("anyOf", "oneOf") if isinstance(node.get(n), list)]
        if len(unions) == 1:
            branches = node[unions[0]]
            rest = [b for b in branches if self.ident(side, b) != _NULL]
            if len(branches) == 2 and len(rest) == 1 and isinstance(rest[0], dict):
                siblings = {k: v for k, v in node.items() if k != unions[0]}
                overlap = {k for k in rest[0] if k not in NOTES} & {
                    k for k in siblings if k not in NOTES
                }
                if not overlap:
                    return {**siblings, **rest[0]}, True
            return node, False
        types = node.get("type")
        if isinstance(types, list) and "null" in types and len(types) > 1:
            kept = [t for t in types if t != "null"]
            return {**node, "type": kept[0] if len(kept) == 1 else kept}, True
        return node, False

    def _nullability(
        self, where: _Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        before = self.old.validator(old).is_valid(None)
        after = self.new.validator(new).is_valid(None)
        if before == after:
            return
        rule = "nullability-added" if after else "nullability-removed"
        role = "readers" if after else "writers"
        change = Change(
            rule,
            where.area,
            where.definition,
            where.pointer,
            f"{where.label}: null {'now' if after else 'no longer'} accepted",
            path=where.path,
        )
        setattr(change, role, True)
        change.conservative[role] = "null is " + ("now admitted" if after else "no longer admitted")
        changes.append(change)

    def _settle(
        self, changes: list[Change], writers: str | None, readers: str | None, where: _Where
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
        where: _Where,
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

    def _notes(
        self, where: _Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        names = {k for k in (*old, *new) if (k in NOTES and k != "default") or k.startswith("x-")}
        changed = [k for k in sorted(names) if key(old.get(k)) != key(new.get(k)) and k != "$defs"]
        if changed:
            changes.append(
                Change(
                    "annotation-changed",
                    where.area,
                    where.definition,
                    where.pointer,
                    f"{where.label}: {', '.join(changed)} changed",
                    path=where.path,
                )
            )
        if key(old.get("default")) != key(new.get("default")):
            changes.append(
                Change(
                    "default-changed",
                    where.area,
                    where.definition,
                    f"{where.pointer}/default",
                    f"{where.label}: default {_show(old, 'default')} -> {_show(new, 'default')}",
                    path=where.path,
                )
            )

    # ----------------------------------------------------------------------------- objects

    def _object(
        self, where: _Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        old_props = old.get("properties") if isinstance(old.get("properties"), dict) else {}
        new_props = new.get("properties") if isinstance(new.get("properties"), dict) else {}
        old_req = set(old.get("required") or [])
        new_req = set(new.get("required") or [])
        renamed = {
            prop: schema["x-renamed-from"]
            for prop, schema in new_props.items()
            if isinstance(schema, dict)
            and schema.get("x-renamed-from") in old_props
            and schema["x-renamed-from"] not in new_props
            and prop not in old_props
        }
        for prop, old_name in renamed.items():
            self._add(
                changes,
                "property-renamed",
                where,
                f"{where.label}.{old_name} renamed to {prop}",
                _slice(old, [old_name, prop]),
                _slice(new, [old_name, prop]),
                pointer=f"{where.pointer}/properties/{_escape(prop)}",
                path=(*where.path, prop),
                values=[old_name, prop],
            )
        for prop in old_props:
            if prop in new_props or prop in renamed.values():
                continue
            self._add(
                changes,
                "property-removed",
                where,
                f"{where.label}.{prop} removed",
                _slice(old, [prop]),
                _slice(new, [prop]),
                pointer=f"{where.pointer}/properties/{_escape(prop)}",
                path=(*where.path, prop),
                values=[prop],
            )
        for prop, schema in new_props.items():
            inner = where.at(f"/properties/{_escape(prop)}", prop)
            old_name = renamed.get(prop, prop)
            if old_name not in old_props:
                required = prop in new_req
                self._add(
                    changes,
                    "property-added-required" if required else "property-added-optional",
                    inner,
                    f"{where.label}.{prop} added ({'required' if required else 'optional'})",
                    _slice(old, [prop]),
                    _slice(new, [prop]),
                    values=[prop],
                )
                continue
            if (old_name in old_req) != (prop in new_req):
                now = prop in new_req
                self._add(
                    changes,
                    "optional-made-required" if now else "required-made-optional",
                    where,
                    f"{where.label}.{prop} is now {'required' if now else 'optional'}",
                    _slice(old, [old_name]),
                    _slice(
                        {**new, "properties": {**new_props, old_name: schema}}
                        if old_name != prop
                        else new,
                        [old_name],
                    ),
                    pointer=f"{where.pointer}/required",
                    path=(*where.path, prop),
                    values=[prop],
                )
            changes.extend(self.node(inner, old_props[old_name], schema))
        declared = set(old_props) | set(new_props)
        for name in sorted((old_req ^ new_req) - declared):
            now = name in new_req
            self._add(
                changes,
                "optional-made-required" if now else "required-made-optional",
                where,
                f"{where.label}: undeclared {name!r} {'now' if now else 'no longer'} required",
                _slice(old, [name]),
                _slice(new, [name]),
                pointer=f"{where.pointer}/required",
                values=[name],
            )
        for name in _OBJECT_REST:
            before, after = old.get(name), new.get(name)
            if self.ident(self.old, before) == self.ident(self.new, after):
                continue
            if (
                name == "patternProperties"
                and isinstance(before, dict)
                and isinstance(after, dict)
                and set(before) == set(after)
            ):
                for pattern in after:
                    changes.extend(
                        self.node(
                            where.at(f"/{name}/{_escape(pattern)}"), before[pattern], after[pattern]
                        )
                    )
                continue
            if name != "patternProperties" and isinstance(before, dict) and isinstance(after, dict):
                changes.extend(self.node(where.at(f"/{name}"), before, after))
                continue
            self._add(
                changes,
                "additional-properties-changed",
                where,
                f"{where.label}: {name} {_show(old, name)} -> {_show(new, name)}",
                old,
                _swap(old, new, name),
                pointer=f"{where.pointer}/{name}",
            )

    # ----------------------------------------------------------------------------- arrays

    def _items(
        self, where: _Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        for name in _ITEMS:
            before, after = old.get(name), new.get(name)
            if self.ident(self.old, before) == self.ident(self.new, after):
                continue
            if (
                name == "prefixItems"
                and isinstance(before, list)
                and isinstance(after, list)
                and len(before) == len(after)
            ):
                for index, (b, a) in enumerate(zip(before, after, strict=True)):
                    changes.extend(self.node(where.at(f"/prefixItems/{index}", index), b, a))
                continue
            if name != "prefixItems" and isinstance(before, dict) and isinstance(after, dict):
                changes.extend(self.node(where.at(f"/{name}", None), before, after))
                continue
            self._add(
                changes,
                "items-changed",
                where,
                f"{where.label}: {name} {_show(old, name)} -> {_show(new, name)}",
                old,
                _swap(old, new, name),
                pointer=f"{where.pointer}/{name}",
                path=(*where.path, None),
            )

    # ----------------------------------------------------------------------------- unions

    def _unions(
        self, where: _Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        old_union = next((n for n in ("anyOf", "oneOf") if isinstance(old.get(n), list)), None)
        new_union = next((n for n in ("anyOf", "oneOf") if isinstance(new.get(n), list)), None)
        if old_union and new_union:
            old_rest = [b for b in old[old_union] if self.ident(self.old, b) != _NULL]
            new_rest = [b for b in new[new_union] if self.ident(self.new, b) != _NULL]
            if (
                len(old_rest) == 1
                and len(new_rest) == 1
                and len(old[old_union]) <= 2
                and len(new[new_union]) <= 2
            ):
                # A nullable value: compare the non-null variants, and the null and union kind here.
                index = next(i for i, b in enumerate(new[new_union]) if b is new_rest[0])
                changes.extend(
                    self.node(where.at(f"/{new_union}/{index}"), old_rest[0], new_rest[0])
                )
                nulls = (len(old[old_union]) - 1, len(new[new_union]) - 1)
                if old_union != new_union or nulls[0] != nulls[1]:
                    self._union_change(where, old, new, changes, ("anyOf", "oneOf"), flat=True)
                for name in ("allOf", "not"):
                    self._union_change(where, old, new, changes, (name,))
                return
        for name in _UNIONS:
            self._union_change(where, old, new, changes, (name,))

    def _union_change(
        self,
        where: _Where,
        old: dict[str, Any],
        new: dict[str, Any],
        changes: list[Change],
        names: tuple[str, ...],
        flat: bool = False,
    ) -> None:
        before = {n: old[n] for n in names if n in old}
        after = {n: new[n] for n in names if n in new}
        if not flat and self.ident(self.old, before) == self.ident(self.new, after):
            return
        if (
            not flat
            and all(isinstance(v, list) for v in (*before.values(), *after.values()))
            and before.keys() == after.keys()
        ):
            left = {self.ident(self.old, b) for v in before.values() for b in v}
            right = {self.ident(self.new, b) for v in after.values() for b in v}
            if left == right and names != ("oneOf",):
                changes.append(
                    Change(
                        "annotation-changed",
                        where.area,
                        where.definition,
                        f"{where.pointer}/{names[0]}",
                        f"{where.label}: {names[0]} branches reordered or repeated",
                        path=where.path,
                    )
                )
                return
        shown = "/".join(names)
        o_text = json.dumps(before, sort_keys=True)[:70] if before else "absent"
        n_text = json.dumps(after, sort_keys=True)[:70] if after else "absent"
        substituted = {k: v for k, v in old.items() if k not in names} | after
        if flat:
            kept = next(
                b
                for b in old[next(n for n in names if n in old)]
                if self.ident(self.old, b) != _NULL
            )
            union = next(n for n in names if n in after)
            substituted[union] = [
                b if self.ident(self.new, b) == _NULL else kept for b in after[union]
            ]
        name = next(iter(after), next(iter(before), names[0]))
        rule = "nullability-added" if flat else "union-changed"
        change = self._add(
            changes,
            rule,
            where,
            f"{where.label}: {shown} {o_text} -> {n_text}",
            old,
            substituted,
            pointer=f"{where.pointer}/{name}",
        )
        if flat:
            change.rule = self._null_rule(change)

    @staticmethod
    def _null_rule(change: Change) -> str:
        if change.writers and not change.readers:
            return "nullability-removed"
        if change.readers and not change.writers:
            return "nullability-added"
        return "union-changed" if change.writers else "equivalent-rewrite"

    # ----------------------------------------------------------------------------- keywords

    def _keywords(
        self, where: _Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        handled = {"properties", "required", *_OBJECT_REST, *_ITEMS, *_UNIONS, "anyOf", "oneOf"}
        for name in sorted(set(old) | set(new)):
            if name in handled or name in NOTES or name.startswith("x-"):
                continue
            if self.ident(self.old, old.get(name)) == self.ident(self.new, new.get(name)):
                continue
            substituted = _swap(old, new, name)
            if name in ("enum", "const"):
                self._enum(where, old, new, name, substituted, changes)
                continue
            message = f"{where.label}: {name} {_show(old, name)} -> {_show(new, name)}"
            pointer = f"{where.pointer}/{_escape(name)}"
            change = self._add(
                changes, "constraint-changed", where, message, old, substituted, pointer=pointer
            )
            change.rule = self._rule(name, change, old, new)

    def _rule(self, name: str, change: Change, old: dict[str, Any], new: dict[str, Any]) -> str:
        if name == "$ref":
            return "reference-changed"
        if name == "type":
            before = type_atoms(old["type"]) if "type" in old else None
            after = type_atoms(new["type"]) if "type" in new else None
            if before is not None and after is not None and before ^ after == {"null"}:
                return "nullability-added" if "null" in after else "nullability-removed"
            if change.writers and change.readers:
                return "type-changed"
            if change.writers:
                return "type-narrowed"
            return "type-widened" if change.readers else "equivalent-rewrite"
        if change.writers and change.readers:
            return "constraint-changed"
        if change.writers:
            return "constraint-tightened"
        return "constraint-loosened" if change.readers else "equivalent-rewrite"

    def _enum(
        self,
        where: _Where,
        old: dict[str, Any],
        new: dict[str, Any],
        name: str,
        substituted: dict[str, Any],
        changes: list[Change],
    ) -> None:
        def values(node: dict[str, Any]) -> list[Any] | None:
            if "const" in node and name == "const":
                return [node["const"]]
            return (
                list(node["enum"])
                if name == "enum" and isinstance(node.get("enum"), list)
                else None
            )

        before, after = values(old), values(new)
        pointer = f"{where.pointer}/{name}"
        if before is None or after is None:
            change = self._add(
                changes,
                "constraint-changed",
                where,
                f"{where.label}: {name} {_show(old, name)} -> {_show(new, name)}",
                old,
                substituted,
                pointer=pointer,
            )
            change.rule = self._rule(name, change, old, new)
            return
        old_keys, new_keys = {key(v) for v in before}, {key(v) for v in after}
        removed = [v for v in before if key(v) not in new_keys]
        added = [v for v in after if key(v) not in old_keys]
        if not removed and not added:
            changes.append(
                Change(
                    "annotation-changed",
                    where.area,
                    where.definition,
                    pointer,
                    f"{where.label}: {name} values reordered or repeated",
                    path=where.path,
                )
            )
            return
        writers, readers = self.verdict(old, substituted)
        for rule, found, role, reason in (
            ("enum-value-removed", removed, "writers", writers),
            ("enum-value-added", added, "readers", readers),
        ):
            if not found:
                continue
            change = Change(
                rule,
                where.area,
                where.definition,
                pointer,
                f"{where.label}: {name} values {'removed' if role == 'writers' else 'added'} "
                f"{json.dumps(found)}",
                path=where.path,
                values=found,
            )
            if reason is not None:
                setattr(change, role, True)
                change.conservative[role] = reason
            changes.append(change)


def _swap(old: dict[str, Any], new: dict[str, Any], name: str) -> dict[str, Any]:
    """``old`` with keyword ``name`` as in ``new``."""
    out = {k: v for k, v in old.items() if k != name}
    if name in new:
        out[name] = new[name]
    return out


def _slice(node: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """What an object node asks of the properties ``names`` alone (present or required)."""
    props = {n: schema_for(node, n) for n in names}
    required = [n for n in names if n in (node.get("required") or [])]
    out: dict[str, Any] = {"properties": props}
    if required:
        out["required"] = required
    return out


def _uses(*sides: Side) -> dict[tuple[str, str], set[tuple[str, str]]]:
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for side in sides:
        for area in side.docs:
            for name, node in side.definitions(area).items():
                found = edges.setdefault((area, name), set())
                for ref in _refs(node):
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


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        for name, value in node.items():
            if name not in ("enum", "const", "default", "examples") and not name.startswith("x-"):
                found.extend(_refs(value))
        return found
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
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
