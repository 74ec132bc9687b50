"""Python-mode input (native ``Decimal`` and ``datetime``, attribute assignment) can never make a
model whose JSON fails its schema: values off the schema's patterns are rejected or normalised."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from generated import Job, JobCost
from runtime.contracts import dereferenced_schema, validator_for

JOB_EXAMPLE: dict[str, Any] = dereferenced_schema("job", "Job")["examples"][0]


def _job() -> Job:
    return Job.model_validate_json(json.dumps(JOB_EXAMPLE))


def _dumped_job_is_schema_valid(job: Job) -> bool:
    return validator_for("job", "Job").is_valid(json.loads(job.model_dump_json()))


def test_negative_zero_money_is_normalised_to_zero() -> None:
    job = Job.model_validate({**JOB_EXAMPLE, "total_cost": Decimal("-0")})
    assert json.loads(job.model_dump_json())["total_cost"] == "0"
    assert _dumped_job_is_schema_valid(job)


def test_negative_zero_money_keeps_its_scale() -> None:
    job = Job.model_validate({**JOB_EXAMPLE, "total_cost": Decimal("-0.00")})
    assert json.loads(job.model_dump_json())["total_cost"] == "0.00"


def test_negative_zero_money_string_is_rejected_as_the_pattern_says() -> None:
    with pytest.raises(ValidationError, match="money"):
        Job.model_validate_json(json.dumps({**JOB_EXAMPLE, "total_cost": "-0"}))


@pytest.mark.parametrize(
    "amount", [Decimal("-0.01"), Decimal("0.0000001"), Decimal("1E+12"), Decimal("NaN")]
)
def test_native_money_off_the_pattern_is_rejected(amount: Decimal) -> None:
    with pytest.raises(ValidationError, match="money must be a finite non-negative Decimal"):
        Job.model_validate({**JOB_EXAMPLE, "total_cost": amount})


def test_native_money_in_exponent_form_is_written_as_plain_digits() -> None:
    job = Job.model_validate({**JOB_EXAMPLE, "total_cost": Decimal("1.5E+2")})
    assert json.loads(job.model_dump_json())["total_cost"] == "150"


@pytest.mark.parametrize("year", [1, 999, 3000, 9999])
def test_native_datetime_outside_years_1000_to_2999_is_rejected(year: int) -> None:
    moment = datetime(year, 6, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="years 1000-2999"):
        Job.model_validate({**JOB_EXAMPLE, "created_at": moment})


@pytest.mark.parametrize("year", [1000, 2999])
def test_native_datetime_at_the_year_limits_is_accepted(year: int) -> None:
    job = Job.model_validate({**JOB_EXAMPLE, "created_at": datetime(year, 6, 1, 12, 0, tzinfo=UTC)})
    assert _dumped_job_is_schema_valid(job)


@pytest.mark.parametrize(
    "offset",
    [timedelta(hours=5, minutes=30, seconds=15), timedelta(minutes=1, microseconds=1)],
    ids=["seconds", "microseconds"],
)
def test_native_datetime_with_a_sub_minute_offset_is_rejected(offset: timedelta) -> None:
    moment = datetime(2025, 11, 14, 10, 30, tzinfo=timezone(offset))
    with pytest.raises(ValidationError, match="whole minutes"):
        Job.model_validate({**JOB_EXAMPLE, "created_at": moment})


def test_native_datetime_with_a_whole_minute_offset_keeps_it() -> None:
    moment = datetime(2025, 11, 14, 10, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    job = Job.model_validate({**JOB_EXAMPLE, "created_at": moment})
    assert json.loads(job.model_dump_json())["created_at"] == "2025-11-14T10:30:00+05:30"


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        Job.model_validate({**JOB_EXAMPLE, "created_at": datetime(2025, 11, 14, 10, 30)})


def test_assigning_an_out_of_range_number_is_rejected() -> None:
    job = _job()
    with pytest.raises(ValidationError, match="less than or equal to 100"):
        job.progress = 500
    assert job.progress == JOB_EXAMPLE["progress"]


def test_assigning_a_value_of_the_wrong_type_is_rejected() -> None:
    job = _job()
    with pytest.raises(ValidationError):
        job.total_cost = 3.42  # type: ignore[assignment]


def test_assigning_a_wrong_enum_value_is_rejected() -> None:
    job = _job()
    with pytest.raises(ValidationError):
        job.status = "running"  # type: ignore[assignment]


def test_assigning_a_valid_value_is_validated_and_converted() -> None:
    cost = JobCost.model_validate_json(
        json.dumps(dereferenced_schema("job", "JobCost")["examples"][0])
    )
    cost.cost = "0.25"  # type: ignore[assignment]
    assert cost.cost == Decimal("0.25")


@settings(max_examples=200, deadline=None, database=None)
@given(amount=st.decimals(allow_nan=True, allow_infinity=True))
def test_any_accepted_native_money_dumps_schema_valid_json(amount: Decimal) -> None:
    try:
        job = Job.model_validate({**JOB_EXAMPLE, "total_cost": amount})
    except ValidationError:
        return
    assert _dumped_job_is_schema_valid(job)


_OFFSETS = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23))


@settings(max_examples=200, deadline=None, database=None)
@given(moment=st.datetimes(timezones=st.builds(timezone, _OFFSETS) | st.just(UTC)))
def test_any_accepted_native_datetime_dumps_schema_valid_json(moment: datetime) -> None:
    try:
        job = Job.model_validate({**JOB_EXAMPLE, "created_at": moment})
    except ValidationError:
        return
    assert _dumped_job_is_schema_valid(job)
