"""Random schema pairs over the admitted keyword subset, and the soundness oracle.

A pair is two versions of two files: ``common`` (definitions ``S1``, ``S2``) and ``main``
(definition ``Root``, which refers to ``common`` and to ``main#/$defs/Local``). The new version
is the old one with a few random edits, so that pairs are close (the interesting case for a gate).
Instances come from the gate's own builder run from both sides and from random edits of those;
validity is decided by jsonschema-rs (an independent implementation) and confirmed with the
Python validator the gate uses, so that a disagreement between the two never counts as a miss.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import jsonschema_rs

from codegen.breaking import compare
from codegen.breaking.sides import Side
from codegen.breaking.witness import Builder
from codegen.schemas import SchemaDoc, SchemaSet

Schema = Any
BASE = "https://schemas.videogen.dev"
COMMON = f"{BASE}/common/1.0.0"
MAIN = f"{BASE}/main/1.0.0"
NAMES = ["a", "b", "c", "xa"]
#: Enum values mixing booleans, numbers (1 and 1.0), null and strings.
VALUES: list[Any] = [0, 1, 1.0, 2, False, True, None, "a", "b", 0.5, [1], {"a": 1}]
PATTERNS = ["^[a-z]+$", "^a", "b", "^[ab]{1,3}$", "^x"]


def _scalar(rng: random.Random, refs: bool = True) -> Schema:
    kind = rng.randrange(9 if refs else 6)
    if kind == 0:
        node: dict[str, Any] = {"type": "string"}
        if rng.random() < 0.5:
            node["minLength"] = rng.randrange(3)
        if rng.random() < 0.5:
            node["maxLength"] = rng.randrange(1, 5)
        if rng.random() < 0.3:
            node["pattern"] = rng.choice(PATTERNS)
        if rng.random() < 0.1:
            node["format"] = rng.choice(["date", "uuid"])
        return node
    if kind in (1, 2):
        node = {"type": rng.choice(["integer", "number"])}
        for name in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if rng.random() < 0.25:
                node[name] = rng.choice([-1, 0, 1, 2, 0.5, 3])
        if rng.random() < 0.25:
            node["multipleOf"] = rng.choice([1, 2, 3, 4, 0.5])
        return node
    if kind == 3:
        return {"enum": rng.sample(VALUES, rng.randrange(1, 4))}
    if kind == 4:
        return {"const": rng.choice(VALUES)}
    if kind == 5:
        return {"type": rng.choice(["boolean", "null", ["string", "null"], ["integer", "boolean"]])}
    if kind == 6:
        return {"$ref": f"{COMMON}#/$defs/{rng.choice(['S1', 'S2'])}"}
    if kind == 7:
        return rng.choice([True, False, {}])
    return {"$ref": "#/$defs/Local"}


def schema(rng: random.Random, depth: int = 0) -> Schema:
    """A random schema over the admitted subset."""
    if depth >= 3 or rng.random() < 0.35:
        return _scalar(rng)
    kind = rng.randrange(8)
    if kind in (0, 1, 2):
        props = {n: schema(rng, depth + 1) for n in rng.sample(NAMES, rng.randrange(0, 4))}
        node: dict[str, Any] = {"type": "object", "properties": props}
        if props and rng.random() < 0.6:
            node["required"] = rng.sample(sorted(props), rng.randrange(1, len(props) + 1))
        extra = rng.random()
        if extra < 0.45:
            node["additionalProperties"] = False
        elif extra < 0.55:
            node["additionalProperties"] = schema(rng, depth + 1)
        elif extra < 0.6:
            node["unevaluatedProperties"] = False
        if rng.random() < 0.15:
            node["patternProperties"] = {"^x": schema(rng, depth + 1)}
        if rng.random() < 0.1:
            node["minProperties" if rng.random() < 0.5 else "maxProperties"] = rng.randrange(3)
        if props and rng.random() < 0.1:
            first, *rest = rng.sample(sorted(props), len(props))
            node["dependentRequired"] = {first: rest[:1]}
        if rng.random() < 0.05:
            node["propertyNames"] = {"maxLength": rng.randrange(1, 3)}
        return node
    if kind == 3:
        node = {"type": "array"}
        if rng.random() < 0.8:
            node["items"] = schema(rng, depth + 1)
        if rng.random() < 0.25:
            node["prefixItems"] = [schema(rng, depth + 1) for _ in range(rng.randrange(1, 3))]
        if rng.random() < 0.3:
            node["minItems"] = rng.randrange(3)
        if rng.random() < 0.3:
            node["maxItems"] = rng.randrange(1, 4)
        if rng.random() < 0.15:
            node["uniqueItems"] = True
        if rng.random() < 0.1:
            node["contains"] = _scalar(rng)
            if rng.random() < 0.5:
                node["minContains"] = rng.randrange(0, 3)
        return node
    if kind in (4, 5):
        inner = schema(rng, depth + 1)
        return {rng.choice(["anyOf", "oneOf"]): [inner, {"type": "null"}]}
    if kind == 6:
        name = rng.choice(["anyOf", "oneOf", "allOf"])
        return {name: [schema(rng, depth + 1) for _ in range(rng.randrange(1, 4))]}
    return {"not": _scalar(rng)}


def mutate(rng: random.Random, node: Schema, depth: int = 0) -> Schema:
    """``node`` with one random edit somewhere (a copy)."""
    node = copy.deepcopy(node)
    children = _children(node)
    if children and rng.random() < 0.6 and depth < 5:
        holder, slot = rng.choice(children)
        holder[slot] = mutate(rng, holder[slot], depth + 1)
        return node
    return _edit(rng, node, depth)


def _children(node: Schema) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    if not isinstance(node, dict):
        return found
    for name in ("properties", "patternProperties"):
        if isinstance(node.get(name), dict):
            found.extend((node[name], k) for k in node[name])
    for name in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if isinstance(node.get(name), list):
            found.extend((node[name], i) for i in range(len(node[name])))
    for name in ("items", "additionalProperties", "not"):
        if name in node:
            found.append((node, name))
    return found


def _edit(rng: random.Random, node: Schema, depth: int) -> Schema:
    kind = rng.randrange(14)
    if not isinstance(node, dict) or kind == 0:
        return schema(rng, depth)
    if kind == 1:
        return {rng.choice(["anyOf", "oneOf"]): [node, {"type": "null"}]}
    if kind == 2 and node.get("type") == "object":
        props = node.setdefault("properties", {})
        name = rng.choice(NAMES)
        if name in props:
            del props[name]
            if name in node.get("required", []):
                node["required"].remove(name)
                if not node["required"]:
                    del node["required"]
        else:
            props[name] = _scalar(rng)
            if rng.random() < 0.4:
                node.setdefault("required", []).append(name)
        return node
    if kind == 3 and isinstance(node.get("properties"), dict) and node["properties"]:
        name = rng.choice(sorted(node["properties"]))
        required = node.setdefault("required", [])
        if name in required:
            required.remove(name)
        else:
            required.append(name)
        if not required:
            del node["required"]
        return node
    if kind == 4 and node.get("type") == "object":
        choice = rng.choice([None, False, True, {"type": "integer"}])
        node.pop("unevaluatedProperties", None)
        if choice is None:
            node.pop("additionalProperties", None)
        else:
            node["additionalProperties"] = choice
        return node
    if kind == 5 and isinstance(node.get("enum"), list):
        values = node["enum"]
        if len(values) > 1 and rng.random() < 0.5:
            values.pop(rng.randrange(len(values)))
        elif rng.random() < 0.3:
            rng.shuffle(values)
            values.append(values[0])
        else:
            values.append(rng.choice(VALUES))
        return node
    if kind == 6:
        for name in (
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ):
            if name in node and rng.random() < 0.5:
                if rng.random() < 0.3:
                    del node[name]
                elif name == "multipleOf":
                    node[name] = rng.choice([1, 2, 4, 0.5, 0.25])
                else:
                    node[name] = max(node[name] + rng.choice([-1, 1, 0.5]), 0)
                    if name in ("minLength", "maxLength", "minItems", "maxItems"):
                        node[name] = int(node[name])
                return node
        return _edit(rng, node, depth)
    if kind == 7 and "type" in node:
        node["type"] = rng.choice(
            ["integer", "number", "string", "boolean", ["string", "null"], ["number", "null"]]
        )
        return node
    if kind == 8:
        for name in ("anyOf", "oneOf"):
            if name in node:
                branches = node.pop(name)
                if rng.random() < 0.5:
                    rng.shuffle(branches)
                    node[name] = branches
                else:
                    node["oneOf" if name == "anyOf" else "anyOf"] = branches
                return node
        return _edit(rng, node, depth)
    if kind == 9 and "$ref" in node:
        node["$ref"] = rng.choice([f"{COMMON}#/$defs/S1", f"{COMMON}#/$defs/S2", "#/$defs/Local"])
        return node
    if kind == 10 and node.get("type") == "array":
        if "items" in node and rng.random() < 0.5:
            del node["items"]
        else:
            node["items"] = _scalar(rng)
        if rng.random() < 0.3:
            node["uniqueItems"] = not node.get("uniqueItems", False)
        return node
    if kind == 11 and node.get("type") == "string":
        node["pattern"] = rng.choice(PATTERNS)
        return node
    if kind == 12 and isinstance(node.get("anyOf"), list):
        node["anyOf"].append(copy.deepcopy(node["anyOf"][0]))
        return node
    if kind == 13 and "const" in node:
        node["const"] = rng.choice(VALUES)
        return node
    return schema(rng, depth)


def _local(rng: random.Random) -> Schema:
    """``Local``: a scalar, or (recursion) a nullable object holding a ``Root``."""
    if rng.random() < 0.15:
        inner = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Root"}}}
        return {"anyOf": [inner, {"type": "null"}]}
    return _scalar(rng, refs=False)


def pair(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """A random old version and a random close new version: ``{"common": defs, "main": defs}``."""
    old = {
        "common": {"S1": _scalar(rng, refs=False), "S2": _scalar(rng, refs=False)},
        "main": {"Root": schema(rng), "Local": _local(rng)},
    }
    new = copy.deepcopy(old)
    for _ in range(rng.randrange(1, 3)):
        area, name = rng.choice(
            [
                ("main", "Root"),
                ("main", "Root"),
                ("main", "Root"),
                ("common", "S1"),
                ("main", "Local"),
            ]
        )
        if name == "Root":
            new[area][name] = mutate(rng, new[area][name])
        else:
            new[area][name] = _local(rng) if name == "Local" else _scalar(rng, refs=False)
    for version in (old, new):
        if not isinstance(version["main"]["Root"], dict):
            version["main"]["Root"] = {"allOf": [version["main"]["Root"]]}
    return old, new


def documents(version: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The two files of one version."""
    return {
        area: {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": COMMON if area == "common" else MAIN,
            "$defs": defs,
        }
        for area, defs in version.items()
    }


def schema_set(version: dict[str, Any]) -> SchemaSet:
    return SchemaSet(
        [
            SchemaDoc(area, Path(f"{area}.schema.json"), document)
            for area, document in documents(version).items()
        ]
    )


DEFINITIONS = [("main", "Root"), ("main", "Local"), ("common", "S1"), ("common", "S2")]


class Oracle:
    """Validity under one definition of one version: jsonschema-rs, confirmed by the Python
    validator the gate uses (a disagreement between the two never counts)."""

    def __init__(self, version: dict[str, Any], area: str, name: str) -> None:
        docs = documents(version)
        registry = jsonschema_rs.Registry([(d["$id"], d) for d in docs.values()])
        uri = f"{docs[area]['$id']}#/$defs/{name}"
        self.rs = jsonschema_rs.validator_for(
            {"$ref": uri}, registry=registry, validate_formats=True
        )
        self.version, self.area, self.name = version, area, name
        self._py: Any = None

    def fast(self, instance: Any) -> bool | None:
        try:
            return bool(self.rs.is_valid(instance))
        except (ValueError, OverflowError):
            return None

    def confirmed(self, instance: Any) -> bool | None:
        """Validity, or None when the two implementations disagree."""
        if self._py is None:
            side = Side(schema_set(self.version), "oracle")
            self._py = side.definition_validator(self.area, self.name)
        first = self.fast(instance)
        return first if first == bool(self._py.is_valid(instance)) else None


def instances(sides: tuple[Side, Side], rng: random.Random, area: str, name: str) -> list[Any]:
    """Candidate instances of one definition from both versions' schemas, and random edits."""
    old_side, new_side = sides
    found: list[Any] = []
    for side, other in ((old_side, new_side), (new_side, old_side)):
        builder = Builder(side, other)
        found.extend(builder.values(side.node(area, name), other.node(area, name))[:PER_SIDE])
    for value in list(found[:40]):
        found.append(_jiggle(rng, value))
    return found


#: Candidates per version and definition.
PER_SIDE = 150


def _jiggle(rng: random.Random, value: Any) -> Any:
    if isinstance(value, dict) and value:
        name = rng.choice(sorted(value))
        return {**value, name: _jiggle(rng, value[name])}
    if isinstance(value, list) and value:
        return [*value, value[0]] if rng.random() < 0.5 else value[1:]
    return rng.choice([*VALUES, "abc", "", [], {}, 3, -1])


def separation(
    old: dict[str, Any], new: dict[str, Any], area: str, name: str, candidates: list[Any]
) -> dict[str, Any]:
    """For each role, the first candidate that separates the two versions of one definition."""
    before_oracle, after_oracle = Oracle(old, area, name), Oracle(new, area, name)
    found: dict[str, Any] = {}
    for instance in candidates:
        before, after = before_oracle.fast(instance), after_oracle.fast(instance)
        if before is None or after is None or before == after:
            continue
        role = "writers" if before else "readers"
        if role in found:
            continue
        if (
            before_oracle.confirmed(instance) is before
            and after_oracle.confirmed(instance) is after
        ):
            found[role] = instance
        if len(found) == 2:
            break
    return found


def _uses(version: dict[str, Any]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    text = {(a, n): json.dumps(s) for a, defs in version.items() for n, s in defs.items()}
    direct = {
        d: {(a, n) for (a, n) in text if f'/{n}"' in body or f'/{n}"' in body}
        for d, body in text.items()
    }
    closure: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for start in direct:
        seen = {start}
        stack = [start]
        while stack:
            for target in direct[stack.pop()]:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
        closure[start] = seen
    return closure


def check_pair(old: dict[str, Any], new: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Run the gate on a pair and search separating instances of every definition.

    Returns:
        ``misses``: ``[(area, name, role, instance)]`` separated but not reported broken;
        ``alarms``: ``[(area, name, role)]`` reported broken at the definition itself but no
        separating instance found (probably false alarms); ``broken``: how many definition roles
        the gate reported broken.
    """
    report = compare(schema_set(old), schema_set(new), witnesses=False)
    uses = _uses(old)
    for place, used in _uses(new).items():
        uses[place] = uses.get(place, set()) | used
    result: dict[str, Any] = {"misses": [], "alarms": [], "broken": 0}
    sides = (Side(schema_set(old), "old"), Side(schema_set(new), "new"))
    for area, name in DEFINITIONS:
        scope = uses[(area, name)]
        reported = {
            r
            for c in report.changes
            if (c.area, c.definition) in scope
            for r in ("readers", "writers")
            if getattr(c, r)
        }
        own = {
            r
            for c in report.changes
            if (c.area, c.definition) == (area, name)
            for r in ("readers", "writers")
            if getattr(c, r)
        }
        if not reported and not any((c.area, c.definition) in scope for c in report.changes):
            continue  # nothing changed here: nothing to separate
        found = separation(old, new, area, name, instances(sides, rng, area, name))
        for role, instance in found.items():
            if role not in reported:
                result["misses"].append((area, name, role, instance))
        result["broken"] += len(own)
        result["alarms"].extend((area, name, role) for role in own - set(found))
    return result


def reported_roles(old: dict[str, Any], new: dict[str, Any], area: str, name: str) -> set[str]:
    """The roles the gate reports broken for one definition (or a definition it uses)."""
    report = compare(schema_set(old), schema_set(new), witnesses=False)
    scope = _uses(old)[(area, name)] | _uses(new)[(area, name)]
    return {
        r
        for c in report.changes
        if (c.area, c.definition) in scope
        for r in ("readers", "writers")
        if getattr(c, r)
    }


def corpus(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return entries
