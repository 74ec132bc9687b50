"""SQL migrations: the chain builds exactly the catalog of the full DDL, safe changes are
generated and run on a table that has rows, unsafe ones fail generation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from codegen_support import Schema, apply_sql, catalog, edit_schema
from pg_support import temporary_database

from codegen.migrations import (
    SNAPSHOT,
    ColumnOrderError,
    UnsafeMigrationError,
    generate_migrations,
)
from codegen.schemas import load_schema_set
from codegen.sql import generate_sql
from runtime.resources import sql_dir, sql_scripts


def _generate(root: Path) -> dict[str, str]:
    """Run the migration step on ``root`` and write what it returns, like ``generate`` does."""
    outputs = generate_migrations(load_schema_set(root / "schemas"))
    for relative, text in outputs.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return outputs


def _full_ddl(root: Path) -> str:
    (ddl,) = generate_sql(load_schema_set(root / "schemas")).values()
    return ddl


def _chain(root: Path) -> list[str]:
    folder = root / "sql" / "migrations"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql"))]


def _job(document: Schema) -> Schema:
    job: Schema = document["$defs"]["Job"]
    return job


def _seed_rows(dsn: str) -> None:
    """One job with a stage, a cost and a reservation: migrations must work on non-empty tables."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        job_id = conn.execute(
            "INSERT INTO jobs (user_id, audio_url, user_prompt, current_stage, video_url,"
            " error_message) VALUES (gen_random_uuid(), 'https://x.example/a.mp3', 'a prompt',"
            " NULL, NULL, NULL) RETURNING id"
        ).fetchone()
        assert job_id is not None
        conn.execute(
            "INSERT INTO job_stages (job_id, stage_name) VALUES (%s, 'audio_analysis')", job_id
        )
        conn.execute(
            "INSERT INTO job_costs (job_id, stage_name, api_name, cost)"
            " VALUES (%s, 'audio_analysis', 'whisper', 0.01)",
            job_id,
        )


def _add_nullable_column(doc: Schema) -> None:
    _job(doc)["properties"]["priority"] = {
        "description": "Scheduling priority; null for the default.",
        "anyOf": [{"type": "integer", "minimum": 0, "maximum": 10}, {"type": "null"}],
    }


def _add_defaulted_column(doc: Schema) -> None:
    _job(doc)["properties"]["attempts"] = {
        "type": "integer",
        "minimum": 0,
        "maximum": 100,
        "default": 0,
        "description": "How many times the job was started.",
    }


def _add_table(doc: Schema) -> None:
    doc["$defs"]["JobNote"] = {
        "description": "A note on a job.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "job_id", "body", "created_at"],
        "properties": {
            "id": {
                "$ref": "https://schemas.videogen.dev/common/1.0.0#/$defs/Uuid",
                "description": "Note identifier.",
                "x-sql": {"default": "gen_random_uuid()"},
            },
            "job_id": {
                "$ref": "https://schemas.videogen.dev/common/1.0.0#/$defs/Uuid",
                "description": "The job.",
                "x-sql": {"references": {"table": "jobs", "column": "id", "onDelete": "cascade"}},
            },
            "body": {"type": "string", "minLength": 1, "maxLength": 500, "description": "Text."},
            "created_at": {
                "$ref": "https://schemas.videogen.dev/common/1.0.0#/$defs/Timestamp",
                "description": "When written.",
                "x-sql": {"default": "now()", "onUpdate": True},
            },
        },
        "x-table": {"name": "job_notes", "primaryKey": ["id"], "indexes": [["job_id"]]},
    }


def _add_index(doc: Schema) -> None:
    _job(doc)["x-table"]["indexes"].append(["progress"])


def _widen_enum(doc: Schema) -> None:
    _job(doc)["properties"]["status"]["enum"].append("cancelled")


def _widen_length(doc: Schema) -> None:
    _job(doc)["properties"]["user_prompt"]["maxLength"] = 4000


def _drop_minimum(doc: Schema) -> None:
    del _job(doc)["properties"]["user_prompt"]["minLength"]


def _rename_in_place(definition: Schema, old: str, new: str) -> None:
    """Rename a property where it stands (the column keeps its position) and declare it."""
    definition["properties"] = {
        (new if name == old else name): ({**prop, "x-renamed-from": old} if name == old else prop)
        for name, prop in definition["properties"].items()
    }
    required = definition["required"]
    required[required.index(old)] = new


def _rename_checked_column(doc: Schema) -> None:
    _rename_in_place(_job(doc), "user_prompt", "prompt")


def _rename_indexed_column(doc: Schema) -> None:
    _rename_in_place(_job(doc), "user_id", "owner_id")
    _job(doc)["x-table"]["indexes"][0] = ["owner_id", "created_at"]


def _rename_referencing_column(doc: Schema) -> None:
    cost = doc["$defs"]["JobCost"]
    _rename_in_place(cost, "job_id", "charged_job_id")
    cost["x-table"]["unique"] = [["charged_job_id", "idempotency_key"]]
    cost["x-table"]["indexes"] = [["charged_job_id", "timestamp"]]


def _make_nullable(doc: Schema) -> None:
    props = doc["$defs"]["JobCost"]["properties"]
    api = props["api_name"]
    props["api_name"] = {
        "description": api.pop("description"),
        "anyOf": [api, {"type": "null"}],
    }


def _change_default_and_comment(doc: Schema) -> None:
    status = _job(doc)["properties"]["status"]
    status["x-sql"]["default"] = "'processing'"
    status["description"] = "Lifecycle state (changed wording)."
    _job(doc)["description"] = "A job (changed wording)."


SAFE: dict[str, Callable[[Schema], None]] = {
    "new nullable column": _add_nullable_column,
    "new defaulted column": _add_defaulted_column,
    "new table": _add_table,
    "new index": _add_index,
    "widened enum CHECK": _widen_enum,
    "widened length CHECK": _widen_length,
    "dropped minimum": _drop_minimum,
    "declared rename of a checked column": _rename_checked_column,
    "declared rename of an indexed column": _rename_indexed_column,
    "declared rename of a foreign key in a unique constraint": _rename_referencing_column,
    "NOT NULL dropped": _make_nullable,
    "default and comments changed": _change_default_and_comment,
}


def test_shipped_chain_builds_the_catalog_of_the_full_ddl() -> None:
    folder = sql_dir() / "migrations"
    chain = sorted((e for e in folder.iterdir() if e.name.endswith(".sql")), key=lambda e: e.name)
    assert chain[0].name == "0001_initial.sql"
    (full,) = [text for name, text in sql_scripts() if name == "generated/schema.sql"]
    with temporary_database() as migrated, temporary_database() as built:
        apply_sql(migrated, *(entry.read_text(encoding="utf-8") for entry in chain))
        apply_sql(built, full)
        assert catalog(migrated) == catalog(built)


@pytest.mark.parametrize("edit", SAFE.values(), ids=SAFE.keys())
def test_safe_change_generates_a_migration_matching_the_full_ddl(
    schema_root: Path, edit: Callable[[Schema], None]
) -> None:
    _generate(schema_root)
    edit_schema(schema_root, "job", edit)
    outputs = _generate(schema_root)
    (migration,) = [name for name in outputs if name.endswith(".sql")]
    assert Path(migration).name.startswith("0002_")
    with temporary_database() as migrated, temporary_database() as built:
        apply_sql(migrated, _chain(schema_root)[0])
        _seed_rows(migrated)
        apply_sql(migrated, *_chain(schema_root)[1:])
        apply_sql(built, _full_ddl(schema_root))
        assert catalog(migrated) == catalog(built)


def _drop_column(doc: Schema) -> None:
    del _job(doc)["properties"]["error_message"]
    _job(doc)["required"].remove("error_message")


def _change_type(doc: Schema) -> None:
    _job(doc)["properties"]["progress"]["type"] = "number"


def _add_not_null(doc: Schema) -> None:
    props = _job(doc)["properties"]
    props["video_url"] = {
        "$ref": "https://schemas.videogen.dev/common/1.0.0#/$defs/Url",
        "description": props["video_url"]["description"],
    }


def _narrow_check(doc: Schema) -> None:
    _job(doc)["properties"]["user_prompt"]["maxLength"] = 100


def _add_required_column_without_default(doc: Schema) -> None:
    _job(doc)["properties"]["priority"] = {"type": "integer", "description": "Priority."}
    _job(doc)["required"].append("priority")


def _add_unique(doc: Schema) -> None:
    _job(doc)["x-table"]["unique"] = [["user_id", "user_prompt"]]


def _drop_table(doc: Schema) -> None:
    del doc["$defs"]["CostReservation"]["x-table"]


def _undeclared_rename(doc: Schema) -> None:
    props = _job(doc)["properties"]
    props["prompt"] = props.pop("user_prompt")
    _job(doc)["required"][_job(doc)["required"].index("user_prompt")] = "prompt"


UNSAFE: dict[str, tuple[Callable[[Schema], None], str]] = {
    "dropped column": (_drop_column, "sql-column-dropped"),
    "type change": (_change_type, "sql-type-changed"),
    "NOT NULL on an existing column": (_add_not_null, "sql-not-null-added"),
    "narrowed CHECK": (_narrow_check, "sql-check-narrowed"),
    "new NOT NULL column without default": (
        _add_required_column_without_default,
        "sql-column-added-not-null",
    ),
    "new unique constraint": (_add_unique, "sql-unique-added"),
    "dropped table": (_drop_table, "sql-table-dropped"),
    "undeclared rename": (_undeclared_rename, "sql-column-dropped"),
}


@pytest.mark.parametrize(("edit", "rule"), UNSAFE.values(), ids=UNSAFE.keys())
def test_unsafe_change_fails_generation_asking_for_a_handwritten_migration(
    schema_root: Path, edit: Callable[[Schema], None], rule: str
) -> None:
    _generate(schema_root)
    edit_schema(schema_root, "job", edit)
    with pytest.raises(UnsafeMigrationError, match="hand-written migration") as caught:
        _generate(schema_root)
    assert rule in {u.rule for u in caught.value.unsafe}
    assert sorted(p.name for p in (schema_root / "sql" / "migrations").glob("*.sql")) == [
        "0001_initial.sql"
    ]


def test_rerun_without_schema_change_writes_nothing_new(schema_root: Path) -> None:
    first = _generate(schema_root)
    second = generate_migrations(load_schema_set(schema_root / "schemas"))
    assert set(first) == {"sql/migrations/0001_initial.sql", SNAPSHOT}
    assert second == {SNAPSHOT: first[SNAPSHOT]}


def test_generated_migration_is_deterministic(schema_root: Path) -> None:
    _generate(schema_root)
    edit_schema(schema_root, "job", _add_nullable_column)
    schemas = load_schema_set(schema_root / "schemas")
    assert generate_migrations(schemas) == generate_migrations(schemas)
    assert "sql/migrations/0002_add_jobs_priority.sql" in generate_migrations(schemas)


def test_handwritten_migration_newer_than_snapshot_is_accepted(schema_root: Path) -> None:
    _generate(schema_root)
    edit_schema(schema_root, "job", _change_type)
    handwritten = schema_root / "sql" / "migrations" / "0002_progress_to_double.sql"
    handwritten.write_text(
        'ALTER TABLE public."jobs" ALTER COLUMN "progress" TYPE double precision;\n',
        encoding="utf-8",
    )
    outputs: dict[str, Any] = _generate(schema_root)
    assert list(outputs) == [SNAPSHOT]
    assert '"migration": "0002_progress_to_double.sql"' in outputs[SNAPSHOT]
    with temporary_database() as migrated, temporary_database() as built:
        apply_sql(migrated, *_chain(schema_root))
        apply_sql(built, _full_ddl(schema_root))
        assert catalog(migrated) == catalog(built)


def test_catalog_comparison_tells_column_order_apart() -> None:
    with temporary_database() as first, temporary_database() as second:
        apply_sql(first, "CREATE TABLE t (a integer, b integer);")
        apply_sql(second, "CREATE TABLE t (b integer, a integer);")
        assert catalog(first) != catalog(second)


def _add_column_first(doc: Schema) -> None:
    _add_nullable_column(doc)
    props = _job(doc)["properties"]
    _job(doc)["properties"] = {"priority": props.pop("priority"), **props}


def test_new_property_before_existing_ones_fails_generation_on_column_order(
    schema_root: Path,
) -> None:
    _generate(schema_root)
    edit_schema(schema_root, "job", _add_column_first)
    with pytest.raises(ColumnOrderError, match="can only append columns") as caught:
        _generate(schema_root)
    assert "jobs: columns priority, id" in str(caught.value)
    assert [u.rule for u in caught.value.unsafe] == ["sql-column-order"]


def _swap_first_properties(doc: Schema) -> None:
    items = list(_job(doc)["properties"].items())
    _job(doc)["properties"] = dict([items[1], items[0], *items[2:]])


def test_reordered_existing_properties_fail_generation_on_column_order(schema_root: Path) -> None:
    _generate(schema_root)
    edit_schema(schema_root, "job", _swap_first_properties)
    with pytest.raises(ColumnOrderError):
        _generate(schema_root)
