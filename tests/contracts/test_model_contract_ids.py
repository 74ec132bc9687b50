"""Every generated model knows its contract: the $id and version of the schema it comes from."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from generated import ContractModel

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
SOURCES = {
    path.name.removesuffix(".schema.json"): json.loads(path.read_text(encoding="utf-8"))
    for path in sorted(SCHEMAS.glob("*.schema.json"))
}
MODELS = [
    (area, name)
    for area, document in SOURCES.items()
    for name, schema in document.get("$defs", {}).items()
    if schema.get("type") == "object" and "properties" in schema
]


@pytest.mark.parametrize(("area", "name"), MODELS)
def test_model_carries_the_id_version_and_ref_of_its_definition(area: str, name: str) -> None:
    model = getattr(importlib.import_module(f"generated.{area}"), name)
    schema_id = SOURCES[area]["$id"]
    assert issubclass(model, ContractModel)
    assert schema_id == model.SCHEMA_ID
    assert schema_id.rsplit("/", 1)[1] == model.SCHEMA_VERSION
    assert f"{schema_id}#/$defs/{name}" == model.SCHEMA_REF


@pytest.mark.parametrize(("area", "name"), MODELS)
def test_model_json_schema_names_the_contract_id_and_version(area: str, name: str) -> None:
    model = getattr(importlib.import_module(f"generated.{area}"), name)
    schema = model.model_json_schema()
    assert schema["x-schema-id"] == SOURCES[area]["$id"]
    assert schema["x-schema-version"] == model.SCHEMA_VERSION
    assert "$id" not in schema
