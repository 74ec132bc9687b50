"""runtime.contracts validates with the shipped bundles and its own date-time/uuid checkers."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.contracts import (
    FORMAT_CHECKER,
    ContractNotFoundError,
    bundle_validator,
    contracts,
    dereferenced_schema,
    validator_for,
)
from runtime.resources import load_bundle

JOB: dict[str, Any] = load_bundle("Job")["$defs"]["Job"]["examples"][0]


@pytest.mark.parametrize(
    "value",
    ["2025-11-14T10:30:00Z", "2025-11-14t10:30:00.5z", "2024-02-29T23:59:59+05:30", 42],
)
def test_date_time_accepts_rfc3339(value: object) -> None:
    assert FORMAT_CHECKER.conforms(value, "date-time")


@pytest.mark.parametrize(
    "value",
    [
        "2025-02-29T10:00:00Z",  # not a leap year
        "0000-01-01T00:00:00Z",
        "2025-11-14T24:00:00Z",
        "2025-11-14T10:30:00",  # no offset
        "2025-11-14T10:30:00Z\n",
        "2025-11-14 10:30:00Z",
        "\uff12\uff10\uff12\uff15-11-14T10:30:00Z",  # non-ASCII (fullwidth) digits
    ],
)
def test_date_time_refuses_anything_else(value: str) -> None:
    assert not FORMAT_CHECKER.conforms(value, "date-time")


def test_uuid_needs_the_hyphenated_form() -> None:
    assert FORMAT_CHECKER.conforms("550e8400-e29b-41d4-a716-446655440000", "uuid")
    assert not FORMAT_CHECKER.conforms("550e8400e29b41d4a716446655440000", "uuid")
    assert not FORMAT_CHECKER.conforms("not-a-uuid", "uuid")


def test_other_formats_are_not_checked() -> None:
    assert FORMAT_CHECKER.conforms("not an email", "email")


def test_bundle_validator_accepts_the_example_and_refuses_garbage() -> None:
    assert bundle_validator("Job").is_valid(JOB)
    assert not bundle_validator("Job").is_valid({"garbage": 1})


def test_bundle_validator_checks_formats() -> None:
    assert not bundle_validator("Job").is_valid({**JOB, "created_at": "2025-02-30T10:00:00Z"})


def test_an_unknown_contract_is_not_found() -> None:
    with pytest.raises(ContractNotFoundError, match="known contracts"):
        bundle_validator("Invoice")


def test_a_definition_of_another_area_is_not_found() -> None:
    with pytest.raises(ContractNotFoundError, match="has no definition 'Money'"):
        validator_for("job", "Money")


def test_contracts_carry_the_id_and_version_of_their_schema_file() -> None:
    job = next(c for c in contracts() if c.name == "Job")
    assert job.area == "job"
    assert job.id == f"https://schemas.videogen.dev/job/{job.version}"


def test_any_definition_validates_from_a_bundle_that_holds_it() -> None:
    assert validator_for("common", "Money").is_valid("0.06")
    assert not validator_for("common", "Money").is_valid(0.06)
    assert dereferenced_schema("audio", "Mood")["type"] == "object"
