"""Shared pieces of the diff: where a change is, constants, and what the mixins rely on."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from codegen.breaking.algebra import schema_for
from codegen.breaking.model import Change, Path_
from codegen.breaking.sides import Side, key

__all__ = ["DiffBase", "Where", "escape", "show", "slice_of", "swap"]


_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_UNIONS = ("anyOf", "oneOf", "allOf", "not")
_OBJECT_REST = ("additionalProperties", "patternProperties", "unevaluatedProperties")
_ITEMS = ("items", "prefixItems", "unevaluatedItems")
_NULL = key({"type": "null"})
_NO_VALIDATION = ("annotation-changed", "default-changed")


def escape(name: str) -> str:
    """A name as a JSON pointer token."""
    return name.replace("~", "~0").replace("/", "~1")


def show(node: dict[str, Any], name: str) -> str:
    """A keyword's value for a message (``absent`` when missing)."""
    if name not in node:
        return "absent"
    text = json.dumps(node[name], sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Where:
    """Where a change is: the file, the definition, the JSON pointer and the instance path."""

    area: str
    definition: str
    pointer: str
    path: Path_

    def at(self, suffix: str, *steps: str | int | None) -> Where:
        """A place below this one."""
        return replace(self, pointer=self.pointer + suffix, path=self.path + steps)

    @property
    def label(self) -> str:
        """The place as ``Definition.prop[]``."""
        parts = [self.definition]
        for step in self.path:
            parts.append("[]" if step is None or isinstance(step, int) else f".{step}")
        return "".join(parts)


class DiffBase:
    """What the diff mixins use from :class:`codegen.breaking.rules.Differ`."""

    old: Side
    new: Side

    def ident(self, side: Side, node: Any) -> str:
        """A node's validation text, references by definition identity."""
        raise NotImplementedError

    def verdict(self, old: Any, new: Any) -> tuple[str | None, str | None]:
        """``(writers reason, readers reason)``."""
        raise NotImplementedError

    def node(self, where: Where, old: Any, new: Any) -> list[Change]:
        """Changes at one node and below."""
        raise NotImplementedError

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
        raise NotImplementedError


def swap(old: dict[str, Any], new: dict[str, Any], name: str) -> dict[str, Any]:
    """``old`` with keyword ``name`` as in ``new``."""
    out = {k: v for k, v in old.items() if k != name}
    if name in new:
        out[name] = new[name]
    return out


def slice_of(node: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """What an object node asks of the properties ``names`` alone (present or required)."""
    props = {n: schema_for(node, n) for n in names}
    required = [n for n in names if n in (node.get("required") or [])]
    out: dict[str, Any] = {"properties": props}
    if required:
        out["required"] = required
    return out
