"""The breaking-change gate: compare ``schemas/`` (and the SQL generated from it) with a git ref.

``python -m codegen breaking [REF]`` (``nox -s breaking -- REF``) loads the schemas of ``REF``
(default: the latest release tag ``v*``, else ``HEAD~1``) and of the working tree, and prints every
change with a rule id, the schema file, the JSON pointer and a verdict per role:

* **readers** (consumers still validating with the old schema) break when some instance valid
  under the new schema is invalid under the old one. Objects are closed, so even adding an
  optional property breaks them.
* **writers** (producers still writing the old shape, and data already stored) break when some
  instance valid under the old schema is invalid under the new one.
* **database** breaks when the forward migration would fail or lose data on existing rows
  (:mod:`codegen.migrations` decides, from the tables generated for both versions).

A change that breaks a role is fine when the major version of the schema file's ``$id`` is bumped
(a change inside a definition also affects every file whose definitions reference it, so those
need a bump too). Otherwise it fails the gate unless it is accepted in
``schemas/allowed-breaks.json`` by an entry ``{"rule", "schema", "pointer", "version",
"reason"}`` where ``version`` is the new ``$id`` of that schema (so an acceptance never
carries over to a later version) and ``reason`` says who reviewed it and why. For each breaking
change a counterexample is printed: an instance valid under one version and invalid under the
other, checked with both versions' validators.

A property can be declared renamed with ``"x-renamed-from": "<old name>"``; the gate then reports
one ``property-renamed`` change (and the migration renames the column) instead of a removal and an
addition.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.migrations import declared_renames, plan_migration
from codegen.schemas import SchemaDoc, SchemaSet, load_schema_set
from codegen.sql import tables

__all__ = [
    "ALLOW_LIST",
    "RULES",
    "Change",
    "Report",
    "compare",
    "default_ref",
    "load_schemas_at",
    "main",
    "run_gate",
]

ALLOW_LIST = "schemas/allowed-breaks.json"

#: Rule id -> what it detects. Verdicts are fixed per rule (and direction) below.
RULES: dict[str, str] = {
    "property-removed": "a property was removed",
    "property-renamed": "a property was renamed (declared with x-renamed-from)",
    "property-added-optional": "an optional property was added (closed objects: old readers break)",
    "property-added-required": "a required property was added",
    "optional-made-required": "an optional property became required",
    "required-made-optional": "a required property became optional",
    "type-narrowed": "a property's type admits fewer JSON types",
    "type-widened": "a property's type admits more JSON types",
    "type-changed": "a property's type or referenced definition changed",
    "enum-value-removed": "an enum value was removed",
    "enum-value-added": "an enum value was added (breaks exhaustive readers)",
    "constraint-tightened": "a range, length, item count, pattern or format constraint tightened",
    "constraint-loosened": "a range, length, item count, pattern or format constraint loosened",
    "constraint-changed": "a pattern or format changed (neither tighter nor looser)",
    "nullability-removed": "null is no longer accepted",
    "nullability-added": "null is now accepted",
    "additional-properties-changed": "additionalProperties changed",
    "definition-removed": "a definition was removed",
    "definition-added": "a definition was added",
    "default-changed": "a default value changed (validation unaffected)",
    "annotation-changed": "a description, title or example changed (breaks nobody)",
    "version-not-bumped": "a breaking change without a major version bump of the schema's $id",
    "sql-column-dropped": "the migration would drop a column and its data",
    "sql-table-dropped": "the migration would drop a table and its rows",
    "sql-type-changed": "the migration would change a column type",
    "sql-not-null-added": "the migration would add NOT NULL to an existing column",
    "sql-column-added-not-null": "the migration would add a NOT NULL column without default",
    "sql-check-narrowed": "the migration would narrow a CHECK constraint",
    "sql-unique-added": "the migration would add a unique constraint",
    "sql-primary-key-changed": "the migration would change a primary key",
    "sql-foreign-key-changed": "the migration would change a foreign key",
    "sql-rename-trigger-column": "a declared rename of a column that has an update trigger",
}

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
_ANNOTATIONS = ("description", "title", "examples", "$comment")
_OURS = ("x-sql", "x-table", "x-python-type", "x-renamed-from")


@dataclass
class Change:
    """One difference between the two versions, with its verdict per role."""

    rule: str
    area: str
    definition: str
    pointer: str
    message: str
    readers: bool = False
    writers: bool = False
    database: bool = False
    prop: str | None = None
    values: list[Any] = field(default_factory=list)
    accepted: str | None = None
    #: Per broken role: ``{"role", "valid_under": "new"|"old", "instance"}``, or without
    #: ``instance`` when the search found none (the verdict is then a conservative one).
    counterexamples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        """True when the change breaks at least one role."""
        return self.readers or self.writers or self.database


@dataclass
class Report:
    """Every change found, the versions of each file, and the gate's verdict."""

    changes: list[Change]
    failures: list[str]
    old_versions: dict[str, str]
    new_versions: dict[str, str]

    @property
    def ok(self) -> bool:
        """True when the gate passes."""
        return not self.failures


# --------------------------------------------------------------------------- normalisation


def _facets(schemas: SchemaSet, doc: SchemaDoc, node: dict[str, Any]) -> dict[str, Any]:
    """Reduce a property schema to comparable facets (refs to definitions kept by name)."""
    facets: dict[str, Any] = {"nullable": False}
    node = dict(node)
    variants = node.pop("anyOf", None)
    if variants is not None:
        others = [v for v in variants if v != {"type": "null"}]
        facets["nullable"] = len(others) != len(variants)
        if len(others) == 1:
            node = {**others[0], **{k: v for k, v in node.items() if k not in others[0]}}
        else:
            facets["anyOf"] = [_facets(schemas, doc, v) for v in others]
    if "$ref" in node:
        _, name, _ = schemas.resolve(doc.id, node["$ref"])
        facets["ref"] = name
    json_type = node.get("type")
    if isinstance(json_type, list):
        facets["nullable"] = facets["nullable"] or "null" in json_type
        facets["types"] = sorted(t for t in json_type if t != "null")
    elif isinstance(json_type, str):
        facets["types"] = [json_type]
    for key in (*_LOWER, *_UPPER, "pattern", "format", "enum", "const", "multipleOf"):
        if key in node:
            facets[key] = node[key]
    if "items" in node:
        facets["items"] = _facets(schemas, doc, node["items"])
    if "additionalProperties" in node:
        facets["additionalProperties"] = node["additionalProperties"]
    if "default" in node:
        facets["default"] = node["default"]
    facets["annotations"] = {k: node[k] for k in _ANNOTATIONS if k in node}
    return facets


def _type_set(types: list[str] | None) -> set[str]:
    found = set(types or ["any"])
    if "number" in found:
        found.add("integer")
    return found


# --------------------------------------------------------------------------- comparison


class _Comparer:
    def __init__(self, old: SchemaSet, new: SchemaSet) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []

    def add(
        self, rule: str, area: str, definition: str, pointer: str, message: str, **kw: Any
    ) -> None:
        self.changes.append(Change(rule, area, definition, pointer, message, **kw))

    def compare_facets(
        self,
        area: str,
        definition: str,
        pointer: str,
        prop: str | None,
        old: dict[str, Any],
        new: dict[str, Any],
        old_doc: SchemaDoc,
        new_doc: SchemaDoc,
    ) -> None:
        where: dict[str, Any] = {"area": area, "definition": definition, "prop": prop}
        label = f"{definition}.{prop}" if prop else definition
        if old.get("ref") != new.get("ref"):
            old_target = self._target(self.old, old_doc, old)
            new_target = self._target(self.new, new_doc, new)
            if old_target is not None and new_target is not None:
                # Scalar definitions swapped: compare what they admit.
                merged_old = {**_facets(self.old, old_target[0], old_target[1]), **_strip_ref(old)}
                merged_new = {**_facets(self.new, new_target[0], new_target[1]), **_strip_ref(new)}
                self.compare_facets(
                    area, definition, pointer, prop, merged_old, merged_new, old_doc, new_doc
                )
                return
            self.add(
                "type-changed",
                message=f"{label}: refers to {old.get('ref')} -> {new.get('ref')}",
                pointer=pointer,
                readers=True,
                writers=True,
                **where,
            )
            return
        old_types, new_types = _type_set(old.get("types")), _type_set(new.get("types"))
        if old.get("types") != new.get("types") and old_types != new_types:
            if new_types < old_types or ("any" in old_types and "any" not in new_types):
                rule, readers, writers = "type-narrowed", False, True
            elif new_types > old_types or "any" in new_types:
                rule, readers, writers = "type-widened", True, False
            else:
                rule, readers, writers = "type-changed", True, True
            self.add(
                rule,
                message=f"{label}: type {old.get('types')} -> {new.get('types')}",
                pointer=f"{pointer}/type",
                readers=readers,
                writers=writers,
                **where,
            )
        if old["nullable"] and not new["nullable"]:
            self.add(
                "nullability-removed",
                message=f"{label}: null no longer accepted",
                pointer=pointer,
                writers=True,
                **where,
            )
        elif new["nullable"] and not old["nullable"]:
            self.add(
                "nullability-added",
                message=f"{label}: null now accepted",
                pointer=pointer,
                readers=True,
                **where,
            )
        self._enum(label, pointer, old, new, where)
        self._bounds(label, pointer, old, new, where)
        for key in ("pattern", "format", "const", "multipleOf"):
            if old.get(key) == new.get(key):
                continue
            if key not in new:
                rule, readers, writers = "constraint-loosened", True, False
            elif key not in old:
                rule, readers, writers = "constraint-tightened", False, True
            else:
                rule, readers, writers = "constraint-changed", True, True
            self.add(
                rule,
                message=f"{label}: {key} {old.get(key)!r} -> {new.get(key)!r}",
                pointer=f"{pointer}/{key}",
                readers=readers,
                writers=writers,
                **where,
            )
        if old.get("additionalProperties") != new.get("additionalProperties"):
            opened = new.get("additionalProperties") is not False
            self.add(
                "additional-properties-changed",
                message=f"{label}: additionalProperties {old.get('additionalProperties')!r} -> "
                f"{new.get('additionalProperties')!r}",
                pointer=f"{pointer}/additionalProperties",
                readers=opened,
                writers=not opened,
                **where,
            )
        if "items" in old and "items" in new:
            self.compare_facets(
                area,
                definition,
                f"{pointer}/items",
                prop,
                old["items"],
                new["items"],
                old_doc,
                new_doc,
            )
        elif "items" in old or "items" in new:
            self.add(
                "type-changed",
                message=f"{label}: items schema added or removed",
                pointer=f"{pointer}/items",
                readers=True,
                writers=True,
                **where,
            )
        if old.get("anyOf") != new.get("anyOf"):
            self.add(
                "type-changed",
                message=f"{label}: union of types changed",
                pointer=f"{pointer}/anyOf",
                readers=True,
                writers=True,
                **where,
            )
        if old.get("default") != new.get("default"):
            self.add(
                "default-changed",
                message=f"{label}: default {old.get('default')!r} -> {new.get('default')!r}",
                pointer=f"{pointer}/default",
                **where,
            )
        if old["annotations"] != new["annotations"]:
            self.add(
                "annotation-changed",
                message=f"{label}: description/title/examples changed",
                pointer=pointer,
                **where,
            )

    def _target(
        self, schemas: SchemaSet, doc: SchemaDoc, facets: dict[str, Any]
    ) -> tuple[SchemaDoc, dict[str, Any]] | None:
        name = facets.get("ref")
        if name is None:
            return doc, {}
        for candidate in schemas.docs:
            target = candidate.definitions().get(name)
            if target is not None:
                if target.get("type") == "object" and "properties" in target:
                    return None
                return candidate, target
        return None

    def _enum(
        self,
        label: str,
        pointer: str,
        old: dict[str, Any],
        new: dict[str, Any],
        where: dict[str, Any],
    ) -> None:
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if old_enum == new_enum:
            return
        if old_enum is None or new_enum is None:
            tightened = new_enum is not None
            self.add(
                "constraint-tightened" if tightened else "constraint-loosened",
                message=f"{label}: enum {'added' if tightened else 'removed'}",
                pointer=f"{pointer}/enum",
                readers=not tightened,
                writers=tightened,
                values=list(new_enum or old_enum or []),
                **where,
            )
            return
        removed = [v for v in old_enum if v not in new_enum]
        added = [v for v in new_enum if v not in old_enum]
        if removed:
            self.add(
                "enum-value-removed",
                message=f"{label}: enum values removed {removed}",
                pointer=f"{pointer}/enum",
                writers=True,
                values=removed,
                **where,
            )
        if added:
            self.add(
                "enum-value-added",
                message=f"{label}: enum values added {added}",
                pointer=f"{pointer}/enum",
                readers=True,
                values=added,
                **where,
            )

    def _bounds(
        self,
        label: str,
        pointer: str,
        old: dict[str, Any],
        new: dict[str, Any],
        where: dict[str, Any],
    ) -> None:
        for key in (*_LOWER, *_UPPER):
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            lower = key in _LOWER
            if before is None:
                tightened = True
            elif after is None:
                tightened = False
            else:
                tightened = after > before if lower else after < before
            self.add(
                "constraint-tightened" if tightened else "constraint-loosened",
                message=f"{label}: {key} {before!r} -> {after!r}",
                pointer=f"{pointer}/{key}",
                readers=not tightened,
                writers=tightened,
                values=[before, after],
                **where,
            )

    def compare_object(self, area: str, name: str, old_doc: SchemaDoc, new_doc: SchemaDoc) -> None:
        old_def, new_def = old_doc.definitions()[name], new_doc.definitions()[name]
        base = f"/$defs/{name}"
        where: dict[str, Any] = {"area": area, "definition": name}
        old_props: dict[str, Any] = old_def.get("properties", {})
        new_props: dict[str, Any] = new_def.get("properties", {})
        old_required, new_required = (
            set(old_def.get("required", [])),
            set(new_def.get("required", [])),
        )
        renamed = {
            prop: schema["x-renamed-from"]
            for prop, schema in new_props.items()
            if schema.get("x-renamed-from") in old_props
            and schema["x-renamed-from"] not in new_props
            and prop not in old_props
        }
        for prop, old_name in renamed.items():
            self.add(
                "property-renamed",
                message=f"{name}.{old_name} renamed to {prop}",
                pointer=f"{base}/properties/{prop}",
                readers=old_name in old_required or prop in new_required,
                writers=True,
                prop=old_name,
                values=[old_name, prop],
                **where,
            )
        old_names = {renamed.get(p, p) for p in new_props}
        for prop in old_props:
            if prop in old_names or prop in renamed.values():
                continue
            self.add(
                "property-removed",
                message=f"{name}.{prop} removed",
                pointer=f"{base}/properties/{prop}",
                readers=prop in old_required,
                writers=True,
                prop=prop,
                **where,
            )
        for prop, schema in new_props.items():
            old_name = renamed.get(prop, prop)
            pointer = f"{base}/properties/{prop}"
            if old_name not in old_props:
                required = prop in new_required
                self.add(
                    "property-added-required" if required else "property-added-optional",
                    message=f"{name}.{prop} added ({'required' if required else 'optional'})",
                    pointer=pointer,
                    readers=True,
                    writers=required,
                    prop=prop,
                    **where,
                )
                continue
            was_required, is_required = old_name in old_required, prop in new_required
            if is_required and not was_required:
                self.add(
                    "optional-made-required",
                    message=f"{name}.{prop} is now required",
                    pointer=f"{base}/required",
                    writers=True,
                    prop=prop,
                    **where,
                )
            elif was_required and not is_required:
                self.add(
                    "required-made-optional",
                    message=f"{name}.{prop} is now optional",
                    pointer=f"{base}/required",
                    readers=True,
                    prop=prop,
                    **where,
                )
            self.compare_facets(
                area,
                name,
                pointer,
                prop,
                _facets(self.old, old_doc, old_props[old_name]),
                _facets(self.new, new_doc, schema),
                old_doc,
                new_doc,
            )
        old_extra = old_def.get("additionalProperties", True)
        new_extra = new_def.get("additionalProperties", True)
        if old_extra != new_extra:
            opened = new_extra is not False
            self.add(
                "additional-properties-changed",
                message=f"{name}: additionalProperties {old_extra!r} -> {new_extra!r}",
                pointer=f"{base}/additionalProperties",
                readers=opened,
                writers=not opened,
                **where,
            )
        old_notes = {k: old_def.get(k) for k in _ANNOTATIONS}
        if old_notes != {k: new_def.get(k) for k in _ANNOTATIONS}:
            self.add(
                "annotation-changed",
                message=f"{name}: description/title/examples changed",
                pointer=base,
                **where,
            )

    def run(self) -> list[Change]:
        for new_doc in self.new.docs:
            old_doc = self.old.by_area.get(new_doc.area)
            if old_doc is None:
                continue
            area = new_doc.area
            for name, new_def in new_doc.definitions().items():
                if name not in old_doc.definitions():
                    self.add("definition-added", area, name, f"/$defs/{name}", f"{name} added")
                    continue
                old_def = old_doc.definitions()[name]
                if "properties" in new_def or "properties" in old_def:
                    self.compare_object(area, name, old_doc, new_doc)
                else:
                    self.compare_facets(
                        area,
                        name,
                        f"/$defs/{name}",
                        None,
                        _facets(self.old, old_doc, old_def),
                        _facets(self.new, new_doc, new_def),
                        old_doc,
                        new_doc,
                    )
        for old_doc in self.old.docs:
            current = self.new.by_area.get(old_doc.area)
            for name in old_doc.definitions():
                if current is None or name not in current.definitions():
                    self.add(
                        "definition-removed",
                        old_doc.area,
                        name,
                        f"/$defs/{name}",
                        f"{name} removed",
                        readers=True,
                        writers=True,
                    )
        self.database()
        return self.changes

    def database(self) -> None:
        plan = plan_migration(tables(self.old), tables(self.new), declared_renames(self.new))
        owners = {t.name: (t.area, t.definition) for t in tables(self.new)}
        owners.update({t.name: (t.area, t.definition) for t in tables(self.old)})
        for unsafe in plan.unsafe:
            area, definition = owners[unsafe.table]
            pointer = f"/$defs/{definition}"
            if unsafe.column:
                pointer += f"/properties/{unsafe.column}"
            self.add(
                unsafe.rule,
                area,
                definition,
                pointer,
                unsafe.message,
                database=True,
                prop=unsafe.column,
            )


def _strip_ref(facets: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in facets.items() if k not in ("ref", "nullable", "annotations")} | {
        "nullable": facets["nullable"],
        "annotations": facets["annotations"],
    }


# --------------------------------------------------------------------------- counterexamples


def _instances(schemas: SchemaSet) -> dict[str, list[Any]]:
    """Instances of every object definition, taken from the examples (nested ones included)."""
    found: dict[str, list[Any]] = {}

    def walk(doc: SchemaDoc, schema: dict[str, Any], value: Any) -> None:
        if "$ref" in schema:
            target_doc, name, target = schemas.resolve(doc.id, schema["$ref"])
            if isinstance(value, dict) == ("properties" in target):
                found.setdefault(name, []).append(value)
            walk(target_doc, target, value)
            return
        for variant in schema.get("anyOf", []):
            walk(doc, variant, value)
        if isinstance(value, dict):
            for key, item in value.items():
                prop = schema.get("properties", {}).get(key)
                if prop is not None:
                    walk(doc, prop, item)
        if isinstance(value, list) and isinstance(schema.get("items"), dict):
            for item in value:
                walk(doc, schema["items"], item)

    for doc in schemas.docs:
        for name, schema in doc.definitions().items():
            for example in schema.get("examples", []):
                if isinstance(example, dict):
                    found.setdefault(name, []).append(example)
                walk(doc, schema, example)
    return found


def _scalar_candidates(schemas: list[SchemaSet], facets: list[dict[str, Any]]) -> list[Any]:
    values: list[Any] = [None, True, 0, 1, -1, 0.5, 2147483648, "", "a", [], {}]
    for f in facets:
        values.extend(f.get("enum") or [])
        if "const" in f:
            values.append(f["const"])
        if "default" in f:
            values.append(f["default"])
        for key in (*_LOWER, *_UPPER):
            bound = f.get(key)
            if isinstance(bound, (int, float)):
                for delta in (-1, 0, 1):
                    n = bound + delta
                    values.extend([n, "a" * max(int(n), 0), ["a"] * max(int(n), 0)])
        ref = f.get("ref")
        for s in schemas:
            for doc in s.docs:
                target = doc.definitions().get(ref or "")
                if target is not None:
                    values.extend(target.get("examples", []))
                    values.extend(target.get("enum", []))
    return values


_PROBES = [
    " ",
    "#",
    "?",
    "/",
    "\\",
    "<",
    ">",
    '"',
    "{",
    "|",
    "^",
    "`",
    "\t",
    "\x7f",
    "é",
    "A",
    "_",
    "-",
    ".",
]


def _search(
    area_old: str,
    area_new: str,
    change: Change,
    old: SchemaSet,
    new: SchemaSet,
    bases: list[Any],
    candidates: list[Any],
    want_valid_new: bool,
) -> Any | None:
    """Find an instance valid under exactly one version (new when ``want_valid_new``)."""
    old_validator = old.validator(area_old, change.definition)
    new_validator = new.validator(area_new, change.definition)

    def variants(current: Any) -> Iterator[Any]:
        yield from candidates
        if isinstance(current, list) and current:
            for value in candidates:
                yield [value, *current[1:]]
            yield [*current, *current]
            for item in variants(current[0]):
                yield [item, *current[1:]]
        if isinstance(current, str):
            yield current + "a" * 5000
            for probe in _PROBES:
                middle = len(current) // 2
                yield current + probe
                yield current[:middle] + probe + current[middle:]
                yield probe + current

    def tries() -> Iterator[Any]:
        for base in bases:
            yield base
            if isinstance(base, dict):
                yield {**base, "unexpected_property": 1}
            if change.prop is None:
                yield from variants(base)
                continue
            if not isinstance(base, dict):
                continue
            if change.prop in base:
                yield {k: v for k, v in base.items() if k != change.prop}
            for value in variants(base.get(change.prop)):
                yield {**base, change.prop: value}
            yield {**base, "unexpected_property": 1}
            for renamed in change.values[1:2]:
                if change.prop in base and isinstance(renamed, str):
                    moved = {k: v for k, v in base.items() if k != change.prop}
                    yield {**moved, renamed: base[change.prop]}
        yield from candidates

    for instance in tries():
        try:
            valid_old = old_validator.is_valid(instance)
            valid_new = new_validator.is_valid(instance)
        except Exception:  # an unusable candidate is skipped, never fatal
            continue
        if valid_new == want_valid_new and valid_old != want_valid_new:
            return copy.deepcopy(instance)
    return None


def _counterexamples(changes: list[Change], old: SchemaSet, new: SchemaSet) -> None:
    old_instances, new_instances = _instances(old), _instances(new)
    for change in changes:
        if not (change.readers or change.writers) or change.rule.startswith("definition-"):
            continue
        area_old = _area_of(old, change.definition)
        area_new = _area_of(new, change.definition)
        if area_old is None or area_new is None:
            continue
        facets = []
        for s, area in ((old, area_old), (new, area_new)):
            definition = s.by_area[area].definitions()[change.definition]
            for name in (change.prop, *(v for v in change.values if isinstance(v, str))):
                prop = definition.get("properties", {}).get(name)
                if isinstance(prop, dict):
                    facets.append(_facets(s, s.by_area[area], prop))
            if change.prop is None:
                facets.append(_facets(s, s.by_area[area], definition))
        candidates = [*change.values, *_scalar_candidates([old, new], facets)]
        for item_facets in [f["items"] for f in facets if "items" in f]:
            candidates.extend(_scalar_candidates([old, new], [item_facets]))
        for role, want_new in (("readers", True), ("writers", False)):
            if not getattr(change, role):
                continue
            bases = (new_instances if want_new else old_instances).get(change.definition, [])
            bases = bases + (old_instances if want_new else new_instances).get(
                change.definition, []
            )
            if not bases:
                bases = [v for v in candidates if not isinstance(v, dict)]
            found = _search(area_old, area_new, change, old, new, bases, candidates, want_new)
            example: dict[str, Any] = {"role": role, "valid_under": "new" if want_new else "old"}
            if found is not None:
                example["instance"] = found
            change.counterexamples.append(example)


def _area_of(schemas: SchemaSet, definition: str) -> str | None:
    for doc in schemas.docs:
        if definition in doc.definitions():
            return doc.area
    return None


# --------------------------------------------------------------------------- the gate


def _dependents(schemas: SchemaSet) -> dict[str, set[str]]:
    """Definition name -> areas whose definitions reference it, directly or transitively."""
    edges: dict[str, set[str]] = {}
    owner = {name: doc.area for doc in schemas.docs for name in doc.definitions()}

    def refs(doc: SchemaDoc, node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield schemas.resolve(doc.id, value)[1]
                else:
                    yield from refs(doc, value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(doc, item)

    for doc in schemas.docs:
        for name, schema in doc.definitions().items():
            for target in refs(doc, schema):
                edges.setdefault(target, set()).add(name)
    result: dict[str, set[str]] = {}
    for name in owner:
        seen: set[str] = set()
        stack = [name]
        while stack:
            for user in edges.get(stack.pop(), set()):
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
        result[name] = {owner[n] for n in seen} | {owner[name]}
    return result


def _allow_list(root: Path) -> list[dict[str, str]]:
    path = root / ALLOW_LIST
    if not path.exists():
        return []
    entries: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    for entry in entries:
        missing = {"rule", "schema", "pointer", "version", "reason"} - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise ValueError(
                f"{ALLOW_LIST}: entry {entry} needs rule, schema, pointer, version "
                "and a non-empty reason"
            )
    return entries


def compare(old: SchemaSet, new: SchemaSet, allowed: list[dict[str, str]] | None = None) -> Report:
    """Compare two schema sets and decide the gate.

    Args:
        old: The schemas at the base ref.
        new: The schemas of the working tree.
        allowed: Allow-list entries (see the module docstring).

    Returns:
        The report: every change with verdicts and counterexamples, and the failures.
    """
    changes = _Comparer(old, new).run()
    _counterexamples(changes, old, new)
    old_versions = {d.area: d.id for d in old.docs}
    new_versions = {d.area: d.id for d in new.docs}
    dependents = _dependents(new)
    failures: list[str] = []
    for change in changes:
        if not change.breaking:
            continue
        areas = dependents.get(change.definition, {change.area}) | {change.area}
        for area in sorted(areas):
            if area not in old.by_area or area not in new.by_area:
                continue
            if new.by_area[area].version[0] > old.by_area[area].version[0]:
                continue
            entry = next(
                (
                    e
                    for e in allowed or []
                    if e["rule"] == change.rule
                    and e["schema"] == change.area
                    and e["pointer"] == change.pointer
                    and e["version"] == new_versions.get(change.area)
                ),
                None,
            )
            if entry is not None:
                change.accepted = entry["reason"]
                continue
            failures.append(
                f"[version-not-bumped] {area}: {change.rule} at {change.area}#{change.pointer} "
                f"breaks {_roles(change)} but {new_versions[area]} keeps major version "
                f"{old.by_area[area].version[0]}"
            )
    return Report(changes, sorted(set(failures)), old_versions, new_versions)


def _roles(change: Change) -> str:
    roles = [r for r in ("readers", "writers", "database") if getattr(change, r)]
    return ", ".join(roles) or "nobody"


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
            f"{role}={'BREAKS' if getattr(change, role) else 'ok'}"
            for role in ("readers", "writers", "database")
        )
        lines.append(f"- [{change.rule}] {change.area}#{change.pointer}: {change.message}")
        lines.append(f"    {verdict}")
        if change.accepted:
            lines.append(f"    accepted by {ALLOW_LIST}: {change.accepted}")
        for example in change.counterexamples:
            if "instance" not in example:
                lines.append(
                    f"    counterexample ({example['role']}): none found by the search; the "
                    "verdict is conservative"
                )
                continue
            other = "old" if example["valid_under"] == "new" else "new"
            instance = json.dumps(example["instance"], sort_keys=True)
            lines.append(
                f"    counterexample ({example['role']}): valid under {example['valid_under']},"
                f" invalid under {other} {change.definition}: {instance}"
            )
    breaking = sum(1 for c in report.changes if c.breaking)
    failing = len(report.failures)
    lines.append(f"{len(report.changes)} changes, {breaking} breaking, {failing} failing the gate")
    lines.extend(report.failures)
    if report.failures:
        lines.append(
            "bump the major version of each schema's $id (and every $ref to it), or accept a "
            f"reviewed break in {ALLOW_LIST}"
        )
    return "\n".join(lines)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def default_ref(root: Path) -> str | None:
    """The latest release tag (``v*``) reachable from HEAD, else ``HEAD~1``; None if neither."""
    tag = _git(root, "describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD")
    if tag.returncode == 0 and tag.stdout.strip():
        return tag.stdout.strip()
    if _git(root, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}").returncode == 0:
        return "HEAD~1"
    return None


def load_schemas_at(root: Path, ref: str, folder: Path) -> SchemaSet:
    """Write the ``schemas/*.schema.json`` of ``ref`` into ``folder`` and load them.

    Raises:
        ValueError: ``ref`` is not a commit of the repository.
    """
    listing = _git(root, "ls-tree", "--name-only", f"{ref}:schemas")
    if listing.returncode != 0:
        raise ValueError(f"cannot read schemas/ at {ref!r}: {listing.stderr.strip()}")
    for name in listing.stdout.split():
        if name.endswith(".schema.json"):
            blob = _git(root, "show", f"{ref}:schemas/{name}")
            (folder / name).write_text(blob.stdout, encoding="utf-8")
    return load_schema_set(folder)


def run_gate(root: Path, ref: str) -> Report:
    """Compare the working tree's ``schemas/`` under ``root`` with ``ref``.

    Raises:
        ValueError: ``ref`` has no schemas, or the allow-list is malformed.
    """
    with tempfile.TemporaryDirectory(prefix="videogen-breaking-") as tmp:
        old = load_schemas_at(root, ref, Path(tmp))
        new = load_schema_set(root / "schemas")
        return compare(old, new, _allow_list(root))


def main(root: Path, ref: str | None) -> int:
    """Run the gate for ``root`` against ``ref``; print the report; return the exit status."""
    if ref is None:
        ref = default_ref(root)
        if ref is None:
            print("breaking: no release tag and no parent commit to compare with; nothing to do")
            return 0
    try:
        report = run_gate(root, ref)
    except ValueError as exc:
        print(f"breaking: {exc}", file=sys.stderr)
        return 2
    print(format_report(report, ref))
    return 0 if report.ok else 1
