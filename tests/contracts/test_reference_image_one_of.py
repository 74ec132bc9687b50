"""ReferenceImage: exactly one of scene_id and character_id is set. The schema says it with a
``oneOf``; the generated model enforces it with a model validator the generator adds."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from generated import ReferenceImage
from runtime.contracts import dereferenced_schema, validator_for

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.append(str(_REPO_ROOT))

from codegen.pydantic_models import _null_branches  # noqa: E402

EXAMPLE: dict[str, Any] = dereferenced_schema("scene", "ReferenceImages")["examples"][0]
SCENE_REFERENCE: dict[str, Any] = EXAMPLE["scene_references"][0]
CHARACTER_REFERENCE: dict[str, Any] = EXAMPLE["character_references"][0]
BOTH_SET = {**SCENE_REFERENCE, "character_id": "char_1"}
BOTH_NULL = {**SCENE_REFERENCE, "scene_id": None}


def _schema_valid(instance: dict[str, Any]) -> bool:
    return validator_for("scene", "ReferenceImage").is_valid(instance)


@pytest.mark.parametrize("instance", [SCENE_REFERENCE, CHARACTER_REFERENCE], ids=["scene", "char"])
def test_a_reference_to_exactly_one_target_is_valid_in_schema_and_model(
    instance: dict[str, Any],
) -> None:
    assert _schema_valid(instance)
    ReferenceImage.model_validate_json(json.dumps(instance))


@pytest.mark.parametrize("instance", [BOTH_SET, BOTH_NULL], ids=["both set", "both null"])
def test_schema_rejects_a_reference_without_exactly_one_target(instance: dict[str, Any]) -> None:
    assert not _schema_valid(instance)


@pytest.mark.parametrize("instance", [BOTH_SET, BOTH_NULL], ids=["both set", "both null"])
def test_model_rejects_a_reference_without_exactly_one_target(instance: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one of these must hold"):
        ReferenceImage.model_validate_json(json.dumps(instance))


def test_model_rejects_python_input_without_exactly_one_target() -> None:
    with pytest.raises(ValidationError, match="exactly one of these must hold"):
        ReferenceImage.model_validate(BOTH_SET)


def test_model_rejects_an_assignment_that_sets_the_second_target() -> None:
    reference = ReferenceImage.model_validate_json(json.dumps(SCENE_REFERENCE))
    with pytest.raises(ValidationError, match="exactly one of these must hold"):
        reference.character_id = "char_1"


def test_the_model_is_one_class_not_a_union_of_numbered_copies() -> None:
    import generated

    assert not hasattr(generated, "ReferenceImage1")
    assert ReferenceImage.model_fields["scene_id"].is_required()


@pytest.mark.parametrize(
    "one_of",
    [
        [{"properties": {"scene_id": {"type": "null"}}}],
        [{"required": ["scene_id"]}, {"properties": {"character_id": {"type": "null"}}}],
        [
            {"properties": {"unknown": {"type": "null"}}},
            {"properties": {"scene_id": {"type": "null"}}},
        ],
        [
            {"properties": {"scene_id": {"type": "string", "minLength": 3}}},
            {"properties": {"character_id": {"type": "null"}}},
        ],
    ],
    ids=["one branch", "other keyword", "unknown property", "constraint beyond nullness"],
)
def test_generator_refuses_a_one_of_it_cannot_translate(one_of: list[dict[str, Any]]) -> None:
    definition = {
        "type": "object",
        "properties": {"scene_id": {}, "character_id": {}},
        "oneOf": one_of,
    }
    with pytest.raises(ValueError, match="unsupported oneOf"):
        _null_branches("scene.schema.json: $defs/X", definition)
