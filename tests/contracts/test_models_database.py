"""Models and database agree: the shipped SQL, applied to a fresh PostgreSQL database, has one
column per model field with the mapped type, nullability and enum values; the catalog holds the
foreign keys, defaults, range CHECKs, indexes, unique constraints and triggers the schemas' x-sql
and x-table annotations ask for; model instances (schema examples and Hypothesis-generated) are
stored and read back into equal models; and the database refuses what the schema refuses for money
digits and object-typed jsonb."""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from uuid import UUID, uuid4

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

_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def load_schema(area: str) -> dict[str, Any]:
    """A source schema of the repository (the wheel ships bundles only)."""
    document: dict[str, Any] = json.loads((_SCHEMAS / f"{area}.schema.json").read_text("utf-8"))
    return document


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
#: Columns the database sets itself on every insert and update (x-sql onUpdate), by definition.
SERVER_SET: dict[str, list[str]] = {
    name: [
        prop
        for prop, schema in load_schema("job")["$defs"][name]["properties"].items()
        if schema.get("x-sql", {}).get("onUpdate")
    ]
    for name in TABLES
}
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
            # Plain numeric: numeric(18,6) would round a 7th decimal away before a CHECK sees it.
            assert columns[name]["numeric"] == (None, None), f"{name}: money is plain numeric"


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


def _now(conn: psycopg.Connection[Any]) -> datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def _store_and_reload(conn: psycopg.Connection[Any], model: BaseModel) -> BaseModel:
    """Insert (with its parent job for child rows) and read back, all rolled back afterwards.

    Columns the database sets itself (``updated_at``) must come back as the transaction's
    ``now()``; the returned model carries the value the client wrote there instead, so that it
    compares equal to the inserted model.
    """
    with conn.transaction(force_rollback=True):
        if type(model).__name__ != "Job":
            _insert(conn, _parent_job())
        _insert(conn, model)
        reloaded = _read(conn, type(model), model.id)  # type: ignore[attr-defined]
        server_set = SERVER_SET[type(model).__name__]
        for name in server_set:
            assert getattr(reloaded, name) == _now(conn), f"{name} is set by the database"
        return reloaded.model_copy(update={name: getattr(model, name) for name in server_set})


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


def test_money_comes_back_with_the_digits_it_was_written_with(
    connection: psycopg.Connection[Any],
) -> None:
    job = _parent_job().model_copy(update={"total_cost": Decimal("3.42")})
    reloaded = _store_and_reload(connection, job)
    assert json.loads(reloaded.model_dump_json())["total_cost"] == "3.42"


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


# --- The catalog against the x-sql / x-table annotations -------------------------------------

_ON_DELETE = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_INT4_MAX = 2147483647
_BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
_CAST = re.compile(r"::[a-z ]+(?:\([0-9, ]+\))?")
_RANGE = re.compile(r"(scale\(\w+\)|\b\w+) (>=|>|<=|<) \(*'?(-?[0-9.]+)'?")


def _x_sql(definition: str, name: str) -> dict[str, Any]:
    """The ``x-sql`` of one property merged over the one of the definition it references."""
    raw = load_schema("job")["$defs"][definition]["properties"][name]
    merged: dict[str, Any] = {}
    for node in [v for v in raw.get("anyOf", []) if v.get("type") != "null"] + [raw]:
        if "$ref" in node:
            target = load_schema("common")["$defs"][node["$ref"].rsplit("/", 1)[1]]
            merged.update(target.get("x-sql", {}))
        merged.update(node.get("x-sql", {}))
    return merged


def _properties(definition: str) -> dict[str, dict[str, Any]]:
    """Each property of a persisted contract, dereferenced, with ``anyOf [X, null]`` unwrapped and
    its ``x-sql`` merged with the referenced definition's (as the DDL generator reads it)."""
    flat: dict[str, dict[str, Any]] = {}
    for name, schema in dereferenced_schema("job", definition)["properties"].items():
        variants = [v for v in schema.get("anyOf", [schema]) if v.get("type") != "null"]
        (variant,) = variants
        flat[name] = {**variant, **{k: v for k, v in schema.items() if k != "anyOf"}}
        flat[name]["x-sql"] = _x_sql(definition, name)
    return flat


def _table_spec(definition: str) -> dict[str, Any]:
    spec: dict[str, Any] = load_schema("job")["$defs"][definition]["x-table"]
    return spec


def _catalog(conn: psycopg.Connection[Any], query: str, table: str) -> list[tuple[Any, ...]]:
    with conn.transaction(force_rollback=True):
        return conn.execute(query, (f"public.{table}",)).fetchall()  # type: ignore[call-overload]


@pytest.mark.parametrize("definition", PERSISTED)
def test_foreign_keys_match_x_sql_references(
    connection: psycopg.Connection[Any], definition: str
) -> None:
    expected = {
        name: (spec["table"], spec["column"], spec.get("onDelete", "restrict"))
        for name, prop in _properties(definition).items()
        if (spec := prop.get("x-sql", {}).get("references"))
    }
    rows = _catalog(
        connection,
        "SELECT a.attname, t.relname, af.attname, c.confdeltype::text, cardinality(c.conkey)"
        " FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_class t ON t.oid = c.confrelid"
        " JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]"
        " WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
        TABLES[definition],
    )
    assert all(row[4] == 1 for row in rows)
    assert {row[0]: (row[1], row[2], _ON_DELETE[row[3]]) for row in rows} == expected


def test_every_child_table_cascades_from_jobs() -> None:
    for definition in ("JobStage", "JobCost", "CostReservation"):
        reference = _properties(definition)["job_id"]["x-sql"]["references"]
        assert reference == {"table": "jobs", "column": "id", "onDelete": "cascade"}


def _expected_default(prop: dict[str, Any]) -> str | None:
    x_sql = prop.get("x-sql", {})
    if "default" in x_sql:
        return str(x_sql["default"])
    value = prop.get("default")
    if value is None:
        return None
    if isinstance(value, str) and not x_sql.get("type", "").startswith("numeric"):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


@pytest.mark.parametrize("definition", PERSISTED)
def test_column_defaults_match_x_sql_and_json_defaults(
    connection: psycopg.Connection[Any], definition: str
) -> None:
    expected = {
        name: default
        for name, prop in _properties(definition).items()
        if (default := _expected_default(prop)) is not None
    }
    rows = _catalog(
        connection,
        "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
        " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
        " WHERE d.adrelid = %s::regclass",
        TABLES[definition],
    )
    assert {name: _CAST.sub("", text) for name, text in rows} == expected


def test_identifiers_and_creation_times_default_on_the_server() -> None:
    for definition in PERSISTED:
        props = _properties(definition)
        assert props["id"]["x-sql"]["default"] == "gen_random_uuid()", definition
        created = "timestamp" if definition == "JobCost" else "created_at"
        if created in props:
            assert props[created]["x-sql"]["default"] == "now()", definition


def _expected_ranges(definition: str) -> set[tuple[str, str, Decimal]]:
    expected: set[tuple[str, str, Decimal]] = set()
    for name, prop in _properties(definition).items():
        for keyword, op in _BOUNDS.items():
            value = prop.get(keyword)
            if value is not None and not (prop.get("type") == "integer" and value == _INT4_MAX):
                expected.add((name, op, Decimal(str(value))))
        x_sql = prop.get("x-sql", {})
        if "check" in x_sql:
            op, value = x_sql["check"].split()
            expected.add((name, op, Decimal(value)))
        if "scale" in x_sql:
            integer_digits = x_sql["precision"] - x_sql["scale"]
            expected.add((name, "<", Decimal(10) ** integer_digits))
            expected.add((f"scale({name})", "<=", Decimal(x_sql["scale"])))
    return expected


@pytest.mark.parametrize("definition", PERSISTED)
def test_range_checks_match_schema_bounds_and_money_digits(
    connection: psycopg.Connection[Any], definition: str
) -> None:
    rows = _catalog(
        connection,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'c'",
        TABLES[definition],
    )
    found = {
        (lhs, op, Decimal(value))
        for (text,) in rows
        for lhs, op, value in _RANGE.findall(_CAST.sub("", text))
    }
    assert found == _expected_ranges(definition)


def _groups(definition: str) -> set[tuple[str, tuple[str, ...]]]:
    spec = _table_spec(definition)
    return {
        ("primary", tuple(spec["primaryKey"])),
        *(("unique", tuple(group)) for group in spec.get("unique", [])),
        *(("index", tuple(group)) for group in spec.get("indexes", [])),
    }


@pytest.mark.parametrize("definition", PERSISTED)
def test_indexes_and_unique_constraints_match_x_table(
    connection: psycopg.Connection[Any], definition: str
) -> None:
    rows = _catalog(
        connection,
        "SELECT i.indisprimary, i.indisunique,"
        " array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
        "       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        "       ORDER BY k.n)::text[]"
        " FROM pg_index i WHERE i.indrelid = %s::regclass",
        TABLES[definition],
    )
    kinds = {(True, True): "primary", (False, True): "unique", (False, False): "index"}
    assert {(kinds[(row[0], row[1])], tuple(row[2])) for row in rows} == _groups(definition)


@pytest.mark.parametrize("definition", PERSISTED)
def test_unique_constraints_are_constraints_not_bare_indexes(
    connection: psycopg.Connection[Any], definition: str
) -> None:
    rows = _catalog(
        connection,
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
        TABLES[definition],
    )
    assert len(rows) == len(_table_spec(definition).get("unique", []))


#: pg_trigger.tgtype bits: ROW 1, BEFORE 2, INSERT 4, UPDATE 16.
_BEFORE_INSERT_OR_UPDATE_ROW = 1 | 2 | 4 | 16


@pytest.mark.parametrize("definition", PERSISTED)
def test_triggers_maintain_exactly_the_on_update_columns(
    connection: psycopg.Connection[Any], definition: str
) -> None:
    rows = _catalog(
        connection,
        "SELECT t.tgtype, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
        " WHERE t.tgrelid = %s::regclass AND NOT t.tgisinternal",
        TABLES[definition],
    )
    assert len(rows) == len(SERVER_SET[definition])
    for column, (tgtype, source) in zip(SERVER_SET[definition], sorted(rows), strict=True):
        assert tgtype == _BEFORE_INSERT_OR_UPDATE_ROW
        assert f'NEW."{column}" := pg_catalog.now();' in source


# --- Behaviour: cascades, updated_at, money digits, object jsonb --------------------------------


def _child_rows(conn: psycopg.Connection[Any], job_id: UUID) -> dict[str, int]:
    counts: dict[str, int] = {}
    for definition in ("JobStage", "JobCost", "CostReservation"):
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE job_id = %s").format(
                sql.Identifier("public", TABLES[definition])
            ),
            (job_id,),
        ).fetchone()
        assert row is not None
        counts[definition] = row[0]
    return counts


def test_deleting_a_job_deletes_its_stages_costs_and_reservations(
    connection: psycopg.Connection[Any],
) -> None:
    with connection.transaction(force_rollback=True):
        _insert(connection, _parent_job())
        for definition in ("JobStage", "JobCost", "CostReservation"):
            example = dereferenced_schema("job", definition)["examples"][0]
            _insert(connection, model_for(definition).model_validate_json(json.dumps(example)))
        assert set(_child_rows(connection, PARENT_JOB_ID).values()) == {1}
        connection.execute("DELETE FROM public.jobs WHERE id = %s", (PARENT_JOB_ID,))
        assert set(_child_rows(connection, PARENT_JOB_ID).values()) == {0}


def _updated_at(conn: psycopg.Connection[Any], job_id: UUID) -> datetime:
    row = conn.execute("SELECT updated_at FROM public.jobs WHERE id = %s", (job_id,)).fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def test_updated_at_written_by_the_client_on_insert_is_replaced_by_now(
    connection: psycopg.Connection[Any],
) -> None:
    with connection.transaction(force_rollback=True):
        _insert(connection, _parent_job())  # the example says updated_at 2025-11-14T10:34:12.512Z
        assert _updated_at(connection, PARENT_JOB_ID) == _now(connection)


def test_updated_at_moves_to_now_on_every_update(generated_ddl_database: str) -> None:
    job = _parent_job().model_copy(update={"id": uuid4()})
    with psycopg.connect(generated_ddl_database, autocommit=True) as conn:
        _insert(conn, job)
        try:
            inserted = _updated_at(conn, job.id)  # type: ignore[attr-defined]
            with conn.transaction():
                conn.execute(
                    "UPDATE public.jobs SET progress = 63, updated_at = '2001-01-01T00:00:00Z'"
                    " WHERE id = %s",
                    (job.id,),  # type: ignore[attr-defined]
                )
                assert _updated_at(conn, job.id) == _now(conn)  # type: ignore[attr-defined]
            assert _updated_at(conn, job.id) > inserted  # type: ignore[attr-defined]
        finally:
            conn.execute("DELETE FROM public.jobs WHERE id = %s", (job.id,))  # type: ignore[attr-defined]


def _set_total_cost(conn: psycopg.Connection[Any], value: str) -> None:
    with conn.transaction(force_rollback=True):
        _insert(conn, _parent_job())
        conn.execute(
            "UPDATE public.jobs SET total_cost = %s::numeric WHERE id = %s", (value, PARENT_JOB_ID)
        )


@pytest.mark.parametrize(
    "amount", ["0.0000004", "0.0000001", "1.1234567", "1000000000000", "1e12", "NaN", "-0.01"]
)
def test_database_refuses_money_the_schema_refuses(
    connection: psycopg.Connection[Any], amount: str
) -> None:
    assert not validator_for("common", "Money").is_valid(amount)
    with pytest.raises(psycopg.errors.CheckViolation, match="jobs_total_cost_check"):
        _set_total_cost(connection, amount)


@pytest.mark.parametrize("amount", ["0.000001", "999999999999.999999", "0", "12.5"])
def test_database_takes_money_at_the_digit_limits(
    connection: psycopg.Connection[Any], amount: str
) -> None:
    assert validator_for("common", "Money").is_valid(amount)
    _set_total_cost(connection, amount)


@pytest.mark.parametrize("value", ["[1, 2]", '"cache_hit"', "1", "true", "null"])
def test_database_refuses_stage_metadata_that_is_not_an_object(
    connection: psycopg.Connection[Any], value: str
) -> None:
    stage = dereferenced_schema("job", "JobStage")["examples"][0]
    # JSON null is SQL NULL for the model and the DDL; only the jsonb literal null is refused.
    schema_valid = validator_for("job", "JobStage").is_valid(
        {**stage, "metadata": json.loads(value)}
    )
    assert schema_valid is (value == "null")
    with connection.transaction(force_rollback=True):
        _insert(connection, _parent_job())
        with pytest.raises(psycopg.errors.CheckViolation, match="job_stages_metadata_check"):
            _insert_stage_metadata(connection, value)


def _insert_stage_metadata(conn: psycopg.Connection[Any], value: str) -> None:
    with conn.transaction():
        conn.execute(
            "INSERT INTO public.job_stages (job_id, stage_name, metadata)"
            " VALUES (%s, 'audio_analysis', %s::jsonb)",
            (PARENT_JOB_ID, value),
        )


def test_database_takes_null_stage_metadata(connection: psycopg.Connection[Any]) -> None:
    stage = model_for("JobStage").model_validate_json(
        json.dumps({**dereferenced_schema("job", "JobStage")["examples"][0], "metadata": None})
    )
    assert _store_and_reload(connection, stage) == stage
