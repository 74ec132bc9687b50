"""Schema and model agree: every instance valid under the JSON Schema is a valid model and
round-trips to the same JSON (property-based: our own Hypothesis strategy over the dereferenced
schema of each top-level contract)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from contracts_support import (
    CONTRACT_IDS,
    CONTRACTS,
    assert_round_trip,
    instances,
    model_for,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.contracts import dereferenced_schema, validator_for

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _round_trip(area: str, definition: str, instance: Any) -> None:
    errors = [e.message for e in validator_for(area, definition).iter_errors(instance)]
    assert errors == [], f"generator produced a schema-invalid instance: {errors}"
    model = model_for(definition).model_validate_json(json.dumps(instance))
    produced = json.loads(model.model_dump_json())
    assert_round_trip(dereferenced_schema(area, definition), instance, produced)


@pytest.mark.parametrize(("area", "definition"), CONTRACTS, ids=CONTRACT_IDS)
def test_schema_examples_validate_and_round_trip(area: str, definition: str) -> None:
    examples = dereferenced_schema(area, definition)["examples"]
    assert examples
    for example in examples:
        _round_trip(area, definition, example)


@pytest.mark.parametrize(("area", "definition"), CONTRACTS, ids=CONTRACT_IDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_schema_valid_instances_validate_and_round_trip(
    area: str, definition: str, data: st.DataObject
) -> None:
    instance = data.draw(instances(area, definition), label="instance")
    _round_trip(area, definition, instance)


@pytest.mark.parametrize(("area", "definition"), CONTRACTS, ids=CONTRACT_IDS)
def test_model_dump_is_schema_valid_again(area: str, definition: str) -> None:
    for example in dereferenced_schema(area, definition)["examples"]:
        model = model_for(definition).model_validate_json(json.dumps(example))
        dumped = json.loads(model.model_dump_json())
        assert list(validator_for(area, definition).iter_errors(dumped)) == []
