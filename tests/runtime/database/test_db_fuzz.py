"""Property-based search (hypothesis) over the database and cost-tracking public API.

Every input is either accepted, or refused with the documented type (``ValidationError`` for
input the caller got wrong, ``BudgetExceededError`` for a spend that does not fit) and nothing is
written. The ledger always equals the job's total. Bounded: a fixed number of examples per test,
derandomised, against one scratch database of this module's own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from db_support import job_money, make_job
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_support import schema_database
from pydantic import BaseModel

from runtime.cost_tracking import CostTracker
from runtime.errors import BudgetExceededError, PipelineError, ValidationError
from runtime.postgres import PostgresDatabase, PostgresOptions

EXAMPLES = 100
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LIMIT = Decimal("5.00")

texts = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["video_generation", "Video", "a b", "x)", "p_cost)", "\x00", "\ud800", ""]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10).map(lambda s: s + "\x00"),
    st.just("\udcff"),
)
values: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    texts,
    st.uuids(),
    st.lists(st.integers(), max_size=3),
)


class Harness:
    """One event loop, one client and one job for every example of the module."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.runner = asyncio.Runner()
        self.client = PostgresDatabase(
            options=PostgresOptions(dsn=dsn, max_connections=2, call_deadline_seconds=5.0)
        )
        self.tracker = CostTracker(self.client, budget_limit=LIMIT)
        self.job = make_job(dsn)

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    def money(self) -> tuple[Decimal, Decimal, Decimal]:
        return job_money(self.dsn, self.job)

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.close()


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with schema_database("vg_fuzz") as dsn:
        harness = Harness(dsn)
        try:
            yield harness
        finally:
            harness.close()


def assert_consistent(harness: Harness) -> None:
    total, reserved, ledger = harness.money()
    assert ledger == total
    assert total + reserved <= LIMIT


@FUZZ
@given(stage=texts, api_name=texts, cost=values, key=st.one_of(st.none(), texts))
def test_track_cost_accepts_or_refuses_with_the_documented_type(
    harness: Harness, stage: Any, api_name: Any, cost: Any, key: Any
) -> None:
    before = harness.money()
    try:
        harness.run(
            harness.tracker.track_cost(
                harness.job, stage, api_name, cost, idempotency_key=key, limit=LIMIT
            )
        )
    except (ValidationError, BudgetExceededError):
        assert harness.money() == before  # nothing written
    assert_consistent(harness)


@FUZZ
@given(stage=texts, amount=values, limit=st.one_of(st.none(), values))
def test_reserve_accepts_or_refuses_with_the_documented_type(
    harness: Harness, stage: Any, amount: Any, limit: Any
) -> None:
    before = harness.money()
    try:
        hold = harness.run(harness.tracker.reserve(harness.job, stage, "svd", amount, limit=limit))
    except (ValidationError, BudgetExceededError):
        assert harness.money() == before
    else:
        harness.run(harness.tracker.release(hold))
    assert_consistent(harness)


@FUZZ
@given(
    name=st.one_of(texts, st.sampled_from(["health", "job_cost_summary"])),
    params=st.dictionaries(texts, values, max_size=3),
)
def test_call_function_refuses_bad_names_and_values_before_any_io(
    harness: Harness, name: Any, params: dict[str, Any]
) -> None:
    before = harness.money()
    try:
        harness.run(harness.client.call_function(name, params))
    except ValidationError:
        pass
    except PipelineError as exc:
        # A well-formed call the server refused (no such function or parameter): a typed
        # error from the server, never a bare ValueError/TypeError/UnicodeError.
        refused = exc
        assert type(refused) is not PipelineError
    assert harness.money() == before  # nothing written (neither function writes)


@FUZZ
@given(
    table=st.one_of(texts, st.sampled_from(["jobs", "job_stages", "job_costs"])),
    column=st.one_of(texts, st.sampled_from(["status", "total_cost", "progress"])),
    value=values,
)
def test_batch_refusals_are_validation_errors_before_any_io(
    harness: Harness, table: Any, column: Any, value: Any
) -> None:
    before = harness.money()

    async def batch() -> None:
        async with harness.client.transaction() as tx:
            await tx.table(table).update({column: value}).eq("id", harness.job).execute()

    try:
        harness.run(batch())
    except ValidationError:
        pass
    except PipelineError as exc:
        refused = exc
        assert type(refused) is not PipelineError  # a typed refusal from the server (bad value)
    assert harness.money() == before  # a batch never touches money


def test_parameter_name_with_a_parenthesis_is_a_validation_error(harness: Harness) -> None:
    with pytest.raises(ValidationError, match="parameter name"):
        harness.run(harness.client.call_function("health", {"p)": 1}))


@pytest.mark.parametrize(
    "stage", ["Video_Generation", "video generation", "video\x00generation", "video_\ud800"]
)
def test_stage_names_off_the_schema_pattern_are_validation_errors(
    harness: Harness, stage: str
) -> None:
    with pytest.raises(ValidationError, match="stage"):
        harness.run(harness.tracker.track_cost(harness.job, stage, "svd", Decimal("0.01")))


def test_batch_on_a_table_off_the_allow_list_is_a_validation_error(harness: Harness) -> None:
    async def batch() -> None:
        async with harness.client.transaction() as tx:
            await tx.table("job_costs").insert({"job_id": uuid.uuid4(), "cost": 1}).execute()

    with pytest.raises(ValidationError, match="not allowed"):
        harness.run(batch())


def test_params_that_are_not_a_mapping_are_a_validation_error(harness: Harness) -> None:
    for params in (5, ["abc"], "p_job_id"):
        with pytest.raises(ValidationError, match="params must be a mapping"):
            harness.run(harness.client.call_function("health", params))  # type: ignore[arg-type]


def test_params_nested_too_deeply_or_cyclic_are_a_validation_error(harness: Harness) -> None:
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    for value in (deep, cyclic):
        with pytest.raises(ValidationError, match="nested too deeply"):
            harness.run(harness.client.call_function("health", {"p_value": value}))


def test_text_inside_a_pydantic_model_param_is_checked_too(harness: Harness) -> None:
    class Note(BaseModel):
        text: str

    for text in ("nul\x00", "surrogate\ud800"):
        with pytest.raises(ValidationError):
            harness.run(harness.client.call_function("health", {"p_note": Note(text=text)}))
