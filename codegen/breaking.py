"""The breaking-change gate: compare ``schemas/`` (and the SQL generated from it) with a git ref.

``python -m codegen breaking [REF]`` (``nox -s breaking -- REF``) loads the schemas of ``REF``
and of the working tree, and prints every change with a rule id, the schema file, the JSON pointer
and a verdict per role:

* **readers** (consumers still validating with the old schema) break when some instance valid
  under the new schema is invalid under the old one. Objects are closed, so even adding an
  optional property (or renaming one) breaks them.
* **writers** (producers still writing the old shape, and data already stored) break when some
  instance valid under the old schema is invalid under the new one.
* **database** breaks when the forward migration would fail or lose data on existing rows
  (:mod:`codegen.migrations` decides, from the tables generated for both versions). Such an SQL
  effect is attached to the schema change at the same property (or at the definition the column
  refers to), so a change has one verdict per role; it is a change of its own only when no schema
  change explains it (an ``x-table`` or ``x-sql`` edit).

Every subschema is compared in full after normalisation (annotations, defaults and ``x-``
keywords set aside): keywords with a specific rule (type, enum, bounds, pattern, properties,
required...) get it, and a difference in any other keyword (``not``, ``allOf``, ``oneOf``,
``prefixItems``, ``dependentRequired``...) is a ``constraint-changed`` that breaks readers and
writers (conservative). Inline nested objects are compared property by property, like definitions.
A schema file that disappears is a ``schema-removed`` break; a new file is reported, and is safe.

Default ``REF``: the latest release tag ``v*`` reachable from ``HEAD^`` (a tag on ``HEAD`` itself
is the release being checked, not its base), else ``HEAD~1``. A shallow clone without such a tag
fails (exit 2: fetch the history or pass a ref); only the first commit of a full clone has nothing
to compare with, and passes with a message.

A change that breaks a role is fine when the major version of the schema file's ``$id`` is bumped
(a change inside a definition also affects every file whose definitions reference it, so those
need a bump too). Otherwise it fails the gate unless it is accepted in
``schemas/allowed-breaks.json`` by an entry ``{"rule", "schema", "pointer", "version", "change",
"reason"}``: ``version`` is the ``$id`` of that schema in the new version (the old one for a
removed file), ``change`` the change id the gate prints, a hash of the rule, schema, pointer and
the exact old and new values at the pointer, so an entry accepts that one change and never a later,
different one at the same place; ``reason`` says who reviewed it and why. An entry that matches no
change of the comparison is printed as a warning (it does not fail the gate: entries for changes
older than the compared ref stay in the file, and match nothing in later comparisons).

For each breaking change a counterexample is printed: an instance valid under one version and
invalid under the other, checked with both versions' validators. The search starts from the
schemas' examples (and the values nested in them) and mutates them: enum, bound and format values
of the changed schemas, varied digits, letter case, deleted, inserted and appended characters,
removed, added and renamed properties, shortened and duplicated arrays.

A property can be declared renamed with ``"x-renamed-from": "<old name>"``; the gate then reports
one ``property-renamed`` change (and the migration renames the column) instead of a removal and an
addition.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
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
    "change_id",
    "compare",
    "default_ref",
    "load_schemas_at",
    "main",
    "run_gate",
]

ALLOW_LIST = "schemas/allowed-breaks.json"

#: Rule id -> what it detects. Verdicts are fixed per rule (and direction) below.
RULES: dict[str, str] = {
    "schema-removed": "a schema file was removed",
    "schema-added": "a schema file was added",
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
    "constraint-changed": "a constraint changed and no rule tells tighter from looser (a rewritten "
    "pattern, or a keyword without a specific rule: not, allOf, oneOf, prefixItems, "
    "dependentRequired...): conservatively breaks readers and writers",
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

_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains")
_KEYWORDS = ("pattern", "format", "const", "multipleOf")
_ANNOTATIONS = (
    "description",
    "title",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
)
#: Keywords whose value is a map of schemas, a list of schemas, or one schema.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
#: Keywords the facets below compare with a specific rule; any other one is compared generically.
_HANDLED = frozenset(
    {
        "$ref",
        "type",
        "anyOf",
        "enum",
        "uniqueItems",
        "items",
        "additionalProperties",
        "properties",
        "required",
        "default",
        *_LOWER,
        *_UPPER,
        *_KEYWORDS,
        *_ANNOTATIONS,
    }
)
_CHANGE_ID = re.compile(r"^[0-9a-f]{12}$")
_NULL = {"type": "null"}

Path_ = tuple[str | int | None, ...]


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
    #: ``instance`` when the search found none (the verdict is then a conservative one). The
    #: ``database`` role reuses the writers' instance: a stored row holding it.
    counterexamples: list[dict[str, Any]] = field(default_factory=list)
    #: The SQL effects attached to this change (``[rule] message``), which make it break the
    #: database.
    sql: list[str] = field(default_factory=list)
    #: Where the change is in an instance of ``definition``: property names, ``None`` for any
    #: array item.
    path: Path_ = ()
    #: The change id (see :func:`change_id`), set by :func:`compare`.
    id: str = ""
    #: ``((old $id, old schema), (new $id, new schema))`` of the changed subschema, to draw
    #: counterexample candidates from.
    nodes: tuple[tuple[str, Any], tuple[str, Any]] | None = field(default=None, repr=False)

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
    #: Allow-list entries that matched no change of this comparison.
    warnings: list[str] = field(default_factory=list)
    #: A ready-to-review allow-list entry for every unaccepted failing change.
    suggestions: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the gate passes."""
        return not self.failures


# --------------------------------------------------------------------------- normalisation


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _validation_only(node: Any) -> Any:
    """A schema without what does not affect validation: annotations, defaults, ``x-`` keys."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS or key == "default" or key.startswith("x-"):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _validation_only(v) for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_validation_only(v) for v in value]
        elif key in _SCHEMA_ONE:
            out[key] = _validation_only(value)
        else:
            out[key] = value
    return out


def _facets(schemas: SchemaSet, doc: SchemaDoc, raw: dict[str, Any]) -> dict[str, Any]:
    """Reduce a schema to comparable facets (refs to definitions kept by name).

    ``rest`` holds every keyword without a specific rule, normalised, so that nothing escapes the
    comparison; ``raw`` is the schema as written (for counterexample candidates).
    """
    facets: dict[str, Any] = {"nullable": False, "raw": raw}
    node = dict(raw)
    variants = node.pop("anyOf", None)
    if isinstance(variants, list):
        others = [v for v in variants if _validation_only(v) != _NULL]
        facets["nullable"] = len(others) != len(variants)
        if len(others) == 1 and isinstance(others[0], dict):
            node = {**others[0], **{k: v for k, v in node.items() if k not in others[0]}}
        else:
            facets["anyOf"] = [_validation_only(v) for v in others]
            facets["anyOf_raw"] = others
    elif variants is not None:
        node["anyOf"] = variants
    if "$ref" in node:
        _, name, _ = schemas.resolve(doc.id, node["$ref"])
        facets["ref"] = name
    json_type = node.get("type")
    if isinstance(json_type, list):
        facets["nullable"] = facets["nullable"] or "null" in json_type
        facets["types"] = sorted(t for t in json_type if t != "null")
    elif isinstance(json_type, str):
        if json_type == "null":
            facets["nullable"] = True
            facets["types"] = []
        else:
            facets["types"] = [json_type]
    for key in (*_LOWER, *_UPPER, *_KEYWORDS, "enum", "uniqueItems", "properties", "required"):
        if key in node:
            facets[key] = node[key]
    if isinstance(node.get("items"), dict):
        facets["items"] = _facets(schemas, doc, node["items"])
    elif "items" in node:
        facets["items_other"] = node["items"]
    if "additionalProperties" in node:
        extra = _validation_only(node["additionalProperties"])
        facets["additionalProperties"] = True if extra == {} else extra
    if "default" in node:
        facets["default"] = node["default"]
    facets["annotations"] = {k: node[k] for k in _ANNOTATIONS if k in node}
    rest_keys = [k for k in node if k not in _HANDLED and not k.startswith("x-")]
    facets["rest"] = _validation_only({k: node[k] for k in rest_keys})
    facets["rest_raw"] = {k: node[k] for k in rest_keys}
    return facets


def _type_set(types: list[str] | None) -> set[str]:
    found = set(types if types is not None else ["any"])
    if "number" in found:
        found.add("integer")
    return found


def _closed(facets: dict[str, Any]) -> bool:
    """True when the object may reject a property it does not declare."""
    return facets.get("additionalProperties", True) is not True


def _merge(target: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """Facets of a ``$ref`` target overlaid with the referring schema's own keywords."""
    merged = dict(target)
    for key, value in own.items():
        if key == "ref":
            continue
        if key in ("rest", "rest_raw"):
            merged[key] = {**target.get(key, {}), **value}
        elif key == "nullable":
            merged[key] = bool(target.get(key)) or bool(value)
        else:
            merged[key] = value
    merged.pop("ref", None)
    return merged


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class _Where:
    area: str
    definition: str
    pointer: str
    path: Path_
    old_doc: SchemaDoc
    new_doc: SchemaDoc

    def at(self, suffix: str, *steps: str | None) -> _Where:
        return replace(self, pointer=self.pointer + suffix, path=self.path + steps)

    @property
    def label(self) -> str:
        parts = [self.definition]
        for step in self.path:
            parts.append("[]" if step is None else f".{step}")
        return "".join(parts)


class _Comparer:
    def __init__(self, old: SchemaSet, new: SchemaSet) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []

    def add(
        self,
        rule: str,
        where: _Where,
        message: str,
        *,
        pointer: str | None = None,
        old: Any = None,
        new: Any = None,
        path: Path_ | None = None,
        **kw: Any,
    ) -> None:
        steps = where.path if path is None else path
        prop = next((p for p in steps if isinstance(p, str)), None)
        nodes = ((where.old_doc.id, old), (where.new_doc.id, new))
        self.changes.append(
            Change(
                rule,
                where.area,
                where.definition,
                where.pointer if pointer is None else pointer,
                message,
                prop=prop,
                path=steps,
                nodes=nodes,
                **kw,
            )
        )

    def compare(self, where: _Where, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Compare two subschemas, given as facets, keyword by keyword."""
        label = where.label
        raws = {"old": old["raw"], "new": new["raw"]}
        if old.get("ref") != new.get("ref"):
            old_target = self._target(self.old, where.old_doc, old)
            new_target = self._target(self.new, where.new_doc, new)
            if old_target is not None and new_target is not None:
                # Scalar definitions swapped: compare what they admit.
                merged_old = _merge(_facets(self.old, *old_target), old)
                merged_new = _merge(_facets(self.new, *new_target), new)
                merged_old["raw"], merged_new["raw"] = old["raw"], new["raw"]
                self.compare(where, merged_old, merged_new)
                return
            self.add(
                "type-changed",
                where,
                f"{label}: refers to {old.get('ref')} -> {new.get('ref')}",
                readers=True,
                writers=True,
                **raws,
            )
            return
        self._types(where, old, new)
        if old["nullable"] and not new["nullable"]:
            self.add(
                "nullability-removed",
                where,
                f"{label}: null no longer accepted",
                writers=True,
                **raws,
            )
        elif new["nullable"] and not old["nullable"]:
            self.add(
                "nullability-added", where, f"{label}: null now accepted", readers=True, **raws
            )
        self._enum(where, old, new)
        self._bounds(where, old, new)
        self._keywords(where, old, new)
        self._additional(where, old, new)
        if "items" in old and "items" in new:
            self.compare(where.at("/items", None), old["items"], new["items"])
        elif ("items" in old or "items" in new) or old.get("items_other") != new.get("items_other"):
            self.add(
                "type-changed",
                where,
                f"{label}: items schema added, removed or replaced",
                pointer=f"{where.pointer}/items",
                readers=True,
                writers=True,
                **raws,
            )
        if old.get("anyOf") != new.get("anyOf"):
            self.add(
                "type-changed",
                where,
                f"{label}: union of types changed",
                pointer=f"{where.pointer}/anyOf",
                readers=True,
                writers=True,
                **raws,
            )
        if any(k in f for f in (old, new) for k in ("properties", "required")):
            self._object(where, old, new)
        for key in sorted(set(old["rest"]) | set(new["rest"])):
            if old["rest"].get(key) == new["rest"].get(key):
                continue
            before = "absent" if key not in old["rest"] else json.dumps(old["rest"][key])
            after = "absent" if key not in new["rest"] else json.dumps(new["rest"][key])
            self.add(
                "constraint-changed",
                where,
                f"{label}: {key} {_short(before)} -> {_short(after)} (no specific rule: "
                "conservatively breaks readers and writers)",
                pointer=f"{where.pointer}/{_escape(key)}",
                readers=True,
                writers=True,
                **raws,
            )
        if old.get("default") != new.get("default"):
            self.add(
                "default-changed",
                where,
                f"{label}: default {old.get('default')!r} -> {new.get('default')!r}",
                pointer=f"{where.pointer}/default",
                **raws,
            )
        nested_notes = old["rest"] == new["rest"] and old["rest_raw"] != new["rest_raw"]
        if old["annotations"] != new["annotations"] or nested_notes:
            self.add(
                "annotation-changed",
                where,
                f"{label}: description/title/examples changed",
                **raws,
            )

    def _types(self, where: _Where, old: dict[str, Any], new: dict[str, Any]) -> None:
        old_types, new_types = _type_set(old.get("types")), _type_set(new.get("types"))
        if old.get("types") == new.get("types") or old_types == new_types:
            return
        if new_types < old_types or ("any" in old_types and "any" not in new_types):
            rule, readers, writers = "type-narrowed", False, True
        elif new_types > old_types or "any" in new_types:
            rule, readers, writers = "type-widened", True, False
        else:
            rule, readers, writers = "type-changed", True, True
        self.add(
            rule,
            where,
            f"{where.label}: type {old.get('types')} -> {new.get('types')}",
            pointer=f"{where.pointer}/type",
            readers=readers,
            writers=writers,
            old=old["raw"],
            new=new["raw"],
        )

    def _keywords(self, where: _Where, old: dict[str, Any], new: dict[str, Any]) -> None:
        raws = {"old": old["raw"], "new": new["raw"]}
        for key in _KEYWORDS:
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
                where,
                f"{where.label}: {key} {old.get(key)!r} -> {new.get(key)!r}",
                pointer=f"{where.pointer}/{key}",
                readers=readers,
                writers=writers,
                values=[v for v in (old.get(key), new.get(key)) if key == "const" and v],
                **raws,
            )
        before, after = bool(old.get("uniqueItems")), bool(new.get("uniqueItems"))
        if before != after:
            self.add(
                "constraint-tightened" if after else "constraint-loosened",
                where,
                f"{where.label}: uniqueItems {before} -> {after}",
                pointer=f"{where.pointer}/uniqueItems",
                readers=before,
                writers=after,
                **raws,
            )

    def _additional(self, where: _Where, old: dict[str, Any], new: dict[str, Any]) -> None:
        before = old.get("additionalProperties", True)
        after = new.get("additionalProperties", True)
        if before == after:
            return
        if after is True or before is False:
            readers, writers = True, False
        elif before is True or after is False:
            readers, writers = False, True
        else:
            readers, writers = True, True
        self.add(
            "additional-properties-changed",
            where,
            f"{where.label}: additionalProperties {_short(json.dumps(before))} -> "
            f"{_short(json.dumps(after))}",
            pointer=f"{where.pointer}/additionalProperties",
            readers=readers,
            writers=writers,
            old=old["raw"],
            new=new["raw"],
        )

    def _object(self, where: _Where, old: dict[str, Any], new: dict[str, Any]) -> None:
        label = where.label
        old_props: dict[str, Any] = old.get("properties", {})
        new_props: dict[str, Any] = new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        old_closed, new_closed = _closed(old), _closed(new)
        renamed = {
            prop: schema["x-renamed-from"]
            for prop, schema in new_props.items()
            if isinstance(schema, dict)
            and schema.get("x-renamed-from") in old_props
            and schema["x-renamed-from"] not in new_props
            and prop not in old_props
        }
        for prop, old_name in renamed.items():
            # Closed objects: the new name is unknown to old readers, the old one to new readers.
            self.add(
                "property-renamed",
                where,
                f"{label}.{old_name} renamed to {prop}",
                pointer=f"{where.pointer}/properties/{_escape(prop)}",
                path=(*where.path, prop),
                readers=old_closed or old_name in old_required,
                writers=new_closed or prop in new_required,
                values=[old_name, prop],
                old=old_props[old_name],
                new=new_props[prop],
            )
        for prop in old_props:
            if prop in new_props or prop in renamed.values():
                continue
            self.add(
                "property-removed",
                where,
                f"{label}.{prop} removed",
                pointer=f"{where.pointer}/properties/{_escape(prop)}",
                path=(*where.path, prop),
                readers=prop in old_required,
                writers=new_closed,
                values=[prop],
                old=old_props[prop],
            )
        for prop, schema in new_props.items():
            old_name = renamed.get(prop, prop)
            inner = where.at(f"/properties/{_escape(prop)}", prop)
            if old_name not in old_props:
                required = prop in new_required
                self.add(
                    "property-added-required" if required else "property-added-optional",
                    inner,
                    f"{label}.{prop} added ({'required' if required else 'optional'})",
                    readers=old_closed,
                    writers=required,
                    values=[prop],
                    new=schema,
                )
                continue
            was_required, is_required = old_name in old_required, prop in new_required
            if is_required != was_required:
                self.add(
                    "optional-made-required" if is_required else "required-made-optional",
                    where,
                    f"{label}.{prop} is now {'required' if is_required else 'optional'}",
                    pointer=f"{where.pointer}/required",
                    path=(*where.path, prop),
                    readers=not is_required,
                    writers=is_required,
                    values=[prop],
                    old=old_props[old_name],
                    new=schema,
                )
            if isinstance(schema, dict) and isinstance(old_props[old_name], dict):
                self.compare(
                    inner,
                    _facets(self.old, where.old_doc, old_props[old_name]),
                    _facets(self.new, where.new_doc, schema),
                )
        for name in sorted((old_required - set(old_props)) ^ (new_required - set(new_props))):
            # ``required`` naming an undeclared property (only meaningful on open objects).
            self.add(
                "optional-made-required" if name in new_required else "required-made-optional",
                where,
                f"{label}: undeclared {name!r} {'now' if name in new_required else 'no longer'} "
                "required",
                pointer=f"{where.pointer}/required",
                readers=name not in new_required,
                writers=name in new_required,
                values=[name],
                old=old["raw"],
                new=new["raw"],
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

    def _enum(self, where: _Where, old: dict[str, Any], new: dict[str, Any]) -> None:
        label = where.label
        raws = {"old": old["raw"], "new": new["raw"]}
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if old_enum == new_enum:
            return
        pointer = f"{where.pointer}/enum"
        if old_enum is None or new_enum is None:
            tightened = new_enum is not None
            self.add(
                "constraint-tightened" if tightened else "constraint-loosened",
                where,
                f"{label}: enum {'added' if tightened else 'removed'}",
                pointer=pointer,
                readers=not tightened,
                writers=tightened,
                values=list(new_enum or old_enum or []),
                **raws,
            )
            return
        removed = [v for v in old_enum if v not in new_enum]
        added = [v for v in new_enum if v not in old_enum]
        if removed:
            self.add(
                "enum-value-removed",
                where,
                f"{label}: enum values removed {removed}",
                pointer=pointer,
                writers=True,
                values=removed,
                **raws,
            )
        if added:
            self.add(
                "enum-value-added",
                where,
                f"{label}: enum values added {added}",
                pointer=pointer,
                readers=True,
                values=added,
                **raws,
            )
        if not removed and not added:
            self.add(
                "annotation-changed",
                where,
                f"{label}: enum values reordered",
                pointer=pointer,
                **raws,
            )

    def _bounds(self, where: _Where, old: dict[str, Any], new: dict[str, Any]) -> None:
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
                where,
                f"{where.label}: {key} {before!r} -> {after!r}",
                pointer=f"{where.pointer}/{key}",
                readers=not tightened,
                writers=tightened,
                values=[before, after],
                old=old["raw"],
                new=new["raw"],
            )

    def run(self) -> list[Change]:
        for new_doc in self.new.docs:
            area = new_doc.area
            old_doc = self.old.by_area.get(area)
            if old_doc is None:
                self.changes.append(
                    Change("schema-added", area, "", "", f"schemas/{area}.schema.json added")
                )
                continue
            for name, new_def in new_doc.definitions().items():
                where = _Where(area, name, f"/$defs/{_escape(name)}", (), old_doc, new_doc)
                if name not in old_doc.definitions():
                    self.add("definition-added", where, f"{name} added", new=new_def)
                    continue
                old_def = old_doc.definitions()[name]
                self.compare(
                    where, _facets(self.old, old_doc, old_def), _facets(self.new, new_doc, new_def)
                )
        for old_doc in self.old.docs:
            current = self.new.by_area.get(old_doc.area)
            if current is None:
                self.changes.append(
                    Change(
                        "schema-removed",
                        old_doc.area,
                        "",
                        "",
                        f"schemas/{old_doc.area}.schema.json removed ({old_doc.id}): every "
                        "consumer of its definitions breaks",
                        readers=True,
                        writers=True,
                    )
                )
                continue
            for name, old_def in old_doc.definitions().items():
                if name not in current.definitions():
                    where = _Where(
                        old_doc.area, name, f"/$defs/{_escape(name)}", (), old_doc, current
                    )
                    self.add(
                        "definition-removed",
                        where,
                        f"{name} removed",
                        readers=True,
                        writers=True,
                        old=old_def,
                    )
        self.database()
        return self.changes

    def database(self) -> None:
        """Attach every unsafe SQL effect to the schema change that causes it."""
        plan = plan_migration(tables(self.old), tables(self.new), declared_renames(self.new))
        owners = {t.name: (t.area, t.definition) for t in tables(self.new)}
        owners.update({t.name: (t.area, t.definition) for t in tables(self.old)})
        schema_changes = list(self.changes)
        for unsafe in plan.unsafe:
            area, definition = owners[unsafe.table]
            pointer = f"/$defs/{_escape(definition)}"
            if unsafe.column:
                pointer += f"/properties/{_escape(unsafe.column)}"
            causes = self._causes(schema_changes, area, definition, pointer, unsafe.column)
            for cause in causes:
                cause.database = True
                cause.sql.append(f"[{unsafe.rule}] {unsafe.message}")
            if not causes:
                self.changes.append(
                    Change(
                        unsafe.rule,
                        area,
                        definition,
                        pointer,
                        unsafe.message,
                        database=True,
                        prop=unsafe.column,
                    )
                )

    def _causes(
        self,
        changes: list[Change],
        area: str,
        definition: str,
        pointer: str,
        column: str | None,
    ) -> list[Change]:
        """The schema changes an SQL effect at ``pointer`` follows from."""
        if column is None:
            return [
                c
                for c in changes
                if (c.rule == "definition-removed" and c.area == area and c.pointer == pointer)
                or (c.rule == "schema-removed" and c.area == area)
            ]
        own = [
            c
            for c in changes
            if c.area == area
            and c.definition == definition
            and c.rule not in ("annotation-changed", "default-changed")
            and (
                c.pointer == pointer
                or c.pointer.startswith(pointer + "/")
                or (c.pointer.endswith("/required") and c.path[:1] == (column,))
                or (c.rule == "property-renamed" and column in c.values)
            )
        ]
        if own:
            # A narrowed CHECK or a dropped column follows from what old writers lose.
            return [c for c in own if c.writers] or own
        # A column whose property refers to a changed scalar definition (Url, Money...).
        referenced: set[str] = set()
        for schemas in (self.old, self.new):
            for doc in schemas.docs:
                prop = doc.definitions().get(definition, {}).get("properties", {}).get(column)
                if doc.area == area and prop is not None:
                    referenced |= set(_refs(schemas, doc, prop))
        return [
            c
            for c in changes
            if c.definition in referenced
            and c.breaking
            and c.rule not in ("annotation-changed", "default-changed")
        ]


def _refs(schemas: SchemaSet, doc: SchemaDoc, node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield schemas.resolve(doc.id, value)[1]
            else:
                yield from _refs(schemas, doc, value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(schemas, doc, item)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- counterexamples


def _instances(schemas: SchemaSet) -> dict[str, list[Any]]:
    """Instances of every definition, taken from the examples (nested ones included)."""
    found: dict[str, list[Any]] = {}

    def walk(doc: SchemaDoc, schema: Any, value: Any) -> None:
        if not isinstance(schema, dict):
            return
        if "$ref" in schema:
            try:
                target_doc, name, target = schemas.resolve(doc.id, schema["$ref"])
            except KeyError:
                return
            if isinstance(value, dict) == ("properties" in target):
                found.setdefault(name, []).append(value)
            walk(target_doc, target, value)
        for key in ("anyOf", "oneOf", "allOf"):
            for variant in schema.get(key, []):
                walk(doc, variant, value)
        if isinstance(value, dict):
            for key, item in value.items():
                prop = schema.get("properties", {}).get(key)
                if prop is not None:
                    walk(doc, prop, item)
        if isinstance(value, list):
            prefix = schema.get("prefixItems", [])
            for index, item in enumerate(value):
                if index < len(prefix):
                    walk(doc, prefix[index], item)
                elif isinstance(schema.get("items"), dict):
                    walk(doc, schema["items"], item)

    for doc in schemas.docs:
        for name, schema in doc.definitions().items():
            for example in schema.get("examples", []):
                found.setdefault(name, []).append(example)
                walk(doc, schema, example)
    return found


#: Values of every JSON type, tried everywhere.
_SAMPLES: list[Any] = [None, True, False, 0, 1, -1, 0.5, 2147483648, "", "a", [], {}]
#: A valid and an invalid-looking value per format, for formats added, removed or changed.
_FORMAT_SAMPLES: dict[str, list[Any]] = {
    "date-time": ["2024-01-01T00:00:00Z", "2024-02-30T25:61:00Z", "2024-01-01 00:00:00"],
    "date": ["2024-01-01", "2024-02-30", "20240101"],
    "time": ["10:30:00Z", "25:00:00Z"],
    "uri": ["https://example.com/a", "relative/path", "ftp://example.com/a"],
    "uri-reference": ["https://example.com/a", "relative/path"],
    "uuid": ["550e8400-e29b-41d4-a716-446655440000", "550e8400e29b41d4a716446655440000"],
    "email": ["someone@example.com", "not-an-address"],
    "hostname": ["example.com", "-bad-.example"],
    "ipv4": ["192.0.2.1", "999.0.0.1"],
    "ipv6": ["2001:db8::1", "2001:db8:::1"],
    "duration": ["P1D", "1 day"],
}
_PROBES = [" ", "#", "?", "/", "\\", "<", ">", '"', "{", "|", "^", "`", "\t", "\n", "\x7f", "é"]
_PROBES += ["A", "z", "_", "-", ".", ":", "+", "Z", "0", "9"]
#: At most this many instances are validated per counterexample search.
_BUDGET = 3000


def _schema_values(
    schemas: SchemaSet,
    doc_id: str,
    node: Any,
    instances: dict[str, list[Any]],
    depth: int = 0,
) -> list[Any]:
    """Candidate values drawn from one schema.

    Its enum, const, default, examples, values at and around its bounds, format samples, and the
    instances of the definitions it refers to.
    """
    if not isinstance(node, dict) or depth > 3:
        return []
    values: list[Any] = []
    if isinstance(node.get("enum"), list):
        values.extend(node["enum"])
    for key in ("const", "default"):
        if key in node:
            values.append(node[key])
    if isinstance(node.get("examples"), list):
        values.extend(node["examples"])
    for key in (*_LOWER, *_UPPER):
        bound = node.get(key)
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            continue
        for delta in (-1, -0.5, 0, 0.5, 1):
            values.append(bound + delta)
        for delta in (-1, 0, 1):
            count = max(int(bound) + delta, 0)
            if count <= 10_000:
                values.extend(["a" * count, [0] * count, ["a"] * count])
    if isinstance(node.get("format"), str):
        values.extend(_FORMAT_SAMPLES.get(node["format"], []))
    if isinstance(node.get("$ref"), str):
        try:
            target_doc, name, target = schemas.resolve(doc_id, node["$ref"])
        except KeyError:
            pass
        else:
            values.extend(instances.get(name, []))
            values.extend(_schema_values(schemas, target_doc.id, target, instances, depth + 1))
    for key in _SCHEMA_LISTS:
        for variant in node.get(key, []) if isinstance(node.get(key), list) else []:
            values.extend(_schema_values(schemas, doc_id, variant, instances, depth + 1))
    for key in ("items", "contains"):
        inner = _schema_values(schemas, doc_id, node.get(key), instances, depth + 1)
        values.extend([item] for item in inner[:30])
        values.extend([item, item] for item in inner[:10])
    for key in ("not", "if", "then", "else", "additionalProperties"):
        values.extend(_schema_values(schemas, doc_id, node.get(key), instances, depth + 1))
    return values


def _expand(
    schemas: SchemaSet, doc_id: str, node: Any, depth: int = 0
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``node`` and what it stands for: its ``$ref`` target and its variants."""
    if not isinstance(node, dict) or depth > 4:
        return
    yield doc_id, node
    if isinstance(node.get("$ref"), str):
        try:
            target_doc, _, target = schemas.resolve(doc_id, node["$ref"])
        except KeyError:
            return
        yield from _expand(schemas, target_doc.id, target, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        for variant in node.get(key, []) if isinstance(node.get(key), list) else []:
            yield from _expand(schemas, doc_id, variant, depth + 1)


def _subschemas(
    schemas: SchemaSet, doc_id: str, node: Any, steps: Path_
) -> list[tuple[str, dict[str, Any]]]:
    """The subschemas at an instance path below ``node`` (``None``: an array item)."""
    current = [(doc_id, node)]
    for step in steps:
        found: list[tuple[str, dict[str, Any]]] = []
        for parent_id, parent in current:
            for sub_id, sub in _expand(schemas, parent_id, parent):
                child = sub.get("items") if step is None else sub.get("properties", {}).get(step)
                if isinstance(child, dict):
                    found.append((sub_id, child))
        current = found
    return current


def _synthesise(
    schemas: SchemaSet,
    doc_id: str,
    node: Any,
    instances: dict[str, list[Any]],
    depth: int = 0,
) -> list[Any]:
    """A few plausible instances of a schema.

    Its examples, or values built from its keywords (an object with its required properties, then
    with all of them).
    """
    out: list[Any] = []
    if depth > 4:
        return out
    for sub_id, sub in _expand(schemas, doc_id, node):
        if isinstance(sub.get("$ref"), str):
            try:
                name = schemas.resolve(sub_id, sub["$ref"])[1]
            except KeyError:
                continue
            out.extend(instances.get(name, [])[:3])
        if "const" in sub:
            out.append(sub["const"])
        for key in ("enum", "examples"):
            if isinstance(sub.get(key), list):
                out.extend(sub[key][:2])
        json_type = sub.get("type")
        types = json_type if isinstance(json_type, list) else [json_type]
        if "object" in types or "properties" in sub:
            props = sub.get("properties", {})
            required = [k for k in sub.get("required", []) if isinstance(k, str)]

            firsts: dict[str, Any] = {}
            for key in dict.fromkeys([*required, *props]):
                values = _synthesise(schemas, sub_id, props.get(key, {}), instances, depth + 1)
                firsts[key] = values[0] if values else None
            minimal = {key: firsts[key] for key in required}
            out.append(minimal)
            out.append({**minimal, **firsts})
        if "array" in types:
            items = _synthesise(schemas, sub_id, sub.get("items", {}), instances, depth + 1)
            count = sub.get("minItems", 1)
            if items and isinstance(count, int):
                out.append([items[0]] * max(count, 1))
            out.append([])
        if "string" in types:
            out.extend(_FORMAT_SAMPLES.get(str(sub.get("format")), [])[:1])
            length = sub.get("minLength", 1)
            out.append("a" * (length if isinstance(length, int) else 1))
        for kind in ("integer", "number"):
            if kind in types:
                low = sub.get("minimum", sub.get("exclusiveMinimum", -1) + 1)
                out.append(low if isinstance(low, (int, float)) else 0)
        if "boolean" in types:
            out.append(True)
        if "null" in types:
            out.append(None)
    return out


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for value in values:
        key = _key(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _candidates(
    change: Change,
    old: SchemaSet,
    new: SchemaSet,
    old_instances: dict[str, list[Any]],
    new_instances: dict[str, list[Any]],
) -> list[Any]:
    values = [v for v in change.values if v is not None]
    if change.nodes is not None:
        (old_id, old_node), (new_id, new_node) = change.nodes
        values += _schema_values(old, old_id, old_node, old_instances)
        values += _schema_values(new, new_id, new_node, new_instances)
    return _unique([*values, *_SAMPLES])


def _string_mutations(text: str) -> Iterator[str]:
    """Varied digits and letters, deleted, inserted and appended characters, other lengths."""
    for index, char in enumerate(text[:200]):
        if char.isdigit():
            for digit in "0123456789":
                if digit != char:
                    yield text[:index] + digit + text[index + 1 :]
    for index, char in enumerate(text[:80]):
        if char.isalpha():
            swapped = char.lower() if char.isupper() else char.upper()
            yield text[:index] + swapped + text[index + 1 :]
            yield text[:index] + ("b" if char != "b" else "c") + text[index + 1 :]
    yield text.upper()
    yield text.lower()
    for index in range(min(len(text), 80)):
        yield text[:index] + text[index + 1 :]
    middle = len(text) // 2
    for probe in _PROBES:
        yield text + probe
        yield probe + text
        yield text[:middle] + probe + text[middle:]
    yield text[:middle]
    yield text + text
    yield text + "a" * 5000
    yield text.strip()


def _mutations(value: Any) -> Iterator[Any]:
    """Small variations of one value, of its own type first."""
    if isinstance(value, bool):
        yield not value
    elif isinstance(value, (int, float)):
        yield from (value + 1, value - 1, value + 0.5, value - 0.5, -value, value * 2)
        yield value * 10
        yield value / 2
        if isinstance(value, int):
            yield float(value)
        elif value == int(value):
            yield int(value)
        yield str(value)
    elif isinstance(value, str):
        yield from _string_mutations(value)
    elif isinstance(value, list):
        yield []
        yield value + value
        if value:
            yield [value[0], *value]
            yield value[:1]
            yield value[1:]
            for index in range(min(len(value), 20)):
                yield value[:index] + value[index + 1 :]


def _locations(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _locations(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _locations(item, (*path, index))


def _replace(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    """``value`` with ``new`` at ``path`` (copying only the containers on the path)."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and isinstance(head, str):
        return {**value, head: _replace(value[head], rest, new)}
    if isinstance(value, list) and isinstance(head, int):
        copied = list(value)
        copied[head] = _replace(value[head], rest, new)
        return copied
    return value


def _on_focus(location: tuple[str | int, ...], focus: Path_) -> bool:
    """True when ``location`` lies on the way to the changed place ``focus`` (or is it)."""
    if len(location) > len(focus):
        return False
    return all(
        step == want or (want is None and isinstance(step, int))
        for step, want in zip(location, focus, strict=False)
    )


_KEY_RULES = (
    "property-renamed",
    "property-removed",
    "property-added-optional",
    "property-added-required",
    "optional-made-required",
    "required-made-optional",
)


def _replacements(value: Any, candidates: list[Any], keys: list[str], focus: bool) -> Iterator[Any]:
    if focus:
        yield from candidates
    yield from _mutations(value)
    if isinstance(value, dict):
        for key in value:
            yield {k: v for k, v in value.items() if k != key}
        for key in keys:
            if key in value:
                for other in keys:
                    if other not in value:
                        moved = {k: v for k, v in value.items() if k != key}
                        yield {**moved, other: value[key]}
            else:
                for candidate in candidates[:60]:
                    yield {**value, key: candidate}
        yield {**value, "unexpected_property": 1}
    yield from _SAMPLES


def _search(
    old_validator: Any,
    new_validator: Any,
    change: Change,
    bases: list[Any],
    candidates: list[Any],
    fill: list[list[Any]],
    want_valid_new: bool,
) -> Any | None:
    """Find an instance valid under exactly one version (new when ``want_valid_new``).

    ``fill[i]`` holds values for the step ``change.path[i]`` when a base lacks it (a missing
    optional property or an empty array on the way to the changed place).
    """
    path = change.path
    keys = [v for v in change.values if isinstance(v, str)] if change.rule in _KEY_RULES else []
    keys += [p for p in path[-1:] if isinstance(p, str) and p not in keys]

    def on_path(base: Any, level: int = 0) -> Iterator[Any]:
        found = [loc for loc in _locations(base) if _on_focus(loc[0], path)]
        for where, value in sorted(found, key=lambda loc: -len(loc[0])):
            depth = len(where)
            leaf = depth >= len(path) - 1
            for replacement in _replacements(value, candidates, keys if leaf else [], focus=True):
                yield _replace(base, where, replacement)
            if depth >= len(path):
                continue
            step = path[depth]
            filled: list[Any] = []
            if isinstance(value, dict) and isinstance(step, str):
                filled = [_replace(base, where, {**value, step: v}) for v in fill[depth]]
            elif isinstance(value, list) and step is None:
                filled = [_replace(base, where, [*value, v]) for v in fill[depth]]
            for index, instance in enumerate(filled):
                yield instance
                if index < 2 and level < 3:
                    # The changed place itself may still be missing: explore below the filler.
                    yield from on_path(instance, level + 1)

    def tries() -> Iterator[Any]:
        yield from bases
        for base in bases:
            yield from on_path(base)
        yield from candidates
        for base in bases:
            for where, value in _locations(base):
                if not _on_focus(where, path):
                    for replacement in _replacements(value, [], [], focus=False):
                        yield _replace(base, where, replacement)

    seen: set[str] = set()
    for instance in tries():
        key = _key(instance)
        if key in seen:
            continue
        seen.add(key)
        if len(seen) > _BUDGET:
            break
        try:
            if bool(new_validator.is_valid(instance)) != want_valid_new:
                continue
            if bool(old_validator.is_valid(instance)) == want_valid_new:
                continue
        except Exception:  # an unusable candidate is skipped, never fatal
            continue
        return copy.deepcopy(instance)
    return None


def _fill(
    change: Change,
    schemas: tuple[SchemaSet, SchemaSet],
    areas: tuple[str, str],
    instances: tuple[dict[str, list[Any]], dict[str, list[Any]]],
) -> list[list[Any]]:
    """Per step of the change's path, values that step may take (from both versions)."""
    fill: list[list[Any]] = []
    for depth in range(len(change.path)):
        values: list[Any] = []
        for s, area, found in zip(schemas, areas, instances, strict=True):
            doc = s.by_area[area]
            root = doc.definitions()[change.definition]
            for sub_id, sub in _subschemas(s, doc.id, root, change.path[: depth + 1]):
                values.extend(_synthesise(s, sub_id, sub, found))
        fill.append(_unique(values)[:40])
    return fill


def _counterexamples(changes: list[Change], old: SchemaSet, new: SchemaSet) -> None:
    old_instances, new_instances = _instances(old), _instances(new)
    for change in changes:
        if not (change.readers or change.writers) or not change.definition:
            continue
        if change.rule.startswith("definition-"):
            continue
        area_old = _area_of(old, change.definition)
        area_new = _area_of(new, change.definition)
        if area_old is None or area_new is None:
            continue
        old_validator = old.validator(area_old, change.definition)
        new_validator = new.validator(area_new, change.definition)
        candidates = _candidates(change, old, new, old_instances, new_instances)
        fill = _fill(change, (old, new), (area_old, area_new), (old_instances, new_instances))
        for role, want_new in (("readers", True), ("writers", False)):
            if not getattr(change, role):
                continue
            first, second = (
                (new_instances, old_instances) if want_new else (old_instances, new_instances)
            )
            bases = _unique([*first.get(change.definition, []), *second.get(change.definition, [])])
            found = _search(old_validator, new_validator, change, bases, candidates, fill, want_new)
            example: dict[str, Any] = {"role": role, "valid_under": "new" if want_new else "old"}
            if found is not None:
                example["instance"] = found
            change.counterexamples.append(example)
        writers = [c for c in change.counterexamples if c["role"] == "writers" and "instance" in c]
        if change.database and writers:
            change.counterexamples.append({**writers[0], "role": "database"})


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
    for doc in schemas.docs:
        for name, schema in doc.definitions().items():
            for target in _refs(schemas, doc, schema):
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


def _at(document: Any, pointer: str) -> tuple[bool, Any]:
    """The value at a JSON pointer: ``(True, value)``, or ``(False, None)`` when absent."""
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


def change_id(rule: str, schema: str, pointer: str, old: Any, new: Any) -> str:
    """The id of one exact change, as printed by the gate and written in the allow-list.

    12 hex digits of the SHA-256 of the rule, schema, pointer and the JSON values at the pointer
    before and after (``{"absent": true}`` for a missing one).
    """
    text = json.dumps(
        [rule, schema, pointer, old, new], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _change_id(change: Change, old: SchemaSet, new: SchemaSet) -> str:
    values: list[Any] = []
    for schemas in (old, new):
        doc = schemas.by_area.get(change.area)
        found, value = _at(doc.document, change.pointer) if doc else (False, None)
        values.append(value if found else {"absent": True})
    return change_id(change.rule, change.area, change.pointer, values[0], values[1])


_ENTRY_KEYS = ("rule", "schema", "pointer", "version", "change", "reason")


def _allow_list(root: Path) -> list[dict[str, str]]:
    path = root / ALLOW_LIST
    if not path.exists():
        return []
    entries: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    for entry in entries:
        missing = set(_ENTRY_KEYS) - set(entry)
        if missing or not str(entry.get("reason", "")).strip():
            raise ValueError(
                f"{ALLOW_LIST}: entry {entry} needs {', '.join(_ENTRY_KEYS)} "
                "(the gate prints each of them for a failing change) and a non-empty reason"
            )
        if not _CHANGE_ID.match(str(entry["change"])):
            raise ValueError(
                f"{ALLOW_LIST}: entry {entry}: change must be the 12-hex-digit change id the gate "
                "prints"
            )
    return entries


def compare(old: SchemaSet, new: SchemaSet, allowed: list[dict[str, str]] | None = None) -> Report:
    """Compare two schema sets and decide the gate.

    Args:
        old: The schemas at the base ref.
        new: The schemas of the working tree.
        allowed: Allow-list entries (see the module docstring).

    Returns:
        The report: every change with verdicts and counterexamples, the failures, and warnings
        for allow-list entries that matched nothing.
    """
    changes = _Comparer(old, new).run()
    _counterexamples(changes, old, new)
    old_versions = {d.area: d.id for d in old.docs}
    new_versions = {d.area: d.id for d in new.docs}
    dependents = _dependents(new)
    failures: list[str] = []
    suggestions: list[dict[str, str]] = []
    used: set[int] = set()
    for change in changes:
        change.id = _change_id(change, old, new)
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
            used.add(entry[0])
            change.accepted = entry[1]["reason"]
            continue
        failing = False
        areas = dependents.get(change.definition, {change.area}) | {change.area}
        for area in sorted(areas):
            if area not in new.by_area:
                failures.append(
                    f"[{change.rule}] {area}: {old_versions[area]} is gone; a removal cannot be "
                    "made safe by a version bump, only accepted after review"
                )
                failing = True
                continue
            if area not in old.by_area:
                continue
            if new.by_area[area].version[0] > old.by_area[area].version[0]:
                continue
            failing = True
            failures.append(
                f"[version-not-bumped] {area}: {change.rule} at {change.area}#{change.pointer} "
                f"breaks {_roles(change)} but {new_versions[area]} keeps major version "
                f"{old.by_area[area].version[0]}"
            )
        if failing:
            suggestions.append(
                {
                    "rule": change.rule,
                    "schema": change.area,
                    "pointer": change.pointer,
                    "version": version,
                    "change": change.id,
                    "reason": "<who reviewed it, and why no consumer or stored row breaks>",
                }
            )
    warnings = [
        f"{ALLOW_LIST} entry {index} ({e['rule']} at {e['schema']}#{e['pointer']}, change "
        f"{e['change']}) matches no change of this comparison"
        for index, e in enumerate(allowed or [])
        if index not in used
    ]
    return Report(changes, sorted(set(failures)), old_versions, new_versions, warnings, suggestions)


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
        lines.append(f"    {verdict}" + (f" (change {change.id})" if change.breaking else ""))
        for effect in change.sql:
            lines.append(f"    database: {effect}")
        if change.accepted:
            lines.append(f"    accepted by {ALLOW_LIST}: {change.accepted}")
        for example in change.counterexamples:
            if "instance" not in example:
                lines.append(
                    f"    counterexample ({example['role']}): none found by the search; the "
                    "verdict is conservative"
                )
                continue
            instance = json.dumps(example["instance"], sort_keys=True)
            if example["role"] == "database":
                lines.append(
                    f"    counterexample (database): a stored {change.definition} valid under old "
                    f"that the migrated table cannot keep: {instance}"
                )
                continue
            other = "old" if example["valid_under"] == "new" else "new"
            lines.append(
                f"    counterexample ({example['role']}): valid under {example['valid_under']},"
                f" invalid under {other} {change.definition}: {instance}"
            )
    breaking = sum(1 for c in report.changes if c.breaking)
    failing = len(report.failures)
    lines.append(f"{len(report.changes)} changes, {breaking} breaking, {failing} failing the gate")
    lines.extend(f"warning: {w}" for w in report.warnings)
    lines.extend(report.failures)
    if report.failures:
        lines.append(
            "bump the major version of each schema's $id (and every $ref to it), or accept a "
            f"reviewed break in {ALLOW_LIST} with an entry like:"
        )
        lines.append(json.dumps(report.suggestions, indent=2))
    return "\n".join(lines)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def default_ref(root: Path) -> str | None:
    """The ref to compare with when none is given.

    The latest release tag (``v*``) reachable from ``HEAD^`` (a tag on ``HEAD`` itself is the
    release under test, not its base), else ``HEAD~1``.

    Returns:
        The ref, or None when ``HEAD`` is the first commit of a complete (not shallow) history:
        there is nothing to compare with.

    Raises:
        ValueError: The clone is shallow and no release tag is in its history: the base cannot be
            told (fetch the history and tags, or pass a ref).
    """
    has_parent = _git(root, "rev-parse", "--verify", "--quiet", "HEAD~1^{commit}").returncode == 0
    if has_parent:
        tag = _git(root, "describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD~1")
        if tag.returncode == 0 and tag.stdout.strip():
            return tag.stdout.strip()
    shallow = _git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    if shallow:
        raise ValueError(
            "this is a shallow clone and no release tag (v*) is in its history, so there is no "
            "known base to compare with: fetch the history and tags (`git fetch --unshallow "
            "--tags`; in CI, check out with full depth) or pass a ref (`nox -s breaking -- <ref>`)"
        )
    return "HEAD~1" if has_parent else None


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
        try:
            ref = default_ref(root)
        except ValueError as exc:
            print(f"breaking: {exc}", file=sys.stderr)
            return 2
        if ref is None:
            print(
                "breaking: HEAD is the first commit of the repository and no release tag "
                "precedes it: nothing to compare with"
            )
            return 0
    try:
        report = run_gate(root, ref)
    except ValueError as exc:
        print(f"breaking: {exc}", file=sys.stderr)
        return 2
    print(format_report(report, ref))
    return 0 if report.ok else 1
