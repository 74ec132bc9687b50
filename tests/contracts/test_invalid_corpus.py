"""Schema and model agree on what is invalid: every entry of invalid_corpus.json is rejected by
the JSON Schema validator (the shipped schemas, ECMA pattern semantics) and by the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from contracts_support import (
    CATEGORIES,
    CONTRACT_IDS,
    CONTRACTS,
    REQUIRED_CATEGORIES,
    applicable_categories,
    error_categories,
    model_for,
)
from pydantic import ValidationError

from runtime.contracts import validator_for

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "invalid_corpus.json").read_text(encoding="utf-8")
)


def _id(entry: dict[str, Any]) -> str:
    return f"{entry['definition']}: {entry['why']}"


def test_corpus_covers_every_top_level_contract_with_many_cases() -> None:
    covered = {(entry["area"], entry["definition"]) for entry in CORPUS}
    assert covered == set(CONTRACTS)
    assert len(CORPUS) >= 60


@pytest.mark.parametrize(("area", "definition"), CONTRACTS, ids=CONTRACT_IDS)
def test_corpus_covers_every_required_category_the_contract_can_violate(
    area: str, definition: str
) -> None:
    covered = {entry["category"] for entry in CORPUS if entry["definition"] == definition}
    required = set(REQUIRED_CATEGORIES) & applicable_categories(area, definition)
    assert required - covered == set()


@pytest.mark.parametrize(("area", "definition"), CONTRACTS, ids=CONTRACT_IDS)
def test_every_contract_can_violate_the_always_applicable_categories(
    area: str, definition: str
) -> None:
    applicable = applicable_categories(area, definition)
    assert {"missing-required", "wrong-type", "null-not-allowed", "malformed-uuid"} <= applicable


def test_date_time_category_applies_exactly_to_contracts_with_a_timestamp() -> None:
    with_date_time = {
        d for a, d in CONTRACTS if "malformed-date-time" in applicable_categories(a, d)
    }
    assert with_date_time == {"Job", "JobStage", "JobCost", "CostReservation"}


@pytest.mark.parametrize("entry", CORPUS, ids=_id)
def test_corpus_entry_category_is_what_the_validator_reports(entry: dict[str, Any]) -> None:
    assert entry["category"] in CATEGORIES
    assert entry["category"] in error_categories(
        entry["area"], entry["definition"], entry["instance"]
    )


def test_corpus_reasons_are_unique_per_contract() -> None:
    ids = [_id(entry) for entry in CORPUS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("entry", CORPUS, ids=_id)
def test_json_schema_rejects_corpus_entry(entry: dict[str, Any]) -> None:
    validator = validator_for(entry["area"], entry["definition"])
    assert not validator.is_valid(entry["instance"]), entry["why"]


@pytest.mark.parametrize("entry", CORPUS, ids=_id)
def test_model_rejects_corpus_entry(entry: dict[str, Any]) -> None:
    model = model_for(entry["definition"])
    with pytest.raises(ValidationError):
        model.model_validate_json(json.dumps(entry["instance"]))
