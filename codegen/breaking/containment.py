"""Sound containment of JSON Schemas: does every instance valid under ``A`` validate under ``B``?

:meth:`Prover.subset` returns ``None`` when containment is *proven*, else the reason it is not
(a real difference, or a keyword whose containment is not decided: the verdict is then
conservative). The gate reports a role broken whenever containment is not proven, so a "no
break" verdict is never wrong; precision comes from deciding as much as possible exactly:

* every instance is one of seven atoms (null, boolean, integral number, non-integral number,
  string, array, object) and containment is decided atom by atom;
* finite sets (``enum``, ``const``, null, booleans, short integer ranges) are decided by
  validating each value with both versions' validators;
* ``$ref`` and ``allOf`` are conjunctions, ``anyOf``/``oneOf`` on the left are split into
  branches; on the right a branch must contain the left side (``oneOf``: and every other branch
  must be disjoint from it); ``not`` is decided through disjointness;
* bounds, lengths, counts, integer ``multipleOf`` by interval and divisibility arithmetic;
  properties name by name (declared names, names matching a pattern, all others), items position
  by position; recursive references coinductively (behind a property or an item).

Not decided (proven only when equal on both sides, without references): ``pattern`` inclusion,
``format``, non-integer ``multipleOf``, ``contains``, ``propertyNames`` (except for closed
objects), ``dependentSchemas``, ``if``/``then``/``else``, ``unevaluated*`` next to in-place
applicators, and any keyword outside the admitted subset.
"""

from __future__ import annotations

import math
import re
from typing import Any

from codegen.breaking.sides import Side, key

__all__ = ["ATOMS", "Prover", "atom_of", "flatten", "type_atoms"]

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
_IN_PLACE = ("allOf", "anyOf", "oneOf", "$ref", "if", "dependentSchemas", "$dynamicRef")
_PLAIN = frozenset(
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
_FAMILY = {
    "string": ("minLength", "maxLength", "pattern", "format"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "array": ("items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"),
    "object": (
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "minProperties",
        "maxProperties",
        "dependentRequired",
        "propertyNames",
    ),
}
_FINITE_INTS = 64
_MAX_DEPTH = 80

Conj = list[Any]


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


def _num(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _has_ref(node: Any) -> bool:
    return '"$ref"' in key(node)


def flatten(side: Side, node: Any, refs: tuple[str, ...] = ()) -> Conj:
    """A schema as a list of conjuncts: plain keyword maps, ``{"anyOf"|"oneOf"|"not": ...}``,
    ``{"$opaque": schema}`` (compared only for equality) and ``False``; ``$ref`` and ``allOf``
    are expanded. ``True`` is the empty list."""
    if node is True or node == {}:
        return []
    if not isinstance(node, dict):
        return [False]
    node = _unevaluated(node)
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


def _unevaluated(node: dict[str, Any]) -> dict[str, Any]:
    """``unevaluated*`` without in-place applicators is ``additionalProperties``/``items``."""
    if any(k in node for k in _IN_PLACE):
        return node
    out = dict(node)
    if "unevaluatedProperties" in out:
        value = out.pop("unevaluatedProperties")
        out.setdefault("additionalProperties", value)
    if "unevaluatedItems" in out:
        value = out.pop("unevaluatedItems")
        out.setdefault("items", value)
    return out


def _as_schema(conj: Conj) -> Any:
    parts = [c["$opaque"] if isinstance(c, dict) and "$opaque" in c else c for c in conj]
    return {"allOf": parts} if parts else True


def _atoms(conj: Conj) -> set[str]:
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
        step = _num(c.get("multipleOf"))
        if step is not None and float(step).is_integer():
            found.discard("frac")
    return found


def _finite(conj: Conj) -> list[Any] | None:
    for c in conj:
        if isinstance(c, dict) and "const" in c:
            return [c["const"]]
        if isinstance(c, dict) and isinstance(c.get("enum"), list):
            return list(c["enum"])
    return None


def _bound(conj: Conj, lower: bool) -> tuple[float, bool]:
    """The tightest lower (or upper) bound: ``(value, exclusive)``."""
    inclusive, exclusive = (
        ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
    )
    best: tuple[float, bool] = (-math.inf, False) if lower else (math.inf, False)
    for c in conj:
        for name, excl in ((inclusive, False), (exclusive, True)):
            value = _num(c.get(name)) if isinstance(c, dict) else None
            if value is None:
                continue
            tighter = value > best[0] if lower else value < best[0]
            if tighter or (value == best[0] and excl and not best[1]):
                best = (value, excl)
    return best


def _int_bound(bound: tuple[float, bool], lower: bool) -> tuple[float, bool]:
    value, excl = bound
    if math.isinf(value):
        return bound
    if lower:
        return (math.floor(value) + 1 if excl else math.ceil(value), False)
    return (math.ceil(value) - 1 if excl else math.floor(value), False)


def _within(a: tuple[float, bool], b: tuple[float, bool], lower: bool) -> bool:
    """True when bound ``a`` is at least as tight as ``b``."""
    if a[0] == b[0]:
        return a[1] or not b[1]
    return a[0] > b[0] if lower else a[0] < b[0]


def _count(conj: Conj, name: str, lower: bool) -> float:
    values = [_num(c.get(name)) for c in conj if isinstance(c, dict)]
    found = [v for v in values if v is not None]
    if lower:
        return max(found, default=0)
    return min(found, default=math.inf)


def _required(conj: Conj) -> set[str]:
    found: set[str] = set()
    for c in conj:
        if isinstance(c, dict) and isinstance(c.get("required"), list):
            found |= {r for r in c["required"] if isinstance(r, str)}
    return found


def _schema_for(c: dict[str, Any], name: str) -> Any:
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


def _item_at(c: dict[str, Any], index: int) -> Any:
    prefix = c.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        return prefix[index]
    return c.get("items", True)


class Prover:
    """Decide ``A ⊆ B`` where ``A`` is read in ``left`` and ``B`` in ``right``."""

    def __init__(self, left: Side, right: Side, stack: set[tuple[str, ...]] | None = None) -> None:
        self.a = left
        self.b = right
        self.stack: set[tuple[str, ...]] = set() if stack is None else stack
        self.depth = 0

    def swapped(self) -> Prover:
        """The prover for ``B ⊆ A``."""
        return Prover(self.b, self.a, self.stack)

    # ----------------------------------------------------------------------------- subset

    def subset(self, a: Any, b: Any, descended: bool = False) -> str | None:
        """``None`` when every instance valid under ``a`` is valid under ``b``, else why not."""
        a_ref, b_ref = _pure_ref(a), _pure_ref(b)
        token = None
        if descended and a_ref and b_ref:
            token = (self.a.name, a_ref, self.b.name, b_ref)
            if token in self.stack:
                return None  # coinductive: this pair is being proven behind a property or item
            self.stack.add(token)
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                return "the schemas nest too deeply to decide (conservative)"
            return self.subset_conj(flatten(self.a, a), b)
        finally:
            self.depth -= 1
            if token is not None:
                self.stack.discard(token)

    def subset_conj(self, conj: Conj, b: Any) -> str | None:
        """``subset`` with the left side already flattened."""
        if False in conj:
            return None
        for index, c in enumerate(conj):
            for name in ("anyOf", "oneOf"):
                if isinstance(c, dict) and name in c and len(c) == 1:
                    rest = conj[:index] + conj[index + 1 :]
                    branches = c[name] if isinstance(c[name], list) else []
                    for number, branch in enumerate(branches):
                        # oneOf: this branch and none of the others (exact).
                        others = [
                            {"not": other}
                            for i, other in enumerate(branches)
                            if name == "oneOf" and i != number
                        ]
                        reason = self.subset_conj(rest + flatten(self.a, branch) + others, b)
                        if reason:
                            return reason
                    return None
        b_conj = flatten(self.b, b)
        if not b_conj:
            return None
        values = _finite(conj)
        if values is not None:
            return self._values(conj, b, values)
        for atom in sorted(_atoms(conj)):
            if self.empty(conj, atom):
                continue
            reason = self._atom(conj, b, b_conj, atom)
            if reason:
                return reason
        return None

    def _values(self, conj: Conj, b: Any, values: list[Any]) -> str | None:
        valid_a = self.a.validator(_as_schema(conj))
        valid_b = self.b.validator(b)
        for value in values:
            if valid_a.is_valid(value) and not valid_b.is_valid(value):
                return f"{key(value)} is admitted by the old schema, not by the new one"
        return None

    def _atom(self, conj: Conj, b: Any, b_conj: Conj, atom: str) -> str | None:
        small = self._small_domain(conj, atom)
        if small is not None:
            return self._values(conj, b, small)
        for c in b_conj:
            reason = self._conjunct(conj, c, atom)
            if reason:
                return reason
        return None

    def _small_domain(self, conj: Conj, atom: str) -> list[Any] | None:
        if atom == "null":
            return [None]
        if atom == "boolean":
            return [False, True]
        if atom == "int":
            low = _int_bound(_bound(conj, True), True)[0]
            high = _int_bound(_bound(conj, False), False)[0]
            if not math.isinf(low) and not math.isinf(high) and high - low < _FINITE_INTS:
                return list(range(int(low), int(high) + 1))
        return None

    def _conjunct(self, conj: Conj, c: Any, atom: str) -> str | None:
        if c is False:
            return "the new schema admits nothing here"
        if "$opaque" in c:
            if not _has_ref(c) and any(key(x) == key(c) for x in conj):
                return None
            return f"{_names(c['$opaque'])}: containment not decided (conservative)"
        if "anyOf" in c and len(c) == 1:
            branches = c["anyOf"] if isinstance(c["anyOf"], list) else []
            if any(self._atom(conj, br, flatten(self.b, br), atom) is None for br in branches):
                return None
            return f"no anyOf branch of the new schema admits every old {atom}"
        if "oneOf" in c and len(c) == 1:
            branches = c["oneOf"] if isinstance(c["oneOf"], list) else []
            for index, branch in enumerate(branches):
                if self._atom(conj, branch, flatten(self.b, branch), atom) is None and all(
                    self.disjoint(conj, other, atom)
                    for other_index, other in enumerate(branches)
                    if other_index != index
                ):
                    return None
            return f"no oneOf branch of the new schema admits every old {atom} exclusively"
        if "not" in c and len(c) == 1:
            if self.disjoint(conj, c["not"], atom):
                return None
            back = self.swapped()
            for x in conj:
                if isinstance(x, dict) and "not" in x and len(x) == 1:
                    if back.subset(c["not"], x["not"]) is None:
                        return None
            return f"not: old {atom} values may match what the new schema excludes"
        return self._plain(conj, c, atom)

    def empty(self, conj: Conj, atom: str) -> bool:
        """True when ``conj`` (left side) provably admits no value of ``atom``."""
        plains = [c for c in conj if isinstance(c, dict)]
        if atom in ("int", "frac"):
            low, high = _bound(plains, True), _bound(plains, False)
            if atom == "int":
                low, high = _int_bound(low, True), _int_bound(high, False)
            return low[0] > high[0] or (low[0] == high[0] and (low[1] or high[1]))
        if atom == "string":
            return _count(plains, "minLength", True) > _count(plains, "maxLength", False)
        if atom == "array":
            return _count(plains, "minItems", True) > _count(plains, "maxItems", False)
        if atom != "object":
            return False
        required = _required(plains)
        high = self._max_props(plains)
        if max(len(required), _count(plains, "minProperties", True)) > high:
            return True
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                return False
            for name in sorted(required):
                value = {"allOf": [_schema_for(x, name) for x in plains]}
                if self.subset(value, False, descended=True) is None:
                    return True
        finally:
            self.depth -= 1
        return False

    # ----------------------------------------------------------------------------- keywords

    def _plain(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        if "type" in c and atom not in type_atoms(c["type"]):
            return f"type {key(c['type'])} does not admit {atom} values"
        if "enum" in c or "const" in c:
            return f"the new schema admits finitely many values, the old one more {atom} values"
        family = {
            "string": self._string,
            "int": self._number,
            "frac": self._number,
            "array": self._array,
            "object": self._object,
        }.get(atom)
        if family is not None:
            reason = family(conj, c, atom)
            if reason:
                return reason
        plains = [x for x in conj if isinstance(x, dict)]
        for name, value in c.items():
            if name in _PLAIN or name in NOTES or name.startswith("x-"):
                continue
            if not _has_ref(value) and any(key(x.get(name)) == key(value) for x in plains):
                continue
            return f"{name}: containment not decided (conservative)"
        return None

    def _string(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        if "minLength" in c and _count(conj, "minLength", True) < _count([c], "minLength", True):
            return f"minLength {c['minLength']}: old strings may be shorter"
        if "maxLength" in c and _count(conj, "maxLength", False) > _count([c], "maxLength", False):
            return f"maxLength {c['maxLength']}: old strings may be longer"
        for name in ("pattern", "format"):
            if name in c and not any(isinstance(x, dict) and x.get(name) == c[name] for x in conj):
                what = "regular-expression inclusion" if name == "pattern" else "format inclusion"
                return f"{name} {c[name]!r}: {what} is not decided (conservative)"
        return None

    def _number(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        for lower in (True, False):
            want = _bound([c], lower)
            if math.isinf(want[0]):
                continue
            have = _bound(conj, lower)
            if atom == "int":
                have = _int_bound(have, lower)
            if not _within(have, want, lower):
                return (
                    f"{'lower' if lower else 'upper'} bound {want[0]}: old numbers may be outside"
                )
        step = _num(c.get("multipleOf"))
        if "multipleOf" in c:
            steps = [_num(x.get("multipleOf")) for x in conj if isinstance(x, dict)]
            if step is None:
                return "multipleOf: not a number"
            if atom == "int" and float(step) == 1:
                return None
            for have in steps:
                if have is None:
                    continue
                if key(have) == key(step):
                    return None
                if (
                    float(have).is_integer()
                    and float(step).is_integer()
                    and int(have) % int(step) == 0
                ):
                    return None
            return f"multipleOf {step}: old numbers need not be multiples"
        return None

    def _array(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        low, high = _count(conj, "minItems", True), _count(conj, "maxItems", False)
        for x in conj:
            if isinstance(x, dict) and x.get("items") is False:
                prefix = x.get("prefixItems")
                high = min(high, len(prefix) if isinstance(prefix, list) else 0)
        if "minItems" in c and low < _count([c], "minItems", True):
            return f"minItems {c['minItems']}: old arrays may be shorter"
        if "maxItems" in c and high > _count([c], "maxItems", False):
            return f"maxItems {c['maxItems']}: old arrays may be longer"
        if c.get("uniqueItems") is True and high > 1:
            if not any(isinstance(x, dict) and x.get("uniqueItems") is True for x in conj):
                return "uniqueItems: old arrays may repeat an item"
        if "items" in c or "prefixItems" in c:
            lengths = [
                len(x["prefixItems"])
                for x in [*conj, c]
                if isinstance(x, dict) and isinstance(x.get("prefixItems"), list)
            ]
            for index in range(max(lengths, default=0) + 1):
                if index >= high:
                    break
                left = {"allOf": [_item_at(x, index) for x in conj if isinstance(x, dict)]}
                reason = self.subset(left, _item_at(c, index), descended=True)
                if reason:
                    return f"item {index}: {reason}"
        if "contains" in c:
            same = [
                x
                for x in conj
                if isinstance(x, dict)
                and "contains" in x
                and not _has_ref(c["contains"])
                and key(x["contains"]) == key(c["contains"])
                and _num(x.get("minContains", 1)) is not None
                and x.get("minContains", 1) >= c.get("minContains", 1)
                and x.get("maxContains", math.inf) <= c.get("maxContains", math.inf)
            ]
            if not same:
                return "contains: containment not decided (conservative)"
        return None

    def _object(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        plains = [x for x in conj if isinstance(x, dict)]
        required = _required(plains)
        want = c.get("required") if isinstance(c.get("required"), list) else []
        missing = [r for r in want if r not in required]
        if missing:
            return f"required {missing}: old objects may lack them"
        low = max(_count(plains, "minProperties", True), len(required))
        if "minProperties" in c and low < _count([c], "minProperties", True):
            return f"minProperties {c['minProperties']}: old objects may have fewer properties"
        if "maxProperties" in c and self._max_props(plains) > _count([c], "maxProperties", False):
            return f"maxProperties {c['maxProperties']}: old objects may have more properties"
        reason = self._names(plains, c)
        if reason:
            return reason
        for name, deps in (c.get("dependentRequired") or {}).items():
            if set(deps) <= required or _forbidden(plains, name):
                continue
            if any(
                set(deps) <= set((x.get("dependentRequired") or {}).get(name, [])) for x in plains
            ):
                continue
            return f"dependentRequired {name}: old objects may have it without {deps}"
        if "propertyNames" in c:
            return self._property_names(plains, c["propertyNames"])
        return None

    def _max_props(self, plains: list[dict[str, Any]]) -> float:
        high = _count(plains, "maxProperties", False)
        for x in plains:
            if x.get("additionalProperties") is False and not x.get("patternProperties"):
                props = x.get("properties") if isinstance(x.get("properties"), dict) else {}
                high = min(high, sum(1 for s in props.values() if s is not False))
        return high

    def _property_names(self, plains: list[dict[str, Any]], names: Any) -> str | None:
        if not _has_ref(names) and any(key(x.get("propertyNames")) == key(names) for x in plains):
            return None
        validator = self.b.validator(names)
        for x in plains:
            if x.get("additionalProperties") is False and not x.get("patternProperties"):
                props = x.get("properties") if isinstance(x.get("properties"), dict) else {}
                if all(validator.is_valid(n) for n, s in props.items() if s is not False):
                    return None
        return "propertyNames: containment not decided (conservative)"

    def _names(self, plains: list[dict[str, Any]], c: dict[str, Any]) -> str | None:
        if not any(k in c for k in ("properties", "patternProperties", "additionalProperties")):
            return None
        names: set[str] = set()
        for x in [*plains, c]:
            if isinstance(x.get("properties"), dict):
                names |= set(x["properties"])
        for name in sorted(names):
            right = _schema_for(c, name)
            if right is True:
                continue
            left = {"allOf": [_schema_for(x, name) for x in plains]}
            reason = self.subset(left, right, descended=True)
            if reason:
                return f"property {name!r}: {reason}"
        right_patterns = (
            c.get("patternProperties") if isinstance(c.get("patternProperties"), dict) else {}
        )
        patterns = set(right_patterns)
        for x in plains:
            if isinstance(x.get("patternProperties"), dict):
                patterns |= set(x["patternProperties"])
        left = {"allOf": [x.get("additionalProperties", True) for x in plains]}
        reason = self.subset(left, c.get("additionalProperties", True), descended=True)
        if reason:
            return f"other property names: {reason}"
        for pattern in sorted(patterns):
            left = {"allOf": [_pattern_side(x, pattern) for x in plains]}
            extra = [] if pattern in right_patterns else [c.get("additionalProperties", True)]
            right = {"allOf": [*right_patterns.values(), *extra]}
            reason = self.subset(left, right, descended=True)
            if reason:
                return f"property names matching {pattern!r}: {reason}"
        return None

    # ----------------------------------------------------------------------------- disjoint

    def disjoint(self, conj: Conj, y: Any, atom: str) -> bool:
        """True when no ``atom`` instance is valid under both ``conj`` (left) and ``y`` (right)."""
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                return False
            return self._disjoint(conj, y, atom)
        finally:
            self.depth -= 1

    def _disjoint(self, conj: Conj, y: Any, atom: str) -> bool:
        y_conj = flatten(self.b, y)
        if False in conj or atom not in _atoms(y_conj) or atom not in _atoms(conj):
            return True
        if self.empty(conj, atom) or self.swapped().empty(y_conj, atom):
            return True
        mine = _finite(conj)
        if mine is None:
            mine = self._small_domain(conj, atom)
        if mine is not None:
            valid_a, valid_y = self.a.validator(_as_schema(conj)), self.b.validator(y)
            return not any(valid_a.is_valid(v) and valid_y.is_valid(v) for v in mine)
        theirs = _finite(y_conj)
        if theirs is not None:
            valid_a, valid_y = self.a.validator(_as_schema(conj)), self.b.validator(y)
            return not any(valid_a.is_valid(v) and valid_y.is_valid(v) for v in theirs)
        for c in y_conj:
            if not isinstance(c, dict):
                continue
            for name in ("anyOf", "oneOf"):
                if name in c and len(c) == 1 and isinstance(c[name], list):
                    if all(self.disjoint(conj, br, atom) for br in c[name]):
                        return True
            if "not" in c and len(c) == 1 and self.subset_conj(conj, c["not"]) is None:
                return True
        plains = [c for c in y_conj if isinstance(c, dict)]
        mine_plain = [c for c in conj if isinstance(c, dict)]
        if atom in ("int", "frac"):
            return _apart(mine_plain, plains, "minimum", "maximum")
        if atom == "string":
            return _apart_counts(mine_plain, plains, "minLength", "maxLength")
        if atom == "array":
            return _apart_counts(mine_plain, plains, "minItems", "maxItems")
        if atom == "object":
            return self._objects_apart(mine_plain, plains)
        return False

    def _objects_apart(self, mine: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> bool:
        required = _required(mine) | _required(theirs)
        for name in sorted(required):
            left = flatten(self.a, {"allOf": [_schema_for(x, name) for x in mine]})
            right = {"allOf": [_schema_for(x, name) for x in theirs]}
            if all(self.disjoint(left, right, atom) for atom in ATOMS):
                return True
        return False


def _pattern_side(c: dict[str, Any], pattern: str) -> Any:
    """Over-approximation of what ``c`` asks of a property whose name matches ``pattern``."""
    patterns = c.get("patternProperties") if isinstance(c.get("patternProperties"), dict) else {}
    if pattern in patterns:
        return patterns[pattern]
    options = [c.get("additionalProperties", True), *patterns.values()]
    return {"anyOf": options}


def _forbidden(plains: list[dict[str, Any]], name: str) -> bool:
    return any(_schema_for(x, name) == {"allOf": [False]} for x in plains)


def _apart(mine: list[Any], theirs: list[Any], low: str, high: str) -> bool:
    a_low, a_high = _bound(mine, True), _bound(mine, False)
    b_low, b_high = _bound(theirs, True), _bound(theirs, False)
    return _before(a_high, b_low) or _before(b_high, a_low)


def _before(high: tuple[float, bool], low: tuple[float, bool]) -> bool:
    return high[0] < low[0] or (high[0] == low[0] and (high[1] or low[1]))


def _apart_counts(mine: list[Any], theirs: list[Any], low: str, high: str) -> bool:
    return _count(mine, high, False) < _count(theirs, low, True) or _count(
        theirs, high, False
    ) < _count(mine, low, True)


def _pure_ref(node: Any) -> str | None:
    if isinstance(node, dict) and "$ref" in node:
        if all(k == "$ref" or k in NOTES or k.startswith("x-") for k in node):
            ref: str = node["$ref"]
            return ref
    return None


def _names(node: Any) -> str:
    return ", ".join(sorted(node)) if isinstance(node, dict) else "schema"
