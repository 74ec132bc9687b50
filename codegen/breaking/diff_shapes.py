"""The diff of the other keywords: items, unions, nullability, enum/const, plain keywords."""

from __future__ import annotations

import json
from typing import Any

from codegen.breaking.algebra import NOTES, type_atoms
from codegen.breaking.diff_base import (
    _ITEMS,
    _NULL,
    _OBJECT_REST,
    _UNIONS,
    DiffBase,
    Where,
    escape,
    show,
    swap,
)
from codegen.breaking.model import Change
from codegen.breaking.sides import key

__all__ = ["ShapeDiff"]


class ShapeDiff(DiffBase):
    """Items, ``anyOf``/``oneOf``/``allOf``/``not``, nullability and plain keywords."""

    def _items(
        self, where: Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
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
                f"{where.label}: {name} {show(old, name)} -> {show(new, name)}",
                old,
                swap(old, new, name),
                pointer=f"{where.pointer}/{name}",
                path=(*where.path, None),
            )

    def _unions(
        self, where: Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
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
        where: Where,
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

    def _keywords(
        self, where: Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        handled = {"properties", "required", *_OBJECT_REST, *_ITEMS, *_UNIONS, "anyOf", "oneOf"}
        for name in sorted(set(old) | set(new)):
            if name in handled or name in NOTES or name.startswith("x-"):
                continue
            if self.ident(self.old, old.get(name)) == self.ident(self.new, new.get(name)):
                continue
            substituted = swap(old, new, name)
            if name in ("enum", "const"):
                self._enum(where, old, new, name, substituted, changes)
                continue
            message = f"{where.label}: {name} {show(old, name)} -> {show(new, name)}"
            pointer = f"{where.pointer}/{escape(name)}"
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
        where: Where,
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
                f"{where.label}: {name} {show(old, name)} -> {show(new, name)}",
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
