"""The published bundles (``codegen.bundle``): no internal keywords, one ``$id`` each.

Strict Ajv in fresh consumer projects is the oracle for the npm package (``ts/test/consumers.mjs``,
``nox -s typescript``); these tests pin the generator's rules on the Python side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from codegen.bundle import generate_bundles, strip_annotations
from codegen.schemas import load_schema_set


def _bundles(root: Path) -> dict[str, dict[str, Any]]:
    outputs = generate_bundles(load_schema_set(root / "schemas"))
    return {path: json.loads(text) for path, text in outputs.items()}


def _keys(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_keys(item) for item in node))
    if isinstance(node, dict):
        return set(node).union(*(_keys(value) for value in node.values()))
    return set()


def test_bundles_hold_no_x_keywords(schema_root: Path) -> None:
    sources = {
        key
        for p in (schema_root / "schemas").glob("*.json")
        for key in _keys(json.loads(p.read_text(encoding="utf-8")))
        if key.startswith("x-")
    }
    assert sources >= {"x-sql", "x-table", "x-python-type"}
    for path, bundle in _bundles(schema_root).items():
        assert not [key for key in _keys(bundle) if key.startswith("x-")], path


def test_every_bundle_has_its_own_id_keeping_the_source_id_and_version(schema_root: Path) -> None:
    bundles = _bundles(schema_root)
    ids = [bundle["$id"] for bundle in bundles.values()]
    assert len(set(ids)) == len(ids) == len(bundles)
    job_stage = bundles["ts/schemas/JobStage.schema.json"]
    assert job_stage["$id"] == "https://schemas.videogen.dev/job/1.0.0/JobStage.schema.json"
    for path, bundle in bundles.items():
        assert bundle["$id"].endswith("/" + path.rsplit("/", 1)[1])


def test_bundle_id_follows_a_version_bump_of_its_source(schema_root: Path) -> None:
    path = schema_root / "schemas" / "job.schema.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["$id"] = "https://schemas.videogen.dev/job/2.0.0"
    path.write_text(json.dumps(document), encoding="utf-8")
    bundle = _bundles(schema_root)["ts/schemas/Job.schema.json"]
    assert bundle["$id"] == "https://schemas.videogen.dev/job/2.0.0/Job.schema.json"


def test_bundles_are_valid_2020_12_schemas_whose_examples_validate(schema_root: Path) -> None:
    for path, bundle in _bundles(schema_root).items():
        Draft202012Validator.check_schema(bundle)
        contract = bundle["$ref"].rsplit("/", 1)[1]
        validator = Draft202012Validator(bundle)
        examples = bundle["$defs"][contract].get("examples", [])
        assert examples, path
        for example in examples:
            validator.validate(example)


def test_strip_keeps_properties_and_data_named_like_x_keywords() -> None:
    schema = {
        "type": "object",
        "x-table": {"name": "t"},
        "properties": {"x-trace": {"type": "string", "x-sql": {"type": "text"}}},
        "required": ["x-trace"],
        "examples": [{"x-trace": "a", "x-sql": 1}],
        "$defs": {"x-named": {"const": {"x-sql": True}, "x-python-type": "a.B"}},
    }
    assert strip_annotations(schema) == {
        "type": "object",
        "properties": {"x-trace": {"type": "string"}},
        "required": ["x-trace"],
        "examples": [{"x-trace": "a", "x-sql": 1}],
        "$defs": {"x-named": {"const": {"x-sql": True}}},
    }
