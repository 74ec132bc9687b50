"""Regression tests for the defect classes of issue 11 (numbered as in the issue), and precision.

Each pair of versions is two small files (``common`` and ``main``) built in memory; the verdicts
come from :func:`codegen.breaking.compare` and every witness is re-checked here with both versions'
validators.
"""

from __future__ import annotations

from typing import Any

import breaking_support as support
import pytest

from codegen.breaking import Change, Report, compare
from codegen.breaking.sides import Side

C = "https://schemas.videogen.dev/common/1.0.0#/$defs/"
COMMON = {"S1": {"type": "string"}, "S2": {"type": "integer"}}


def version(root: Any, local: Any = None, common: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "common": dict(common or COMMON),
        "main": {"Root": root, "Local": local or {"type": "integer"}},
    }


def closed(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "additionalProperties": False, **extra}


def gate(old: dict[str, Any], new: dict[str, Any]) -> Report:
    return compare(support.schema_set(old), support.schema_set(new))


def roles(report: Report) -> tuple[bool, bool]:
    """(readers, writers) broken anywhere in the report."""
    return (
        any(c.readers for c in report.changes),
        any(c.writers for c in report.changes),
    )


def witnesses_hold(old: dict[str, Any], new: dict[str, Any], report: Report) -> None:
    """Every witness is valid under exactly the version it names (both validators)."""
    for change in report.changes:
        for example in change.counterexamples:
            if "instance" not in example or example["role"] == "database":
                continue
            valid_old = support.Oracle(old, change.area, change.definition).confirmed(
                example["instance"]
            )
            valid_new = support.Oracle(new, change.area, change.definition).confirmed(
                example["instance"]
            )
            want = (True, False) if example["valid_under"] == "old" else (False, True)
            assert (valid_old, valid_new) == want, (change.rule, example)


def witness(report: Report, role: str) -> Any:
    for change in report.changes:
        for example in change.counterexamples:
            if example["role"] == role and "instance" in example:
                return example["instance"]
    raise AssertionError(f"no {role} witness in {[c.rule for c in report.changes]}")


def only(report: Report, rule: str) -> Change:
    found = [c for c in report.changes if c.rule == rule]
    assert len(found) == 1, [(c.rule, c.pointer) for c in report.changes]
    return found[0]


# ---------------------------------------------------------------------- 1 booleans are not numbers


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"enum": [0, 1]}, {"enum": [False, True]}),
        ({"const": 1}, {"const": True}),
        ({"not": {"const": 0}}, {"not": {"const": False}}),
    ],
    ids=["enum", "const", "not-const"],
)
def test_1_booleans_and_numbers_are_different_values(before: Any, after: Any) -> None:
    old, new = version(closed({"flag": before})), version(closed({"flag": after}))
    report = gate(old, new)
    assert roles(report) == (True, True)
    witnesses_hold(old, new, report)


# ---------------------------------------------------------------------- 2 open objects


def test_2_optional_property_added_to_an_open_object_breaks_writers() -> None:
    old = version({"type": "object", "properties": {"foo": {"type": "string"}}})
    new = version(
        {"type": "object", "properties": {"foo": {"type": "string"}, "bar": {"type": "integer"}}}
    )
    report = gate(old, new)
    change = only(report, "property-added-optional")
    assert (change.readers, change.writers) == (False, True)
    assert "bar" in witness(report, "writers")
    witnesses_hold(old, new, report)


def test_2_property_removed_from_an_open_object_breaks_readers() -> None:
    old = version({"type": "object", "properties": {"foo": {"type": "string"}}})
    new = version({"type": "object", "properties": {}})
    change = only(gate(old, new), "property-removed")
    assert (change.readers, change.writers) == (True, False)


def test_2_unevaluated_properties_false_is_a_closed_object() -> None:
    props = {"foo": {"type": "string"}}
    old = version({"type": "object", "properties": props, "unevaluatedProperties": False})
    new = version(
        {
            "type": "object",
            "properties": {**props, "bar": {"type": "string"}},
            "unevaluatedProperties": False,
        }
    )
    change = only(gate(old, new), "property-added-optional")
    assert (change.readers, change.writers) == (True, False)


def test_2_inline_open_object_inside_a_closed_one_is_compared_as_open() -> None:
    inner = {"type": "object", "properties": {"a": {"type": "string"}}}
    wider = {**inner, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    old, new = version(closed({"extra": inner})), version(closed({"extra": wider}))
    report = gate(old, new)
    assert roles(report)[1]
    assert "b" in witness(report, "writers")["extra"]
    witnesses_hold(old, new, report)


# ---------------------------------------------------------------------- 3 references


def test_3_ref_to_a_same_named_definition_elsewhere_is_compared_by_content() -> None:
    common = {"S1": {"type": "string"}, "S2": {"type": "integer"}, "Local": {"type": "string"}}
    old = version(closed({"id": {"$ref": C + "Local"}}), {"type": "integer"}, common)
    new = version(closed({"id": {"$ref": "#/$defs/Local"}}), {"type": "integer"}, common)
    report = gate(old, new)
    change = only(report, "reference-changed")
    assert (change.readers, change.writers) == (True, True)
    witnesses_hold(old, new, report)


def test_3_ref_to_an_equal_definition_elsewhere_breaks_nobody() -> None:
    common = {"S1": {"type": "integer"}, "S2": {"type": "string"}}
    old = version(closed({"id": {"$ref": C + "S1"}}), {"type": "integer"}, common)
    new = version(closed({"id": {"$ref": "#/$defs/Local"}}), {"type": "integer"}, common)
    report = gate(old, new)
    assert roles(report) == (False, False)
    assert only(report, "reference-changed").kind == "patch"


# ---------------------------------------------------------------------- 4 boolean schemas


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [({"type": "string"}, False, (False, True)), (True, {"type": "string"}, (False, True))],
    ids=["string-to-false", "true-to-string"],
)
def test_4_boolean_property_schemas_are_compared(
    before: Any, after: Any, expected: tuple[bool, bool]
) -> None:
    old, new = version(closed({"p": before})), version(closed({"p": after}))
    report = gate(old, new)
    assert roles(report) == expected
    witnesses_hold(old, new, report)


# ---------------------------------------------------------------------- 5 siblings of anyOf


def test_5_sibling_keyword_next_to_a_nullable_anyof_is_compared() -> None:
    nullable = [{"type": "string", "maxLength": 5}, {"type": "null"}]
    old = version(closed({"s": {"anyOf": nullable, "maxLength": 10}}))
    new = version(closed({"s": {"anyOf": nullable, "maxLength": 3}}))
    report = gate(old, new)
    assert roles(report) == (False, True)
    assert witness(report, "writers") == {"s": "aaaa"} or len(witness(report, "writers")["s"]) == 4
    witnesses_hold(old, new, report)


# ---------------------------------------------------------------------- 6 reorders and duplicates


@pytest.mark.parametrize("keyword", ["allOf", "anyOf", "oneOf"])
def test_6_reordered_and_repeated_branches_break_nobody(keyword: str) -> None:
    branches: list[dict[str, Any]] = [{"type": "string"}, {"type": "integer"}]
    if keyword == "allOf":
        branches = [{"minLength": 1}, {"maxLength": 5}]
    repeated = [branches[1], branches[0]] + ([branches[1]] if keyword != "oneOf" else [])
    old = version(closed({"p": {keyword: branches}}))
    new = version(closed({"p": {keyword: repeated}}))
    report = gate(old, new)
    assert roles(report) == (False, False)
    assert report.ok


def test_6_reordered_and_repeated_enum_values_break_nobody() -> None:
    old, new = (
        version(closed({"p": {"enum": ["a", "b", 1]}})),
        version(closed({"p": {"enum": [1, "b", "a", "a"]}})),
    )
    assert roles(gate(old, new)) == (False, False)


def test_6_reordered_prefix_items_are_a_real_change() -> None:
    before = [{"type": "string"}, {"type": "integer"}]
    old = version(closed({"p": {"type": "array", "prefixItems": before}}))
    new = version(closed({"p": {"type": "array", "prefixItems": before[::-1]}}))
    report = gate(old, new)
    assert roles(report) == (True, True)
    witnesses_hold(old, new, report)


# ---------------------------------------------------------------------- 7 items


def test_7_removing_items_only_loosens() -> None:
    old = version(closed({"xs": {"type": "array", "items": {"type": "string"}}}))
    new = version(closed({"xs": {"type": "array"}}))
    report = gate(old, new)
    assert roles(report) == (True, False)
    witnesses_hold(old, new, report)


def test_7_adding_items_only_tightens() -> None:
    old = version(closed({"xs": {"type": "array"}}))
    new = version(closed({"xs": {"type": "array", "items": {"type": "string"}}}))
    report = gate(old, new)
    assert roles(report) == (False, True)
    witnesses_hold(old, new, report)


# ---------------------------------------------------------------------- 8 oneOf, type and null


def test_8_null_to_a_nullable_number_only_widens() -> None:
    old = version(closed({"n": {"type": "null"}}))
    new = version(closed({"n": {"oneOf": [{"type": "number"}, {"type": "null"}]}}))
    report = gate(old, new)
    assert roles(report) == (True, False)
    assert not [c for c in report.changes if c.rule in ("type-narrowed", "nullability-removed")]


@pytest.mark.parametrize("before", ["oneOf", "allOf"])
def test_8_one_of_or_all_of_to_any_of_with_disjoint_branches_breaks_nobody(before: str) -> None:
    branches = [{"type": "string"}, {"type": "null"}]
    if before == "allOf":
        old = version(closed({"n": {"allOf": [{"type": ["string", "null"]}]}}))
    else:
        old = version(closed({"n": {"oneOf": branches}}))
    new = version(closed({"n": {"anyOf": branches}}))
    report = gate(old, new)
    assert roles(report) == (False, False)
    assert not [c for c in report.changes if c.rule in ("type-narrowed", "nullability-removed")]


def test_8_one_of_with_overlapping_branches_is_a_real_change() -> None:
    branches = [{"type": "number"}, {"type": "integer"}]
    old, new = (
        version(closed({"n": {"anyOf": branches}})),
        version(closed({"n": {"oneOf": branches}})),
    )
    report = gate(old, new)
    assert roles(report) == (False, True)
    assert witness(report, "writers") in ({"n": 0}, {"n": 1}, {"n": -1}, {"n": 2}, {"n": 10})


# ---------------------------------------------------------------------- 9 witnesses, no examples


def test_9_a_witness_is_built_from_the_schema_without_examples() -> None:
    old, new = (
        version(closed({"foo": {"type": "string"}})),
        version(closed({"foo": {"type": "number"}})),
    )
    report = gate(old, new)
    change = only(report, "type-changed")
    assert [c["role"] for c in change.counterexamples] == ["readers", "writers"]
    assert all("instance" in c for c in change.counterexamples)
    witnesses_hold(old, new, report)


def test_9_an_undecided_break_says_why_it_is_conservative() -> None:
    old = version(closed({"s": {"type": "string", "pattern": "^[a-z]+$"}}))
    new = version(closed({"s": {"type": "string", "pattern": "^[a-y]+$|^z$"}}))
    change = only(gate(old, new), "constraint-changed")
    assert "conservative" in change.conservative["readers"]


# ---------------------------------------------------------------------- 11 messages


def test_11_an_absent_keyword_is_printed_as_absent_not_none() -> None:
    old, new = version(closed({"p": {"type": "string"}})), version(closed({"p": {}}))
    report = gate(old, new)
    assert "None" not in " ".join(c.message for c in report.changes)
    assert 'type "string" -> absent' in only(report, "type-widened").message


# ---------------------------------------------------------------------- precision


def test_multiple_of_a_multiple_is_contained() -> None:
    old = version(closed({"n": {"type": "integer", "multipleOf": 4}}))
    new = version(closed({"n": {"type": "integer", "multipleOf": 2}}))
    report = gate(old, new)
    assert roles(report) == (True, False)
    witnesses_hold(old, new, report)


def test_prefix_items_loosened_breaks_only_readers() -> None:
    old = version(
        closed({"p": {"type": "array", "prefixItems": [{"type": "string", "maxLength": 2}]}})
    )
    new = version(closed({"p": {"type": "array", "prefixItems": [{"type": "string"}]}}))
    report = gate(old, new)
    assert roles(report) == (True, False)
    witnesses_hold(old, new, report)


def test_property_removed_but_still_admitted_by_additional_properties_breaks_nobody() -> None:
    old = version(
        {
            "type": "object",
            "properties": {"x": {"type": "string"}},
            "additionalProperties": {"type": "string"},
        }
    )
    new = version({"type": "object", "properties": {}, "additionalProperties": {"type": "string"}})
    assert roles(gate(old, new)) == (False, False)


def test_property_removed_but_still_admitted_by_pattern_properties_breaks_nobody() -> None:
    patterns = {"^x": {"type": "string"}}
    old = version(
        {
            "type": "object",
            "properties": {"x1": {"type": "string"}},
            "patternProperties": patterns,
            "additionalProperties": False,
        }
    )
    new = version(
        {
            "type": "object",
            "properties": {},
            "patternProperties": patterns,
            "additionalProperties": False,
        }
    )
    assert roles(gate(old, new)) == (False, False)


def test_equivalent_bounds_for_integers_are_a_rewrite() -> None:
    old = version(closed({"n": {"type": "integer", "exclusiveMinimum": 0}}))
    new = version(closed({"n": {"type": "integer", "minimum": 1}}))
    report = gate(old, new)
    assert roles(report) == (False, False)
    assert {c.rule for c in report.changes} == {"equivalent-rewrite"}


def test_root_level_keywords_of_a_file_are_compared() -> None:
    old, new = version(closed({})), version(closed({}))
    old_set, new_set = support.schema_set(old), support.schema_set(new)
    new_set.by_area["main"].document["type"] = "object"
    report = compare(old_set, new_set)
    change = only(report, "constraint-tightened")
    assert (change.definition, change.pointer) == ("(root)", "")
    assert change.writers


def test_addition_kind_for_the_release_helper() -> None:
    old = version(closed({"s": {"enum": ["a"]}}))
    new = version(closed({"s": {"enum": ["a", "b"]}, "t": {"type": "string"}}))
    kinds = {c.rule: c.kind for c in gate(old, new).changes}
    assert kinds == {"enum-value-added": "breaking", "property-added-optional": "breaking"}
    opened = version(
        {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}}
    )
    more = version(
        {
            "type": "object",
            "properties": {"t": {"type": "string"}},
            "additionalProperties": {"type": "string"},
        }
    )
    assert only(gate(opened, more), "property-added-optional").kind == "addition"


def test_side_refuses_a_ref_to_the_document_root() -> None:
    from codegen.breaking import GateInputError

    with pytest.raises(GateInputError, match="unsupported \\$ref '#'"):
        Side(support.schema_set(version(closed({"p": {"$ref": "#"}}))), "new")


def _tree(name: dict[str, Any]) -> dict[str, Any]:
    kids = {"type": "array", "items": {"$ref": "#/$defs/Root"}}
    return closed({"name": {"type": "string", **name}, "kids": kids})


def test_recursive_definition_is_decided_coinductively() -> None:
    old, new = version(_tree({})), version(_tree({"maxLength": 2}))
    report = gate(old, new)
    assert roles(report) == (False, True)
    assert only(report, "constraint-tightened").conservative["writers"].startswith("maxLength")
    witnesses_hold(old, new, report)
