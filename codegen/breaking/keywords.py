"""Containment keyword by keyword within one atom: strings, numbers, arrays, objects."""

from __future__ import annotations

import math
from typing import Any

from codegen.breaking.algebra import (
    NOTES,
    PLAIN,
    Conj,
    as_number,
    count_bound,
    has_ref,
    int_bound,
    is_forbidden,
    item_at,
    mapping,
    num_bound,
    pattern_side,
    required_names,
    schema_for,
    sequence,
    type_atoms,
    within_bound,
)
from codegen.breaking.sides import Side, key

__all__ = ["KeywordChecks"]


class KeywordChecks:
    """The per-keyword part of :class:`codegen.breaking.containment.Prover`."""

    a: Side
    b: Side

    def subset(self, a: Any, b: Any, descended: bool = False) -> str | None:
        """Decide ``a ⊆ b`` (implemented by the prover)."""
        raise NotImplementedError

    def _plain(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        if "type" in c and atom not in type_atoms(c["type"]):
            return f"type {key(c['type'])} does not admit {atom} values"
        if "enum" in c or "const" in c:
            return (
                f"the {self.b.name} schema admits finitely "
                f"many values, the {self.a.name} one more {atom} values"
            )
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
            if name in PLAIN or name in NOTES or name.startswith("x-"):
                continue
            if not has_ref(value) and any(key(x.get(name)) == key(value) for x in plains):
                continue
            return f"{name}: containment not decided (conservative)"
        return None

    def _string(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        if "minLength" in c and count_bound(conj, "minLength", True) < count_bound(
            [c], "minLength", True
        ):
            return f"minLength {c['minLength']}: {self.a.name} strings may be shorter"
        if "maxLength" in c and count_bound(conj, "maxLength", False) > count_bound(
            [c], "maxLength", False
        ):
            return f"maxLength {c['maxLength']}: {self.a.name} strings may be longer"
        for name in ("pattern", "format"):
            if name in c and not any(isinstance(x, dict) and x.get(name) == c[name] for x in conj):
                what = "regular-expression inclusion" if name == "pattern" else "format inclusion"
                return f"{name} {c[name]!r}: {what} is not decided (conservative)"
        return None

    def _number(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        for lower in (True, False):
            want = num_bound([c], lower)
            if math.isinf(want[0]):
                continue
            have = num_bound(conj, lower)
            if atom == "int":
                have = int_bound(have, lower)
            if not within_bound(have, want, lower):
                return (
                    f"{'lower' if lower else 'upper'} bound "
                    f"{want[0]}: {self.a.name} numbers may be outside"
                )
        step = as_number(c.get("multipleOf"))
        if "multipleOf" in c:
            steps = [as_number(x.get("multipleOf")) for x in conj if isinstance(x, dict)]
            if step is None:
                return "multipleOf: not a number"
            if atom == "int" and float(step) == 1:
                return None
            for own in steps:
                if own is None:
                    continue
                if key(own) == key(step):
                    return None
                if (
                    float(own).is_integer()
                    and float(step).is_integer()
                    and int(own) % int(step) == 0
                ):
                    return None
            return f"multipleOf {step}: {self.a.name} numbers need not be multiples"
        return None

    def _array(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        low, high = count_bound(conj, "minItems", True), count_bound(conj, "maxItems", False)
        for x in conj:
            if isinstance(x, dict) and x.get("items") is False:
                prefix = x.get("prefixItems")
                high = min(high, len(prefix) if isinstance(prefix, list) else 0)
        if "minItems" in c and low < count_bound([c], "minItems", True):
            return f"minItems {c['minItems']}: {self.a.name} arrays may be shorter"
        if "maxItems" in c and high > count_bound([c], "maxItems", False):
            return f"maxItems {c['maxItems']}: {self.a.name} arrays may be longer"
        unique = any(isinstance(x, dict) and x.get("uniqueItems") is True for x in conj)
        if c.get("uniqueItems") is True and high > 1 and not unique:
            return f"uniqueItems: {self.a.name} arrays may repeat an item"
        if "items" in c or "prefixItems" in c:
            lengths = [
                len(x["prefixItems"])
                for x in [*conj, c]
                if isinstance(x, dict) and isinstance(x.get("prefixItems"), list)
            ]
            for index in range(max(lengths, default=0) + 1):
                if index >= high:
                    break
                left = {"allOf": [item_at(x, index) for x in conj if isinstance(x, dict)]}
                reason = self.subset(left, item_at(c, index), descended=True)
                if reason:
                    return f"item {index}: {reason}"
        if "contains" in c:
            same = [
                x
                for x in conj
                if isinstance(x, dict)
                and "contains" in x
                and not has_ref(c["contains"])
                and key(x["contains"]) == key(c["contains"])
                and as_number(x.get("minContains", 1)) is not None
                and x.get("minContains", 1) >= c.get("minContains", 1)
                and x.get("maxContains", math.inf) <= c.get("maxContains", math.inf)
            ]
            if not same:
                return "contains: containment not decided (conservative)"
        return None

    def _object(self, conj: Conj, c: dict[str, Any], atom: str) -> str | None:
        plains = [x for x in conj if isinstance(x, dict)]
        required = required_names(plains)
        want = sequence(c.get("required"))
        missing = [r for r in want if r not in required]
        if missing:
            return f"required {missing}: {self.a.name} objects may lack them"
        low = max(count_bound(plains, "minProperties", True), len(required))
        if "minProperties" in c and low < count_bound([c], "minProperties", True):
            return (
                f"minProperties {c['minProperties']}: "
                f"{self.a.name} objects may have fewer properties"
            )
        if "maxProperties" in c and self._max_props(plains) > count_bound(
            [c], "maxProperties", False
        ):
            return (
                f"maxProperties {c['maxProperties']}: "
                f"{self.a.name} objects may have more properties"
            )
        reason = self._names(plains, c)
        if reason:
            return reason
        for name, deps in (c.get("dependentRequired") or {}).items():
            if set(deps) <= required or is_forbidden(plains, name):
                continue
            if any(
                set(deps) <= set((x.get("dependentRequired") or {}).get(name, [])) for x in plains
            ):
                continue
            return f"dependentRequired {name}: {self.a.name} objects may have it without {deps}"
        if "propertyNames" in c:
            return self._property_names(plains, c["propertyNames"])
        return None

    def _max_props(self, plains: list[dict[str, Any]]) -> float:
        high = count_bound(plains, "maxProperties", False)
        for x in plains:
            if x.get("additionalProperties") is False and not x.get("patternProperties"):
                props = mapping(x.get("properties"))
                high = min(high, sum(1 for s in props.values() if s is not False))
        return high

    def _property_names(self, plains: list[dict[str, Any]], names: Any) -> str | None:
        if not has_ref(names) and any(key(x.get("propertyNames")) == key(names) for x in plains):
            return None
        validator = self.b.validator(names)
        for x in plains:
            if x.get("additionalProperties") is False and not x.get("patternProperties"):
                props = mapping(x.get("properties"))
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
            right = schema_for(c, name)
            if right is True:
                continue
            left = {"allOf": [schema_for(x, name) for x in plains]}
            reason = self.subset(left, right, descended=True)
            if reason:
                return f"property {name!r}: {reason}"
        right_patterns = mapping(c.get("patternProperties"))
        patterns = set(right_patterns)
        for x in plains:
            if isinstance(x.get("patternProperties"), dict):
                patterns |= set(x["patternProperties"])
        left = {"allOf": [x.get("additionalProperties", True) for x in plains]}
        reason = self.subset(left, c.get("additionalProperties", True), descended=True)
        if reason:
            return f"other property names: {reason}"
        for pattern in sorted(patterns):
            left = {"allOf": [pattern_side(x, pattern) for x in plains]}
            extra = [] if pattern in right_patterns else [c.get("additionalProperties", True)]
            right = {"allOf": [*right_patterns.values(), *extra]}
            reason = self.subset(left, right, descended=True)
            if reason:
                return f"property names matching {pattern!r}: {reason}"
        return None
