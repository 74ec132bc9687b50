"""Counterexamples: instances valid under one version and invalid under the other.

Candidates are built from the schemas themselves, not from ``examples``: for each place of the
source version (the old one for writers, the new one for readers) the builder takes its enum and
const values, values at and around the bounds of *both* versions, strings of the boundary lengths
and strings generated from both versions' patterns, format samples, arrays of the boundary sizes,
objects with their required properties, with each property varied in turn, without one, with
the other version's properties and with an undeclared one. Every candidate is checked with both
versions' validators; the first that separates them is the witness.
"""

from __future__ import annotations

import copy
from typing import Any

from codegen.breaking.algebra import flatten, mapping, schema_for, sequence
from codegen.breaking.model import Change
from codegen.breaking.regex_samples import samples
from codegen.breaking.sides import Side, key
from codegen.schemas import SchemaDoc, SchemaSet

__all__ = ["Builder", "attach_counterexamples"]

_FORMATS: dict[str, list[Any]] = {
    "date-time": ["2024-01-01T00:00:00Z", "2024-02-30T25:61:00Z", "2024-01-01 00:00:00"],
    "date": ["2024-01-01", "2024-02-30", "20240101"],
    "time": ["10:30:00Z", "25:00:00Z"],
    "uri": ["https://example.com/a", "relative/path"],
    "uri-reference": ["https://example.com/a", "relative/path", "\\\\bad"],
    "uuid": ["550e8400-e29b-41d4-a716-446655440000", "550e8400e29b41d4a716446655440000"],
    "email": ["someone@example.com", "not-an-address"],
    "hostname": ["example.com", "-bad-.example"],
    "ipv4": ["192.0.2.1", "999.0.0.1"],
    "ipv6": ["2001:db8::1", "2001:db8:::1"],
    "duration": ["P1D", "1 day"],
}
_ANY: list[Any] = [None, True, False, 0, 1, -1, 0.5, "", "a", [], {}]
_PER_NODE = 48
_DEPTH = 6
_BUDGET = 4000
#: Values checked for validity per place until this many valid ones lead the list.
_VALID_FIRST = 3


def _unique(values: list[Any], limit: int = _PER_NODE) -> list[Any]:
    seen: set[str] = set()
    out: list[Any] = []
    for value in values:
        text = key(value)
        if text not in seen:
            seen.add(text)
            out.append(value)
            if len(out) >= limit:
                break
    return out


def _merge(side: Side, node: Any) -> tuple[dict[str, Any], list[list[Any]]]:
    """A node's plain keywords merged, and its ``anyOf``/``oneOf`` branch lists.

    A ``not`` is a one-branch list: the values it excludes are good candidates too.
    """
    plain: dict[str, Any] = {}
    unions: list[list[Any]] = []
    for c in flatten(side, node):
        if c is False:
            plain["$false"] = True
        elif isinstance(c, dict) and len(c) == 1 and ("anyOf" in c or "oneOf" in c):
            branches = c.get("anyOf", c.get("oneOf"))
            unions.append(branches if isinstance(branches, list) else [])
        elif isinstance(c, dict) and len(c) == 1 and "not" in c:
            unions.append([c["not"]])
        elif isinstance(c, dict) and "$opaque" not in c:
            for name, value in c.items():
                if name == "required" and isinstance(value, list):
                    plain["required"] = [*plain.get("required", []), *value]
                elif name == "properties" and isinstance(value, dict):
                    plain["properties"] = {**plain.get("properties", {}), **value}
                else:
                    plain.setdefault(name, value)
    return plain, unions


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


class Builder:
    """Candidate instances of a schema of ``side``, aimed at the other version ``other``."""

    def __init__(self, side: Side, other: Side) -> None:
        self.side, self.other = side, other

    def values(self, node: Any, hint: Any, depth: int = 0) -> list[Any]:
        """Candidates for ``node`` (``hint``: the other version's schema at the same place)."""
        if depth > _DEPTH or node is False:
            return []
        mine, unions = _merge(self.side, node)
        theirs, their_unions = _merge(self.other, hint) if hint is not None else ({}, [])
        out: list[Any] = []
        for branches in unions[:2]:
            for branch in branches:
                merged = {"allOf": [{k: v for k, v in mine.items() if k != "$false"}, branch]}
                out.extend(self.values(merged, hint, depth + 1)[:16])
        for key_name in ("const",):
            if key_name in mine:
                out.append(mine[key_name])
            if key_name in theirs:
                out.append(theirs[key_name])
        for node_values in (mine.get("enum"), theirs.get("enum")):
            if isinstance(node_values, list):
                out.extend(node_values)
        for branches in their_unions[:2]:
            for branch in branches:
                plain, _ = _merge(self.other, branch)
                out.extend(plain.get("enum", []) if isinstance(plain.get("enum"), list) else [])
                if "const" in plain:
                    out.append(plain["const"])
        types = self._types(mine)
        both = [mine, theirs]
        if "null" in types:
            out.append(None)
        if "boolean" in types:
            out.extend([True, False])
        if "integer" in types or "number" in types:
            out.extend(self._numbers(both, integral="number" not in types))
        if "string" in types:
            out.extend(self._strings(both))
        if "array" in types:
            out.extend(self._arrays(mine, theirs, hint, depth))
        if "object" in types:
            out.extend(self._objects(mine, theirs, hint, depth))
        if "type" not in mine:
            out.extend(_ANY)
        if depth == 0:
            return _unique(out, limit=_BUDGET)
        return self._valid_first(node, _unique(out, limit=_PER_NODE * 4))[:_PER_NODE]

    def _valid_first(self, node: Any, values: list[Any]) -> list[Any]:
        """``values`` with those valid under ``node`` first (so that they make good bases)."""
        validator = self.side.validator(node)
        valid: list[Any] = []
        invalid: list[Any] = []
        for index, value in enumerate(values):
            if len(valid) >= _VALID_FIRST:
                return valid + invalid + values[index:]
            try:
                (valid if validator.is_valid(value) else invalid).append(value)
            except Exception:
                continue
        return valid + invalid

    @staticmethod
    def _types(plain: dict[str, Any]) -> set[str]:
        if "type" not in plain:
            found = {"null", "boolean", "number", "string", "array", "object"}
            if any(k in plain for k in ("properties", "required", "additionalProperties")):
                return {"object"} | found
            return found
        value = plain["type"]
        return set(value) if isinstance(value, list) else {value}

    @staticmethod
    def _numbers(both: list[dict[str, Any]], integral: bool) -> list[Any]:
        out: list[Any] = [0, 1, -1, 2, 10]
        for plain in both:
            for name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                bound = _num(plain.get(name))
                if bound is not None:
                    out.extend([bound, bound + 1, bound - 1, bound + 0.5, bound - 0.5])
            step = _num(plain.get("multipleOf"))
            if step:
                for edge in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
                    bound = _num(plain.get(edge))
                    if bound is not None:
                        start = int(bound // step)
                        out.extend(step * k for k in (start - 1, start, start + 1, start + 2))
                out.extend([step, step * 3, -step, -step * 2, step / 2, step * 1.5])
        out.extend([0.5, -0.5, 1.5, 2147483648, 1e300])
        if integral:
            out = [v for v in out if float(v).is_integer()] + [
                v for v in out if not float(v).is_integer()
            ]
        return out

    @staticmethod
    def _strings(both: list[dict[str, Any]]) -> list[Any]:
        out: list[Any] = []
        for plain in both:
            pattern = plain.get("pattern")
            if isinstance(pattern, str):
                found = samples(pattern)
                out.extend(found)
                for text in found[:3]:
                    out.extend([text + "a", text[:-1], text + "é", "#" + text, text.upper()])
            fmt = plain.get("format")
            if isinstance(fmt, str):
                out.extend(_FORMATS.get(fmt, []))
        for plain in both:
            for name in ("minLength", "maxLength"):
                length = _num(plain.get(name))
                if length is not None and 0 <= length <= 10_000:
                    for size in (int(length) - 1, int(length), int(length) + 1):
                        if size >= 0:
                            out.append("a" * size)
                            if out and isinstance(out[0], str) and out[0]:
                                out.append((out[0] * (size // max(len(out[0]), 1) + 1))[:size])
        out.extend(["a", "", "abc", "A", "0"])
        return out

    def _arrays(
        self, mine: dict[str, Any], theirs: dict[str, Any], hint: Any, depth: int
    ) -> list[Any]:
        prefix = sequence(mine.get("prefixItems"))
        their_prefix = sequence(theirs.get("prefixItems"))
        positions = max(len(prefix), len(their_prefix)) + 1
        columns: list[list[Any]] = []
        for index in range(positions):
            node = prefix[index] if index < len(prefix) else mine.get("items", True)
            other = their_prefix[index] if index < len(their_prefix) else theirs.get("items", True)
            columns.append(self.values(node, other, depth + 1)[:12] or [None])
        out: list[Any] = [[]]
        firsts = [column[0] for column in columns]
        out.append(firsts[: len(prefix)] or firsts[:1])
        for index, column in enumerate(columns):
            for value in column:
                row = [*firsts[:index], value]
                out.append(row)
        item = firsts[-1]
        for plain in (mine, theirs):
            for name in ("minItems", "maxItems"):
                size = _num(plain.get(name))
                if size is not None and 0 <= size <= 1000:
                    for count in (int(size) - 1, int(size), int(size) + 1):
                        if count >= 0:
                            body = firsts[: len(prefix)]
                            out.append((body + [item] * count)[: max(count, len(body))])
                            out.append([columns[-1][i % len(columns[-1])] for i in range(count)])
        out.append([item, item])
        out.append(firsts + firsts)
        return out

    def _objects(
        self, mine: dict[str, Any], theirs: dict[str, Any], hint: Any, depth: int
    ) -> list[Any]:
        props = mapping(mine.get("properties"))
        their_props = mapping(theirs.get("properties"))
        required = [r for r in mine.get("required", []) if isinstance(r, str)]
        dependent = [
            name
            for plain in (mine, theirs)
            for keyword in ("dependentRequired", "dependentSchemas")
            for name in mapping(plain.get(keyword))
        ]
        names = list(dict.fromkeys([*required, *props, *their_props, *dependent]))
        columns: dict[str, list[Any]] = {}
        for name in names:
            node = schema_for(mine, name)
            other = schema_for(theirs, name) if hint is not None else None
            columns[name] = (
                self.values(node, other, depth + 1)[:16] or self.values(True, other, depth + 1)[:8]
            )
        base = {name: columns[name][0] for name in required if columns.get(name)}
        full = {**base, **{n: columns[n][0] for n in props if columns.get(n)}}
        out: list[Any] = [base, full]
        for name in names:
            for value in columns.get(name, []):
                out.append({**base, name: value})
                out.append({**full, name: value})
        for name in required:
            out.append({k: v for k, v in base.items() if k != name})
        for plain in (mine, theirs):
            patterns = plain.get("patternProperties")
            if isinstance(patterns, dict):
                for pattern, schema in patterns.items():
                    for name in samples(pattern, 2):
                        for value in self.values(schema, None, depth + 1)[:4]:
                            out.append({**base, name: value})
        for value in (None, 1, "a", {}):
            out.append({**base, "undeclared_property": value})
        return out


def _touches(instance: Any, path: tuple[Any, ...]) -> bool:
    node = instance
    for step in path:
        if step is None or isinstance(step, int):
            if not isinstance(node, list) or not node:
                return False
            node = node[step if isinstance(step, int) and step < len(node) else 0]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return False
    return True


def attach_counterexamples(changes: list[Change], old: Side, new: Side) -> None:
    """Find and attach a checked witness for every broken reader or writer role."""
    cache: dict[tuple[str, str, str], list[Any]] = {}
    for change in changes:
        if not change.definition or (
            change.rule.startswith(("definition-", "schema-"))
            and change.rule != "definition-changed"
        ):
            _unproduced(change, "a whole definition or file: every instance of it is a witness")
            continue
        for role in ("readers", "writers"):
            if not getattr(change, role):
                continue
            source, target = (new, old) if role == "readers" else (old, new)
            found = _search(change, role, source, target, cache)
            example: dict[str, Any] = {"role": role, "valid_under": source.name}
            if found is not None:
                example["instance"] = found
            else:
                example["reason"] = change.conservative.get(role, "the search found none")
            change.counterexamples.append(example)
        writers = [c for c in change.counterexamples if c["role"] == "writers" and "instance" in c]
        if change.database and writers:
            change.counterexamples.append({**writers[0], "role": "database"})


def _unproduced(change: Change, why: str) -> None:
    for role in ("readers", "writers"):
        if getattr(change, role):
            valid = "new" if role == "readers" else "old"
            change.counterexamples.append({"role": role, "valid_under": valid, "reason": why})


def _search(
    change: Change,
    role: str,
    source: Side,
    target: Side,
    cache: dict[tuple[str, str, str], list[Any]],
) -> Any | None:
    area, definition = change.area, change.definition
    if definition not in source.definitions(area) or definition not in target.definitions(area):
        return None
    slot = (area, definition, role)
    if slot not in cache:
        cache[slot] = _expand(
            Builder(source, target).values(
                source.node(area, definition), target.node(area, definition)
            )
        )
    valid_source = source.definition_validator(area, definition)
    valid_target = target.definition_validator(area, definition)
    old, new = (target, source) if role == "readers" else (source, target)
    partial = _partial(change, old, new)
    fallback: Any | None = None
    for instance in cache[slot]:
        try:
            if not valid_source.is_valid(instance) or valid_target.is_valid(instance):
                continue
            # Prefer an instance this change alone separates (old with only it applied).
            own = partial is None or partial.is_valid(instance) == (role == "readers")
        except Exception:
            continue
        if own and _touches(instance, change.path):
            return copy.deepcopy(instance)
        if fallback is None or (own and not fallback[0]):
            fallback = (own, copy.deepcopy(instance))
    return None if fallback is None else fallback[1]


def _partial(change: Change, old: Side, new: Side) -> Any | None:
    """A validator of the old definition with only this change applied (at its pointer)."""
    if not change.pointer or change.area not in old.docs or change.area not in new.docs:
        return None
    old_doc = old.schemas.by_area[change.area]
    new_doc = new.schemas.by_area[change.area]
    parts = [p.replace("~1", "/").replace("~0", "~") for p in change.pointer.split("/")[1:]]
    patched = copy.deepcopy(old_doc.document)
    source: Any = new_doc.document
    node: Any = patched
    for part in parts[:-1]:
        if isinstance(source, dict) and part in source:
            source = source[part]
        else:
            return None
        if not isinstance(node, dict):
            return None
        node = node.setdefault(part, {})
    last = parts[-1] if parts else None
    if last is None or not isinstance(node, dict) or not isinstance(source, dict):
        return None
    if last in source:
        node[last] = copy.deepcopy(source[last])
    else:
        node.pop(last, None)
    docs = [
        SchemaDoc(d.area, d.path, patched) if d.area == change.area else d for d in old.schemas.docs
    ]
    try:
        return Side(SchemaSet(docs), "partial").definition_validator(change.area, change.definition)
    except Exception:
        return None


def _expand(values: list[Any]) -> list[Any]:
    """The builder's candidates, plus each one with every type swapped in at the top."""
    return _unique([*values, *_ANY], limit=_BUDGET)
