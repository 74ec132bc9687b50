"""The JSON Schema algebra the containment decision works with: atoms, conjuncts, bounds.

Every instance is one of seven atoms; a schema is read as a list of conjuncts (:func:`flatten`);
the helpers below read bounds, counts, required names and per-property schemas off conjuncts.
"""

from __future__ import annotations

import math
import re
from typing import Any

from codegen.breaking.sides import Side, key

__all__ = [
    "ATOMS",
    "NOTES",
    "PLAIN",
    "mapping",
    "sequence",
    "Conj",
    "atom_of",
    "flatten",
    "schema_for",
    "type_atoms",
]

ATOMS = ("null", "boolean", "int", "frac", "string", "array", "object")
_TYPE_ATOMS = {
    "null": {"null"},
    "boolean": {"boolean"},
    "integer": {"int"},
    "number": {"int", "frac"},
    "string": {"string"},
    "array": {"array"},
    "object": {"object"},
}
#: Keywords that do not take part in validation (2020-12 content keywords are annotations).
NOTES = frozenset(
    {
        "description",
        "title",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "default",
        "$id",
        "$schema",
        "$anchor",
        "$defs",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)
IN_PLACE = ("allOf", "anyOf", "oneOf", "$ref", "if", "dependentSchemas", "$dynamicRef")
PLAIN = frozenset(
    {
        "type",
        "enum",
        "const",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "uniqueItems",
        "contains",
        "minContains",
        "maxContains",
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "propertyNames",
    }
)
FINITE_INTS = 64
MAX_DEPTH = 40

Conj = list[Any]


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def atom_of(value: Any) -> str:
    """The atom of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "int" if value.is_integer() else "frac"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def type_atoms(value: Any) -> set[str]:
    """The atoms a ``type`` keyword admits."""
    names = value if isinstance(value, list) else [value]
    found: set[str] = set()
    for name in names:
        found |= _TYPE_ATOMS.get(name, set()) if isinstance(name, str) else set()
    return found


def as_number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def has_ref(node: Any) -> bool:
    return '"$ref"' in key(node)


def flatten(side: Side, node: Any, refs: tuple[str, ...] = ()) -> Conj:
    """A schema as a list of conjuncts (``True`` is the empty list).

    Conjuncts are plain keyword maps, ``{"anyOf"|"oneOf"|"not": ...}``, ``{"$opaque": schema}``
    (compared only for equality) and ``False``; ``$ref`` and ``allOf`` are expanded.
    """
    if node is True or node == {}:
        return []
    if not isinstance(node, dict):
        return [False]
    node = unevaluated(node)
    out: Conj = []
    plain: dict[str, Any] = {}
    for name, value in node.items():
        if name in NOTES or name.startswith("x-"):
            continue
        if name == "$ref":
            if value in refs or len(refs) > 30:
                out.append({"$opaque": {"$ref": value}})
            else:
                out.extend(flatten(side, side.resolve(value), (*refs, value)))
        elif name == "allOf" and isinstance(value, list):
            for item in value:
                out.extend(flatten(side, item, refs))
        elif name in ("anyOf", "oneOf", "not"):
            out.append({name: value})
        elif name in ("if", "then", "else", "$opaque"):
            group = {k: node[k] for k in ("if", "then", "else") if k in node}
            if name == "if" or "if" not in node:
                out.append({"$opaque": group})
        elif name in ("unevaluatedProperties", "unevaluatedItems", "$dynamicRef"):
            out.append({"$opaque": node})
        else:
            plain[name] = value
    if plain:
        out.insert(0, plain)
    return out


def unevaluated(node: dict[str, Any]) -> dict[str, Any]:
    """``unevaluated*`` without in-place applicators is ``additionalProperties``/``items``."""
    if any(k in node for k in IN_PLACE):
        return node
    out = dict(node)
    if "unevaluatedProperties" in out:
        value = out.pop("unevaluatedProperties")
        out.setdefault("additionalProperties", value)
    if "unevaluatedItems" in out:
        value = out.pop("unevaluatedItems")
        out.setdefault("items", value)
    return out


def as_schema(conj: Conj) -> Any:
    parts = [c["$opaque"] if isinstance(c, dict) and "$opaque" in c else c for c in conj]
    return {"allOf": parts} if parts else True


def conj_atoms(conj: Conj) -> set[str]:
    found = set(ATOMS)
    for c in conj:
        if c is False:
            return set()
        if "type" in c:
            found &= type_atoms(c["type"])
        if "enum" in c and isinstance(c["enum"], list):
            found &= {atom_of(v) for v in c["enum"]}
        if "const" in c:
            found &= {atom_of(c["const"])}
        step = as_number(c.get("multipleOf"))
        if step is not None and float(step).is_integer():
            found.discard("frac")
    return found


def finite_values(conj: Conj) -> list[Any] | None:
    for c in conj:
        if isinstance(c, dict) and "const" in c:
            return [c["const"]]
        if isinstance(c, dict) and isinstance(c.get("enum"), list):
            return list(c["enum"])
    return None


def num_bound(conj: Conj, lower: bool) -> tuple[float, bool]:
    """The tightest lower (or upper) bound: ``(value, exclusive)``."""
    inclusive, exclusive = (
        ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
    )
    best: tuple[float, bool] = (-math.inf, False) if lower else (math.inf, False)
    for c in conj:
        for name, excl in ((inclusive, False), (exclusive, True)):
            value = as_number(c.get(name)) if isinstance(c, dict) else None
            if value is None:
                continue
            tighter = value > best[0] if lower else value < best[0]
            if tighter or (value == best[0] and excl and not best[1]):
                best = (value, excl)
    return best


def int_bound(bound: tuple[float, bool], lower: bool) -> tuple[float, bool]:
    value, excl = bound
    if math.isinf(value):
        return bound
    if lower:
        return (math.floor(value) + 1 if excl else math.ceil(value), False)
    return (math.ceil(value) - 1 if excl else math.floor(value), False)


def within_bound(a: tuple[float, bool], b: tuple[float, bool], lower: bool) -> bool:
    """True when bound ``a`` is at least as tight as ``b``."""
    if a[0] == b[0]:
        return a[1] or not b[1]
    return a[0] > b[0] if lower else a[0] < b[0]


def count_bound(conj: Conj, name: str, lower: bool) -> float:
    values = [as_number(c.get(name)) for c in conj if isinstance(c, dict)]
    found = [v for v in values if v is not None]
    if lower:
        return max(found, default=0)
    return min(found, default=math.inf)


def required_names(conj: Conj) -> set[str]:
    found: set[str] = set()
    for c in conj:
        if isinstance(c, dict) and isinstance(c.get("required"), list):
            found |= {r for r in c["required"] if isinstance(r, str)}
    return found


def schema_for(c: dict[str, Any], name: str) -> Any:
    """What one conjunct requires of the value of property ``name``."""
    parts: list[Any] = []
    props = c.get("properties")
    if isinstance(props, dict) and name in props:
        parts.append(props[name])
    patterns = c.get("patternProperties")
    if isinstance(patterns, dict):
        parts.extend(s for p, s in patterns.items() if re.search(p, name))
    if not parts and "additionalProperties" in c:
        parts.append(c["additionalProperties"])
    return {"allOf": parts} if parts else True


def item_at(c: dict[str, Any], index: int) -> Any:
    prefix = c.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        return prefix[index]
    return c.get("items", True)


def pattern_side(c: dict[str, Any], pattern: str) -> Any:
    """Over-approximation of what ``c`` asks of a property whose name matches ``pattern``."""
    patterns = mapping(c.get("patternProperties"))
    if pattern in patterns:
        return patterns[pattern]
    options = [c.get("additionalProperties", True), *patterns.values()]
    return {"anyOf": options}


def is_forbidden(plains: list[dict[str, Any]], name: str) -> bool:
    return any(schema_for(x, name) == {"allOf": [False]} for x in plains)


def ranges_apart(mine: list[Any], theirs: list[Any], low: str, high: str) -> bool:
    a_low, a_high = num_bound(mine, True), num_bound(mine, False)
    b_low, b_high = num_bound(theirs, True), num_bound(theirs, False)
    return ends_before(a_high, b_low) or ends_before(b_high, a_low)


def ends_before(high: tuple[float, bool], low: tuple[float, bool]) -> bool:
    return high[0] < low[0] or (high[0] == low[0] and (high[1] or low[1]))


def counts_apart(mine: list[Any], theirs: list[Any], low: str, high: str) -> bool:
    return count_bound(mine, high, False) < count_bound(theirs, low, True) or count_bound(
        theirs, high, False
    ) < count_bound(mine, low, True)


def pure_ref(node: Any) -> str | None:
    """The ``$ref`` of a node that is only a reference (through one-element allOf wrappers)."""
    if isinstance(node, dict) and set(node) == {"allOf"} and len(sequence(node["allOf"])) == 1:
        return pure_ref(node["allOf"][0])
    if (
        isinstance(node, dict)
        and "$ref" in node
        and all(k == "$ref" or k in NOTES or k.startswith("x-") for k in node)
    ):
        ref: str = node["$ref"]
        return ref
    return None


def keyword_names(node: Any) -> str:
    return ", ".join(sorted(node)) if isinstance(node, dict) else "schema"
