"""Where schema and model may differ on purpose: each documented difference, pinned by a test."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema.validators import Draft202012Validator
from pydantic import ValidationError

from generated import AudioAnalysis, Job
from runtime.contracts import dereferenced_schema, validator_for
from runtime.resources import load_bundle

JOB: dict[str, Any] = dereferenced_schema("job", "Job")["examples"][0]
AUDIO: dict[str, Any] = dereferenced_schema("audio", "AudioAnalysis")["examples"][0]


def test_integer_written_with_a_zero_fraction_is_schema_valid_but_model_invalid() -> None:
    instance = {**JOB, "progress": 62.0}
    assert validator_for("job", "Job").is_valid(instance)  # JSON Schema: 62.0 is an integer
    with pytest.raises(ValidationError, match="valid integer"):
        Job.model_validate_json(json.dumps(instance))  # strict int: write 62


def test_uppercase_uuid_is_accepted_and_written_back_in_lowercase() -> None:
    job = Job.model_validate_json(json.dumps({**JOB, "id": JOB["id"].upper()}))
    assert json.loads(job.model_dump_json())["id"] == JOB["id"]


def test_timestamp_is_written_back_as_the_same_instant_in_canonical_form() -> None:
    job = Job.model_validate_json(
        json.dumps({**JOB, "created_at": "2025-11-14t10:30:00.1234567+00:00"})
    )
    assert json.loads(job.model_dump_json())["created_at"] == "2025-11-14T10:30:00.123456Z"


def test_non_utc_offset_is_kept() -> None:
    job = Job.model_validate_json(json.dumps({**JOB, "created_at": "2025-11-14T12:30:00+02:00"}))
    assert json.loads(job.model_dump_json())["created_at"] == "2025-11-14T12:30:00+02:00"


def test_number_fields_are_ieee_doubles() -> None:
    analysis = AudioAnalysis.model_validate_json(
        json.dumps({**AUDIO, "duration": 9007199254740993})
    )
    assert json.loads(analysis.model_dump_json())["duration"] == 9007199254740992.0


def test_plain_jsonschema_pattern_accepts_a_trailing_newline_that_contracts_reject() -> None:
    plain = Draft202012Validator({"$ref": "#/$defs/Money", "$defs": load_bundle("Job")["$defs"]})
    assert plain.is_valid("3.42\n")  # Python re: "$" also matches before a final newline
    assert not validator_for("common", "Money").is_valid("3.42\n")  # ECMA-262 semantics
    with pytest.raises(ValidationError):
        Job.model_validate_json(json.dumps({**JOB, "total_cost": "3.42\n"}))
