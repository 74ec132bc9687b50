"""Release planning rules on real schema sets and the real gate (no git, no generation)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from release_support import REPO

from codegen.breaking import Change
from codegen.release._plan import Level, bump, level_of, plan_release, version_level
from codegen.release.snapshot import Snapshot
from codegen.schemas import SchemaSet, load_schema_set


def _copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name / "schemas"
    shutil.copytree(REPO / "schemas", folder)
    (folder / "allowed-breaks.json").unlink(missing_ok=True)
    return folder


def _edit(folder: Path, area: str, edit: Any) -> None:
    path = folder / f"{area}.schema.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def _snapshot(schemas: SchemaSet) -> Snapshot:
    contracts = {doc.area: doc.id.rsplit("/", 1)[1] for doc in schemas.docs}
    return Snapshot("1.4.2", "v1.4.2", contracts, ["0001_initial.sql"], schemas)


def _change(rule: str, **roles: bool) -> Change:
    return Change(rule, "job", "Job", "/$defs/Job", "message", **roles)


@pytest.mark.parametrize(
    ("level", "expected"),
    [(Level.MAJOR, "2.0.0"), (Level.MINOR, "1.3.0"), (Level.PATCH, "1.2.4"), (Level.NONE, "1.2.3")],
)
def test_bump_resets_the_lower_parts(level: Level, expected: str) -> None:
    assert bump("1.2.3", level) == expected


def test_version_level_names_the_highest_part_that_moved() -> None:
    assert version_level("1.2.3", "2.0.0") is Level.MAJOR
    assert version_level("1.2.3", "1.3.0") is Level.MINOR
    assert version_level("1.2.3", "1.2.4") is Level.PATCH
    assert version_level("1.2.3", "1.2.3") is Level.NONE


def test_a_break_of_any_role_is_major() -> None:
    for role in ("readers", "writers", "database"):
        assert level_of(_change("some-rule", **{role: True})) is Level.MAJOR


def test_a_break_accepted_by_the_allow_list_is_still_major() -> None:
    change = _change("enum-value-added", readers=True)
    change.accepted = "reviewed: every reader has a default branch"
    assert level_of(change) is Level.MAJOR


def test_a_safe_addition_is_minor_and_anything_else_patch() -> None:
    assert level_of(_change("definition-added")) is Level.MINOR
    assert level_of(_change("annotation-changed")) is Level.PATCH


def test_release_version_is_the_previous_one_bumped_by_the_highest_level(tmp_path: Path) -> None:
    old = load_schema_set(_copy(tmp_path, "old"))
    folder = _copy(tmp_path, "new")
    _edit(folder, "job", lambda d: d["$defs"]["Job"]["properties"]["status"]["enum"].append("x"))
    plan = plan_release(load_schema_set(folder), _snapshot(old), ["0001_initial.sql"], [])
    assert plan.version == "2.0.0"
    assert {a.area: a.new for a in plan.areas}["job"] == "2.0.0"
    assert plan.renames() == {
        "https://schemas.videogen.dev/job/1.0.0": "https://schemas.videogen.dev/job/2.0.0"
    }


def test_a_major_already_bumped_by_the_developer_is_kept_not_bumped_again(tmp_path: Path) -> None:
    old = load_schema_set(_copy(tmp_path, "old"))
    folder = _copy(tmp_path, "new")

    def edit(document: dict[str, Any]) -> None:
        document["$id"] = "https://schemas.videogen.dev/job/2.0.0"
        document["$defs"]["Job"]["properties"]["status"]["enum"].append("x")

    _edit(folder, "job", edit)
    plan = plan_release(load_schema_set(folder), _snapshot(old), [], [])
    job = next(a for a in plan.areas if a.area == "job")
    assert (job.old, job.current, job.new) == ("1.0.0", "2.0.0", "2.0.0")
    assert plan.renames() == {}
    assert plan.version == "2.0.0"


def test_only_migrations_added_since_the_last_release_are_listed(tmp_path: Path) -> None:
    old = load_schema_set(_copy(tmp_path, "old"))
    folder = _copy(tmp_path, "new")
    _edit(folder, "audio", lambda d: d["$defs"]["Mood"].update(description="Reviewed."))
    migrations = ["0001_initial.sql", "0002_more.sql"]
    plan = plan_release(load_schema_set(folder), _snapshot(old), migrations, [])
    assert plan.migrations == ["0002_more.sql"]
    assert plan.version == "1.4.3"


def test_a_new_schema_file_is_a_minor_release(tmp_path: Path) -> None:
    old = load_schema_set(_copy(tmp_path, "old"))
    folder = _copy(tmp_path, "new")
    document = json.loads((folder / "video.schema.json").read_text(encoding="utf-8"))
    document["$id"] = "https://schemas.videogen.dev/extra/1.0.0"
    document["title"] = "Extra"
    document["$defs"] = {
        "Note": {"description": "A note.", "type": "string", "maxLength": 10},
    }
    (folder / "extra.schema.json").write_text(json.dumps(document), encoding="utf-8")
    plan = plan_release(load_schema_set(folder), _snapshot(old), [], [])
    extra = next(a for a in plan.areas if a.area == "extra")
    assert (extra.old, extra.new) == (None, "1.0.0")
    assert plan.version == "1.5.0"


def test_wheel_npm_and_generated_versions_are_one_version() -> None:
    import tomllib

    import generated
    from runtime.resources import bundle_index

    wheel = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    npm = json.loads((REPO / "ts" / "package.json").read_text())["version"]
    assert generated.__version__ == wheel
    assert npm == wheel
    assert bundle_index()["package_version"] == wheel
