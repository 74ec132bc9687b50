"""Models and database agree: the shipped SQL, applied to a fresh PostgreSQL database, has one
column per model field with the mapped type, nullability and enum values; model instances (schema
examples and Hypothesis-generated) are stored and read back into equal models."""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import psycopg
import pytest
from contracts_support import PERSISTED, instances, model_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from runtime.contracts import dereferenced_schema, validator_for
from runtime.resources import load_schema

SQL_TYPES: dict[type, str] = {
    UUID: "uuid",
    Decimal: "numeric",
    datetime: "timestamp with time zone",
    int: "integer",
    float: "double precision",
    str: "text",
    dict: "jsonb",
}
TABLES: dict[str, str] = {
    name: schema["x-table"]["name"]
    for name, schema in load_schema("job")["$defs"].items()
    if "x-table" in schema
}
PARENT_JOB_ID = UUID("550e8400-e29b-41d4-a716-446655440000")
DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(base type, admits None) of a field annotation, Annotated and Optional removed."""
    nullable = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        nullable = type(None) in args
        (annotation,) = [a for a in args if a is not type(None)]
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation, nullable


def _expected_column(field: FieldInfo) -> tuple[str, bool, list[str] | None]:
    base, nullable = _unwrap(field.annotation)
    if typing.get_origin(base) is Literal:
        return "text", nullable, sorted(typing.get_args(base))
    origin = typing.get_origin(base) or base
    return SQL_TYPES[origin], nullable, None


def _columns(conn: psycopg.Connection[Any], table: str) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        "SELECT column_name, data_type, is_nullable, numeric_precision, numeric_scale"
        " FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s"
        " ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return {
        row[0]: {"type": row[1], "nullable": row[2] == "YES", "numeric": row[3:]} for row in rows
    }


def _enum_checks(conn: psycopg.Connection[Any], table: str) -> dict[str, list[str]]:
    """Column -> sorted allowed values, for the single-column CHECKs that list text values."""
    rows = conn.execute(
        "SELECT a.attname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " WHERE c.conrelid = %s::regclass AND c.contype = 'c' AND cardinality(c.conkey) = 1",
        (f"public.{table}",),
    ).fetchall()
    enums: dict[str, list[str]] = {}
    for column, definition in rows:
        if "ANY (ARRAY[" in definition or " IN (" in definition:
            values = re.findall(r"'((?:[^']|'')*)'::text", definition)
            enums[column] = sorted(v.replace("''", "'") for v in values)
    return enums


def test_persisted_models_are_exactly_the_tables() -> None:
    assert TABLES == {
        "Job": "jobs",
        "JobStage": "job_stages",
        "JobCost": "job_costs",
        "CostReservation": "cost_reservations",
    }
    assert set(TABLES) == set(PERSISTED)


@pytest.mark.parametrize("definition", PERSISTED)
def test_columns_match_model_fields_types_and_nullability(
    contracts_database: str, definition: str
) -> None:
    model = model_for(definition)
    with psycopg.connect(contracts_database) as conn:
        columns = _columns(conn, TABLES[definition])
    assert list(columns) == list(model.model_fields)
    for name, field in model.model_fields.items():
        sql_type, nullable, _ = _expected_column(field)
        assert columns[name]["type"] == sql_type, name
        assert columns[name]["nullable"] is nullable, f"{name}: NOT NULL iff the field admits None"
        if sql_type == "numeric":
            assert columns[name]["numeric"] == (18, 6), f"{name}: money is numeric(18,6)"


@pytest.mark.parametrize("definition", PERSISTED)
def test_enum_fields_match_check_constraints(contracts_database: str, definition: str) -> None:
    model = model_for(definition)
    expected = {
        name: values
        for name, field in model.model_fields.items()
        if (values := _expected_column(field)[2]) is not None
    }
    with psycopg.connect(contracts_database) as conn:
        assert _enum_checks(conn, TABLES[definition]) == expected


def _insert(conn: psycopg.Connection[Any], model: BaseModel) -> None:
    row = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in model.model_dump().items()}
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier("public", TABLES[type(model).__name__]),
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder() * len(row)),
        ),
        list(row.values()),
    )


def _read(conn: psycopg.Connection[Any], model_type: type[BaseModel], row_id: UUID) -> BaseModel:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {} WHERE id = %s").format(
                sql.Identifier("public", TABLES[model_type.__name__])
            ),
            (row_id,),
        )
        row = cur.fetchone()
    assert row is not None
    return model_type.model_validate(row)


def _parent_job() -> BaseModel:
    example = dereferenced_schema("job", "Job")["examples"][0]
    job = model_for("Job").model_validate_json(json.dumps(example))
    assert job.id == PARENT_JOB_ID  # type: ignore[attr-defined]
    return job


@pytest.fixture(scope="module")
def connection(generated_ddl_database: str) -> Iterator[psycopg.Connection[Any]]:
    """One connection to the generated tables; each test and example runs in a rolled-back
    transaction."""
    with psycopg.connect(generated_ddl_database) as conn:
        yield conn


def _store_and_reload(conn: psycopg.Connection[Any], model: BaseModel) -> BaseModel:
    """Insert (with its parent job for child rows) and read back, all rolled back afterwards."""
    with conn.transaction(force_rollback=True):
        if type(model).__name__ != "Job":
            _insert(conn, _parent_job())
        _insert(conn, model)
        return _read(conn, type(model), model.id)  # type: ignore[attr-defined]


def _decimal_json(value: Any) -> Any:
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


def _assert_same_row(reloaded: BaseModel, model: BaseModel) -> None:
    """Equal models, except that jsonb numbers compare by decimal value.

    jsonb stores numbers as ``numeric``: a float written in exponent form (``3.2e16``) comes back
    as the integer with the same decimal digits (``32000000000000000``), which Python's ``==``
    tells apart from the binary float. Every other field must be equal as is.
    """
    got, want = reloaded.model_dump(), model.model_dump()
    assert _decimal_json(got.pop("metadata", None)) == _decimal_json(want.pop("metadata", None))
    assert got == want


@pytest.mark.parametrize("definition", PERSISTED)
def test_schema_example_is_stored_and_read_back_equal(
    connection: psycopg.Connection[Any], definition: str
) -> None:
    for example in dereferenced_schema("job", definition)["examples"]:
        model = model_for(definition).model_validate_json(json.dumps(example))
        assert _store_and_reload(connection, model) == model


@pytest.mark.parametrize("definition", PERSISTED)
@DB_SETTINGS
@given(data=st.data())
def test_generated_instance_is_stored_and_read_back_equal(
    connection: psycopg.Connection[Any], definition: str, data: st.DataObject
) -> None:
    instance = data.draw(instances("job", definition, allow_x00=False), label="instance")
    model = model_for(definition).model_validate_json(json.dumps(instance))
    if definition != "Job":
        model = model.model_copy(update={"job_id": PARENT_JOB_ID})
    _assert_same_row(_store_and_reload(connection, model), model)


def test_jsonb_returns_exponent_floats_as_integers_of_the_same_value(
    connection: psycopg.Connection[Any],
) -> None:
    stage = model_for("JobStage").model_validate_json(
        json.dumps(
            {**dereferenced_schema("job", "JobStage")["examples"][0], "metadata": {"n": 3.2e16}}
        )
    )
    reloaded = _store_and_reload(connection, stage)
    assert reloaded.metadata == {"n": 32000000000000000}  # type: ignore[attr-defined]
    assert type(reloaded.metadata["n"]) is int  # type: ignore[attr-defined]


def test_money_comes_back_at_the_column_scale_with_the_same_value(
    connection: psycopg.Connection[Any],
) -> None:
    job = _parent_job().model_copy(update={"total_cost": Decimal("3.42")})
    reloaded = _store_and_reload(connection, job)
    assert reloaded.total_cost == Decimal("3.42")  # type: ignore[attr-defined]
    assert json.loads(reloaded.model_dump_json())["total_cost"] == "3.420000"


def test_database_refuses_nul_in_text_that_schema_and_model_accept(
    connection: psycopg.Connection[Any],
) -> None:
    job = _parent_job().model_copy(update={"user_prompt": "neon\x00city"})
    model_for("Job").model_validate_json(job.model_dump_json())  # the model accepts it
    with pytest.raises(psycopg.DataError, match="NUL"):
        _store_and_reload(connection, job)


@pytest.mark.parametrize("instant", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"])
def test_timestamps_whose_utc_instant_no_consumer_can_read_are_rejected(instant: str) -> None:
    # Year 0001 with a positive offset is 1 BC in UTC: PostgreSQL would store it, psycopg (and
    # Python) could not read it back. The Timestamp pattern limits years to 1000-2999.
    document = {**_parent_job().model_dump(mode="json"), "created_at": instant}
    assert not validator_for("job", "Job").is_valid(document)
    with pytest.raises(ValidationError, match="RFC 3339"):
        model_for("Job").model_validate_json(json.dumps(document))
