"""runtime.contracts: validators and dereferenced schemas built from the shipped schemas."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtime.contracts import (
    ContractNotFoundError,
    contract_definitions,
    dereferenced_schema,
    ecma_pattern,
    validator_for,
)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_contract_definitions_lists_the_ten_top_level_contracts() -> None:
    assert sorted(name for _, name in contract_definitions()) == sorted(
        [
            "AudioAnalysis",
            "ClipPrompts",
            "Clips",
            "CostReservation",
            "Job",
            "JobCost",
            "JobStage",
            "ReferenceImages",
            "ScenePlan",
            "VideoOutput",
        ]
    )


def test_unknown_area_raises_contract_not_found() -> None:
    with pytest.raises(ContractNotFoundError, match="no schema area 'billing'"):
        validator_for("billing", "Invoice")


def test_unknown_definition_raises_contract_not_found() -> None:
    with pytest.raises(ContractNotFoundError, match="has no definition 'Invoice'"):
        dereferenced_schema("job", "Invoice")


def test_validator_resolves_cross_file_references_and_formats() -> None:
    validator = validator_for("job", "JobCost")
    example = dereferenced_schema("job", "JobCost")["examples"][0]
    assert validator.is_valid(example)
    assert not validator.is_valid({**example, "timestamp": "2025-02-30T10:00:00Z"})


@pytest.mark.parametrize(("area", "definition"), contract_definitions())
def test_dereferenced_schema_is_self_contained(area: str, definition: str) -> None:
    schema = dereferenced_schema(area, definition)
    assert _refs(schema) == []
    assert "$defs" not in json.dumps(schema)


def test_dereferenced_schema_keeps_sibling_description_over_the_target() -> None:
    schema = dereferenced_schema("job", "Job")
    assert schema["properties"]["total_cost"]["description"].startswith("Sum of every")
    assert schema["properties"]["total_cost"]["pattern"].startswith("^(0|[1-9]")


@pytest.mark.parametrize(
    ("pattern", "python"),
    [
        ("^a$", r"^a\Z"),
        (r"^a\$$", r"^a\$\Z"),
        ("^[$]$", r"^[$]\Z"),
        (r"^[\]$]x$", r"^[\]$]x\Z"),
    ],
)
def test_ecma_pattern_anchors_dollar_at_the_very_end(pattern: str, python: str) -> None:
    assert ecma_pattern(pattern) == python
