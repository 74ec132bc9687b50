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
from typing import Any

from codegen.breaking.algebra import (
    ATOMS,
    FINITE_INTS,
    MAX_DEPTH,
    Conj,
    as_schema,
    conj_atoms,
    count_bound,
    counts_apart,
    finite_values,
    flatten,
    has_ref,
    int_bound,
    keyword_names,
    num_bound,
    pure_ref,
    ranges_apart,
    required_names,
    schema_for,
)
from codegen.breaking.keywords import KeywordChecks
from codegen.breaking.sides import Side, key

__all__ = ["Prover"]


class Prover(KeywordChecks):
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
        token = None
        if descended and (has_ref(a) or has_ref(b)):
            # Only references can make the walk come back to the same pair; behind a property or
            # an item (a structural descent) assuming the pair contained is sound (instances are
            # finite), which decides recursive definitions.
            a_ref, b_ref = pure_ref(a), pure_ref(b)
            left = a_ref if a_ref else key(a)
            right = b_ref if b_ref else key(b)
            token = (self.a.name, left, self.b.name, right)
            if token in self.stack:
                return None  # coinductive: this pair is being proven behind a property or item
            self.stack.add(token)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
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
        values = finite_values(conj)
        if values is not None:
            return self._values(conj, b, values)
        for atom in sorted(conj_atoms(conj)):
            if self.empty(conj, atom):
                continue
            reason = self._atom(conj, b, b_conj, atom)
            if reason:
                return reason
        return None

    def _values(self, conj: Conj, b: Any, values: list[Any]) -> str | None:
        valid_a = self.a.validator(as_schema(conj))
        valid_b = self.b.validator(b)
        for value in values:
            if valid_a.is_valid(value) and not valid_b.is_valid(value):
                return (
                    f"{key(value)} is admitted by the {self.a.name} "
                    f"schema, not by the {self.b.name} one"
                )
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
            low = int_bound(num_bound(conj, True), True)[0]
            high = int_bound(num_bound(conj, False), False)[0]
            if not math.isinf(low) and not math.isinf(high) and high - low < FINITE_INTS:
                return list(range(int(low), int(high) + 1))
        return None

    def _conjunct(self, conj: Conj, c: Any, atom: str) -> str | None:
        if c is False:
            return f"the {self.b.name} schema admits nothing here"
        if "$opaque" in c:
            if not has_ref(c) and any(key(x) == key(c) for x in conj):
                return None
            return f"{keyword_names(c['$opaque'])}: containment not decided (conservative)"
        if "anyOf" in c and len(c) == 1:
            branches = c["anyOf"] if isinstance(c["anyOf"], list) else []
            if any(self._atom(conj, br, flatten(self.b, br), atom) is None for br in branches):
                return None
            return f"no anyOf branch of the {self.b.name} schema admits every {self.a.name} {atom}"
        if "oneOf" in c and len(c) == 1:
            branches = c["oneOf"] if isinstance(c["oneOf"], list) else []
            for index, branch in enumerate(branches):
                if self._atom(conj, branch, flatten(self.b, branch), atom) is None and all(
                    self.disjoint(conj, other, atom)
                    for other_index, other in enumerate(branches)
                    if other_index != index
                ):
                    return None
            return (
                f"no oneOf branch of the {self.b.name} "
                f"schema admits every {self.a.name} {atom} exclusively"
            )
        if "not" in c and len(c) == 1:
            if self.disjoint(conj, c["not"], atom):
                return None
            back = self.swapped()
            for x in conj:
                excluded = isinstance(x, dict) and "not" in x and len(x) == 1
                if excluded and back.subset(c["not"], x["not"]) is None:
                    return None
            return (
                f"not: {self.a.name} {atom} values may match what the {self.b.name} schema excludes"
            )
        return self._plain(conj, c, atom)

    def empty(self, conj: Conj, atom: str) -> bool:
        """True when ``conj`` (left side) provably admits no value of ``atom``."""
        plains = [c for c in conj if isinstance(c, dict)]
        if atom in ("int", "frac"):
            low, high = num_bound(plains, True), num_bound(plains, False)
            if atom == "int":
                low, high = int_bound(low, True), int_bound(high, False)
            return low[0] > high[0] or (low[0] == high[0] and (low[1] or high[1]))
        if atom == "string":
            return count_bound(plains, "minLength", True) > count_bound(plains, "maxLength", False)
        if atom == "array":
            return count_bound(plains, "minItems", True) > count_bound(plains, "maxItems", False)
        if atom != "object":
            return False
        required = required_names(plains)
        most = self._max_props(plains)
        if max(len(required), count_bound(plains, "minProperties", True)) > most:
            return True
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return False
            for name in sorted(required):
                value = {"allOf": [schema_for(x, name) for x in plains]}
                if self.subset(value, False, descended=True) is None:
                    return True
        finally:
            self.depth -= 1
        return False

    # ----------------------------------------------------------------------------- keywords

    # ----------------------------------------------------------------------------- disjoint

    def disjoint(self, conj: Conj, y: Any, atom: str) -> bool:
        """True when no ``atom`` instance is valid under both ``conj`` (left) and ``y`` (right)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return False
            return self._disjoint(conj, y, atom)
        finally:
            self.depth -= 1

    def _disjoint(self, conj: Conj, y: Any, atom: str) -> bool:
        y_conj = flatten(self.b, y)
        if False in conj or atom not in conj_atoms(y_conj) or atom not in conj_atoms(conj):
            return True
        if self.empty(conj, atom) or self.swapped().empty(y_conj, atom):
            return True
        mine = finite_values(conj)
        if mine is None:
            mine = self._small_domain(conj, atom)
        if mine is not None:
            valid_a, valid_y = self.a.validator(as_schema(conj)), self.b.validator(y)
            return not any(valid_a.is_valid(v) and valid_y.is_valid(v) for v in mine)
        theirs = finite_values(y_conj)
        if theirs is not None:
            valid_a, valid_y = self.a.validator(as_schema(conj)), self.b.validator(y)
            return not any(valid_a.is_valid(v) and valid_y.is_valid(v) for v in theirs)
        for c in y_conj:
            if not isinstance(c, dict):
                continue
            for name in ("anyOf", "oneOf"):
                union = name in c and len(c) == 1 and isinstance(c[name], list)
                if union and all(self.disjoint(conj, br, atom) for br in c[name]):
                    return True
            if "not" in c and len(c) == 1 and self.subset_conj(conj, c["not"]) is None:
                return True
        plains = [c for c in y_conj if isinstance(c, dict)]
        mine_plain = [c for c in conj if isinstance(c, dict)]
        if atom in ("int", "frac"):
            return ranges_apart(mine_plain, plains, "minimum", "maximum")
        if atom == "string":
            return counts_apart(mine_plain, plains, "minLength", "maxLength")
        if atom == "array":
            return counts_apart(mine_plain, plains, "minItems", "maxItems")
        if atom == "object":
            return self._objects_apart(mine_plain, plains)
        return False

    def _objects_apart(self, mine: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> bool:
        required = required_names(mine) | required_names(theirs)
        for name in sorted(required):
            left = flatten(self.a, {"allOf": [schema_for(x, name) for x in mine]})
            right = {"allOf": [schema_for(x, name) for x in theirs]}
            if all(self.disjoint(left, right, atom) for atom in ATOMS):
                return True
        return False
