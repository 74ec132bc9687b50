"""The diff of object keywords: properties added, removed, renamed, required, the rest."""

from __future__ import annotations

from typing import Any

from codegen.breaking.algebra import mapping
from codegen.breaking.diff_base import (
    _OBJECT_REST,
    DiffBase,
    Where,
    escape,
    show,
    slice_of,
    swap,
)
from codegen.breaking.model import Change

__all__ = ["ObjectDiff"]


class ObjectDiff(DiffBase):
    """Properties, ``required`` and the keywords for other property names."""

    def _object(
        self, where: Where, old: dict[str, Any], new: dict[str, Any], changes: list[Change]
    ) -> None:
        old_props = mapping(old.get("properties"))
        new_props = mapping(new.get("properties"))
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
                slice_of(old, [old_name, prop]),
                slice_of(new, [old_name, prop]),
                pointer=f"{where.pointer}/properties/{escape(prop)}",
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
                slice_of(old, [prop]),
                slice_of(new, [prop]),
                pointer=f"{where.pointer}/properties/{escape(prop)}",
                path=(*where.path, prop),
                values=[prop],
            )
        for prop, schema in new_props.items():
            inner = where.at(f"/properties/{escape(prop)}", prop)
            old_name = renamed.get(prop, prop)
            if old_name not in old_props:
                required = prop in new_req
                self._add(
                    changes,
                    "property-added-required" if required else "property-added-optional",
                    inner,
                    f"{where.label}.{prop} added ({'required' if required else 'optional'})",
                    slice_of(old, [prop]),
                    slice_of(new, [prop]),
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
                    slice_of(old, [old_name]),
                    slice_of(
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
                slice_of(old, [name]),
                slice_of(new, [name]),
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
                            where.at(f"/{name}/{escape(pattern)}"), before[pattern], after[pattern]
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
                f"{where.label}: {name} {show(old, name)} -> {show(new, name)}",
                old,
                swap(old, new, name),
                pointer=f"{where.pointer}/{name}",
            )
