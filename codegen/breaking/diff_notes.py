"""The diff of what is around the keywords: annotations, nullability, a file's root schema."""

from __future__ import annotations

from typing import Any

from codegen.breaking.algebra import NOTES
from codegen.breaking.diff_base import _NULL, DiffBase, Where, show
from codegen.breaking.model import Change
from codegen.breaking.sides import ROOT, Side, key

__all__ = ["NoteDiff"]


class NoteDiff(DiffBase):
    """Annotation and default changes, null accepted or not, added or removed root schemas."""

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
        self, where: Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
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

    def _notes(
        self, where: Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
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
                    f"{where.label}: default {show(old, 'default')} -> {show(new, 'default')}",
                    path=where.path,
                )
            )

    # ----------------------------------------------------------------------------- objects

    def _root_or_def(self, rule: str, where: Where, old: Any, new: Any) -> Change:
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
