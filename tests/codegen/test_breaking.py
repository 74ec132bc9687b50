"""The breaking-change gate on real git history: a base commit, then one changed commit per rule."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_support import Schema, edit_schema

from codegen.breaking import ALLOW_LIST, Change, default_ref, main, run_gate
from codegen.schemas import load_schema_set


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


@pytest.fixture
def repo(schema_root: Path) -> Path:
    """A git repository whose first commit holds the shipped schemas."""
    _git(schema_root, "init", "-q", "-b", "main")
    _git(schema_root, "add", "schemas")
    _git(schema_root, "commit", "-q", "-m", "base")
    return schema_root


def _commit(root: Path, area: str, edit: Callable[[Schema], None]) -> None:
    edit_schema(root, area, edit)
    _git(root, "commit", "-q", "-am", f"change {area}")


def _defs(doc: Schema, name: str) -> Schema:
    definition: Schema = doc["$defs"][name]
    return definition


def _props(doc: Schema, name: str) -> Schema:
    props: Schema = _defs(doc, name)["properties"]
    return props


def _only(changes: list[Change], rule: str) -> Change:
    found = [c for c in changes if c.rule == rule]
    assert len(found) == 1, [(c.rule, c.pointer) for c in changes]
    return found[0]


def _bump(doc: Schema) -> None:
    area, _ = doc["$id"].rsplit("/", 1)[0], doc["$id"]
    doc["$id"] = f"{area}/2.0.0"


def _set_max_length(value: int) -> Callable[[Schema], None]:
    def edit(doc: Schema) -> None:
        _props(doc, "Lyric")["text"]["maxLength"] = value

    return edit


def _remove_optional(doc: Schema) -> None:
    del _props(doc, "Job")["progress"]


def _remove_required(doc: Schema) -> None:
    del _props(doc, "Mood")["primary"]
    _defs(doc, "Mood")["required"].remove("primary")


def _rename_declared(doc: Schema) -> None:
    props = _props(doc, "Lyric")
    props["words"] = {**props.pop("text"), "x-renamed-from": "text"}
    required = _defs(doc, "Lyric")["required"]
    required[required.index("text")] = "words"


def _narrow_type(doc: Schema) -> None:
    _props(doc, "VideoOutput")["file_size_mb"]["type"] = "integer"


def _change_type(doc: Schema) -> None:
    _props(doc, "VideoOutput")["sync_drift"]["type"] = "string"


def _remove_enum_value(doc: Schema) -> None:
    _props(doc, "SongStructure")["type"]["enum"].remove("bridge")


def _add_enum_value(doc: Schema) -> None:
    _props(doc, "Job")["status"]["enum"].append("cancelled")


def _add_required(doc: Schema) -> None:
    _props(doc, "Mood")["tempo_feel"] = {"type": "string", "description": "How the tempo feels."}
    _defs(doc, "Mood")["required"].append("tempo_feel")


def _add_optional(doc: Schema) -> None:
    _props(doc, "Mood")["tempo_feel"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
        "description": "How the tempo feels.",
    }


def _tighten_range(doc: Schema) -> None:
    _props(doc, "Mood")["confidence"]["maximum"] = 0.5


def _add_pattern(doc: Schema) -> None:
    _props(doc, "Mood")["primary"]["pattern"] = "^[a-z]+$"


def _make_required(doc: Schema) -> None:
    _defs(doc, "Mood")["required"].append("secondary")


def _remove_nullability(doc: Schema) -> None:
    secondary = _props(doc, "Mood")["secondary"]
    secondary.update(secondary.pop("anyOf")[0])
    secondary.pop("default")


def _open_object(doc: Schema) -> None:
    _defs(doc, "Mood")["additionalProperties"] = True


def _remove_column_nullability(doc: Schema) -> None:
    props = _props(doc, "Job")
    props["video_url"] = {
        "$ref": "https://schemas.videogen.dev/common/1.0.0#/$defs/Url",
        "description": props["video_url"]["description"],
    }


#: (area, edit, rule, readers, writers, database)
RULES: dict[str, tuple[str, Callable[[Schema], None], str, bool, bool, bool]] = {
    "optional property removed": ("job", _remove_optional, "property-removed", False, True, False),
    "required property removed": ("audio", _remove_required, "property-removed", True, True, False),
    "declared rename": ("audio", _rename_declared, "property-renamed", True, True, False),
    "type narrowed": ("video", _narrow_type, "type-narrowed", False, True, False),
    "type changed": ("video", _change_type, "type-changed", True, True, False),
    "enum value removed": ("audio", _remove_enum_value, "enum-value-removed", False, True, False),
    "enum value added": ("job", _add_enum_value, "enum-value-added", True, False, False),
    "required property added": (
        "audio",
        _add_required,
        "property-added-required",
        True,
        True,
        False,
    ),
    "optional property added": (
        "audio",
        _add_optional,
        "property-added-optional",
        True,
        False,
        False,
    ),
    "length tightened": ("audio", _set_max_length(10), "constraint-tightened", False, True, False),
    "range tightened": ("audio", _tighten_range, "constraint-tightened", False, True, False),
    "pattern added": ("audio", _add_pattern, "constraint-tightened", False, True, False),
    "length loosened": ("audio", _set_max_length(5000), "constraint-loosened", True, False, False),
    "optional made required": (
        "audio",
        _make_required,
        "optional-made-required",
        False,
        True,
        False,
    ),
    "nullability removed": (
        "audio",
        _remove_nullability,
        "nullability-removed",
        False,
        True,
        False,
    ),
    "additionalProperties opened": (
        "audio",
        _open_object,
        "additional-properties-changed",
        True,
        False,
        False,
    ),
}


@pytest.mark.parametrize(
    ("area", "edit", "rule", "readers", "writers", "database"), RULES.values(), ids=RULES.keys()
)
def test_rule_verdicts_and_counterexamples(
    repo: Path,
    area: str,
    edit: Callable[[Schema], None],
    rule: str,
    readers: bool,
    writers: bool,
    database: bool,
) -> None:
    base = load_schema_set(repo / "schemas")
    _commit(repo, area, edit)
    report = run_gate(repo, "HEAD~1")
    change = _only(report.changes, rule)
    assert (change.readers, change.writers, change.database) == (readers, writers, database)
    assert not report.ok
    assert any(f"[version-not-bumped] {area}:" in f for f in report.failures)
    new = load_schema_set(repo / "schemas")
    roles = [r for r, broken in (("readers", readers), ("writers", writers)) if broken]
    assert [c["role"] for c in change.counterexamples] == roles
    for example in change.counterexamples:
        instance = example["instance"]
        valid_old = base.validator(area, change.definition).is_valid(instance)
        valid_new = new.validator(area, change.definition).is_valid(instance)
        assert (valid_old, valid_new) == (
            (False, True) if example["valid_under"] == "new" else (True, False)
        )


def test_declared_rename_is_not_reported_as_removal_and_addition(repo: Path) -> None:
    _commit(repo, "audio", _rename_declared)
    rules = {c.rule for c in run_gate(repo, "HEAD~1").changes}
    assert "property-renamed" in rules
    assert not rules & {"property-removed", "property-added-required", "property-added-optional"}


def test_declared_column_rename_does_not_break_the_database(repo: Path) -> None:
    def rename(doc: Schema) -> None:
        props = _props(doc, "Job")
        props["prompt"] = {**props.pop("user_prompt"), "x-renamed-from": "user_prompt"}
        required = _defs(doc, "Job")["required"]
        required[required.index("user_prompt")] = "prompt"

    _commit(repo, "job", rename)
    changes = run_gate(repo, "HEAD~1").changes
    assert _only(changes, "property-renamed").database is False
    assert not [c for c in changes if c.database]


def test_column_removal_breaks_the_database(repo: Path) -> None:
    _commit(repo, "job", _remove_optional)
    change = _only(run_gate(repo, "HEAD~1").changes, "sql-column-dropped")
    assert change.pointer == "/$defs/Job/properties/progress"
    assert (change.readers, change.writers, change.database) == (False, False, True)


def test_not_null_on_existing_column_breaks_the_database(repo: Path) -> None:
    _commit(repo, "job", _remove_column_nullability)
    changes = run_gate(repo, "HEAD~1").changes
    assert _only(changes, "sql-not-null-added").database is True
    assert _only(changes, "nullability-removed").writers is True


def test_description_change_breaks_nobody_and_passes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "audio", lambda doc: _props(doc, "Mood")["primary"].update(description="New."))
    assert main(repo, "HEAD~1") == 0
    out = capsys.readouterr().out
    assert "[annotation-changed] audio#/$defs/Mood/properties/primary" in out
    assert "readers=ok writers=ok database=ok" in out


def test_breaking_change_fails_with_exit_status_1_and_prints_counterexample(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "job", _add_enum_value)
    assert main(repo, "HEAD~1") == 1
    out = capsys.readouterr().out
    assert "[enum-value-added] job#/$defs/Job/properties/status/enum" in out
    assert "readers=BREAKS writers=ok database=ok" in out
    assert '"status": "cancelled"' in out
    assert "[version-not-bumped] job:" in out


def test_major_version_bump_accepts_the_break(repo: Path) -> None:
    def bump_and_break(doc: Schema) -> None:
        _remove_enum_value(doc)
        _bump(doc)

    _commit(repo, "audio", bump_and_break)
    report = run_gate(repo, "HEAD~1")
    assert _only(report.changes, "enum-value-removed").writers
    assert report.ok


def test_change_in_common_needs_a_bump_of_every_dependent_schema(repo: Path) -> None:
    def tighten(doc: Schema) -> None:
        _defs(doc, "Url")["maxLength"] = 100

    _commit(repo, "common", tighten)
    failing = {f.split(":")[0] for f in run_gate(repo, "HEAD~1").failures}
    assert failing >= {
        "[version-not-bumped] common",
        "[version-not-bumped] job",
        "[version-not-bumped] scene",
        "[version-not-bumped] video",
    }


def test_allow_list_entry_with_reason_accepts_a_reviewed_break(repo: Path) -> None:
    _commit(repo, "job", _add_enum_value)
    entry = {
        "rule": "enum-value-added",
        "schema": "job",
        "pointer": "/$defs/Job/properties/status/enum",
        "version": "https://schemas.videogen.dev/job/1.0.0",
        "reason": "reviewed: every reader switches on status with a default branch",
    }
    (repo / ALLOW_LIST).write_text(json.dumps([entry]), encoding="utf-8")
    report = run_gate(repo, "HEAD~1")
    assert report.ok
    assert _only(report.changes, "enum-value-added").accepted == entry["reason"]


def test_allow_list_entry_for_another_version_does_not_apply(repo: Path) -> None:
    _commit(repo, "job", _add_enum_value)
    entry = {
        "rule": "enum-value-added",
        "schema": "job",
        "pointer": "/$defs/Job/properties/status/enum",
        "version": "https://schemas.videogen.dev/job/0.9.0",
        "reason": "an old acceptance",
    }
    (repo / ALLOW_LIST).write_text(json.dumps([entry]), encoding="utf-8")
    assert not run_gate(repo, "HEAD~1").ok


def test_allow_list_entry_without_reason_is_rejected(repo: Path) -> None:
    _commit(repo, "job", _add_enum_value)
    entry = {
        "rule": "enum-value-added",
        "schema": "job",
        "pointer": "/x",
        "version": "v",
        "reason": "",
    }
    (repo / ALLOW_LIST).write_text(json.dumps([entry]), encoding="utf-8")
    assert main(repo, "HEAD~1") == 2


def test_default_ref_is_the_latest_release_tag_else_the_parent(repo: Path) -> None:
    assert default_ref(repo) is None
    _commit(repo, "audio", _add_optional)
    assert default_ref(repo) == "HEAD~1"
    _git(repo, "tag", "v1.0.0", "HEAD~1")
    assert default_ref(repo) == "v1.0.0"


def test_unknown_ref_exits_2(repo: Path) -> None:
    assert main(repo, "no-such-ref") == 2
