"""The cross-language agreement's Python side: which instances take part, and their verdicts."""

from __future__ import annotations

from pathlib import Path

from codegen.agreement import cases, python_type, python_verdicts
from codegen.schemas import load_schema_set


def _case(area: str, definition: str, instance: object) -> dict[str, object]:
    return {"id": "t", "area": area, "definition": definition, "instance": instance}


def test_examples_of_scalar_definitions_are_checked(schema_root: Path) -> None:
    schemas = load_schema_set(schema_root / "schemas")
    money = [c for c in cases(schema_root, schemas) if c["definition"] == "Money"]
    assert [c["id"] for c in money] == [f"common#/$defs/Money/examples/{i}" for i in range(3)]
    assert all(c["expected"] is True for c in money)


def test_scalar_example_is_validated_by_pydantic_through_its_generated_type(
    schema_root: Path,
) -> None:
    schemas = load_schema_set(schema_root / "schemas")
    assert python_verdicts(schemas, _case("common", "Money", "0.002500")) == {
        "jsonschema": True,
        "pydantic": True,
    }


def test_scalar_instance_rejected_by_its_generated_type_is_a_pydantic_false(
    schema_root: Path,
) -> None:
    schemas = load_schema_set(schema_root / "schemas")
    assert python_verdicts(schemas, _case("common", "Money", 0.06)) == {
        "jsonschema": False,
        "pydantic": False,
    }


def test_scalar_definition_without_a_generated_type_has_no_pydantic_verdict(
    schema_root: Path,
) -> None:
    schemas = load_schema_set(schema_root / "schemas")
    assert python_type(schemas, "common", "Url") is None
    verdicts = python_verdicts(schemas, _case("common", "Url", "https://example.com/a"))
    assert verdicts == {"jsonschema": True, "pydantic": None}


def test_object_definition_is_validated_by_its_model(schema_root: Path) -> None:
    schemas = load_schema_set(schema_root / "schemas")
    mood = {"primary": "calm", "energy_level": "low", "confidence": 0.5}
    assert python_verdicts(schemas, _case("audio", "Mood", mood)) == {
        "jsonschema": True,
        "pydantic": True,
    }
    closed = python_verdicts(schemas, _case("audio", "Mood", {**mood, "extra": 1}))
    assert closed == {"jsonschema": False, "pydantic": False}
