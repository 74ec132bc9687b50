"""``generate`` and ``check`` on a scratch copy of the repository: honest counts, and hand-written
SQL checked against the generated DDL on a scratch PostgreSQL (plpgsql_check as the oracle)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lint_support import codegen, load, save
from scratch_repo import copy_repository, node_modules_missing

pytestmark = pytest.mark.skipif(
    node_modules_missing(), reason="ts/node_modules missing: run bash tools/ensure-node.sh"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repository(tmp_path / "repo")


def _rename_settled_at(root: Path) -> None:
    job = load(root, "job")
    spec = job["$defs"]["CostReservation"]
    spec["properties"] = {
        ("closed_at" if name == "settled_at" else name): value
        for name, value in spec["properties"].items()
    }
    spec["properties"]["closed_at"]["x-renamed-from"] = "settled_at"
    spec["required"] = ["closed_at" if r == "settled_at" else r for r in spec["required"]]
    for example in spec.get("examples", []):
        if "settled_at" in example:
            example["closed_at"] = example.pop("settled_at")
    save(root, "job", job)


def _count(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match is not None, text
    return int(match[1])


def test_check_passes_on_the_committed_repository(repo: Path) -> None:
    run = codegen(repo, "check")
    assert run.status == 0, run.output
    assert "hand-written SQL applies and checks clean on PostgreSQL" in run.stdout


def test_generate_and_check_count_the_same_files(repo: Path) -> None:
    generated = codegen(repo, "generate")
    checked = codegen(repo, "check")
    assert _count(r"generate: (\d+) generated files", generated.stdout) == _count(
        r"check: (\d+) generated files", checked.stdout
    )


def test_generate_counts_written_removed_and_unchanged(repo: Path) -> None:
    (repo / "sql" / "generated" / "schema_batch_allow_list.sql").write_text("-- edited\n")
    (repo / "sql" / "generated" / "leftover.sql").write_text("-- stale\n")
    run = codegen(repo, "generate")
    total = _count(r"generate: (\d+) generated files", run.stdout)
    assert f"1 written, 1 removed, {total - 1} unchanged" in run.stdout
    assert "wrote sql/generated/schema_batch_allow_list.sql" in run.stdout


def test_check_reports_drift_with_exit_1(repo: Path) -> None:
    (repo / "sql" / "generated" / "schema_batch_allow_list.sql").write_text("-- edited\n")
    run = codegen(repo, "check")
    assert run.status == 1
    assert "out of date: sql/generated/schema_batch_allow_list.sql" in run.stderr


def test_rename_that_breaks_a_handwritten_function_fails_check_naming_it(repo: Path) -> None:
    _rename_settled_at(repo)
    assert codegen(repo, "generate").status == 0
    run = codegen(repo, "check")
    assert run.status == 1
    assert re.search(
        r'sql: function settle_cost\([^)]*\) line \d+: column "settled_at" of relation '
        r'"cost_reservations" does not exist',
        run.stderr,
    ), run.stderr
    assert "release_cost" in run.stderr
    assert "Traceback" not in run.output


def test_check_without_database_says_it_skipped(repo: Path) -> None:
    run = codegen(repo, "check", "--no-db")
    assert run.status == 0
    assert "SKIPPED the hand-written SQL check (--no-db)" in run.stderr
    assert "hand-written SQL NOT CHECKED (--no-db)" in run.stdout


def test_check_with_postgres_unreachable_fails_with_exit_2(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDEOGEN_CHECK_PG_DSN", "postgresql://postgres@127.0.0.1:1/postgres")
    run = codegen(repo, "check")
    assert run.status == 2
    assert "check: cannot check the hand-written SQL: PostgreSQL at" in run.stderr
    assert "Traceback" not in run.output


def _add_table(root: Path) -> None:
    job = load(root, "job")
    job["$defs"]["JobNote"] = {
        "title": "Job note",
        "description": "A free-text note on a job.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "text"],
        "properties": {
            "id": {
                "$ref": "https://schemas.videogen.dev/common/1.0.0#/$defs/Uuid",
                "description": "Note identifier.",
            },
            "text": {"type": "string", "maxLength": 200, "description": "The note."},
        },
        "x-table": {"name": "job_notes", "primaryKey": ["id"]},
    }
    save(root, "job", job)


def test_new_table_without_row_level_security_fails_check(repo: Path) -> None:
    _add_table(repo)
    assert codegen(repo, "generate").status == 0
    run = codegen(repo, "check")
    assert run.status == 1
    assert "sql: table job_notes: row-level security is not enabled or has no policy" in (
        run.stderr
    )
