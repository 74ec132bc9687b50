"""The breaking-change gate on real git history: a base commit, then one changed commit per rule."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_support import Schema, edit_schema

from codegen.breaking import ALLOW_LIST, Change, Report, change_id, default_base, main, run_gate
from codegen.schemas import SchemaSet, load_schema_set

REPO_ROOT = Path(__file__).resolve().parents[2]


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


def _check_counterexamples(base: SchemaSet, new: SchemaSet, area: str, change: Change) -> None:
    """Every instance found is valid under exactly the version the report says."""
    for example in change.counterexamples:
        if "instance" not in example:
            continue
        instance = example["instance"]
        old_area = next(d.area for d in base.docs if change.definition in d.definitions())
        valid_old = base.validator(old_area, change.definition).is_valid(instance)
        valid_new = new.validator(area, change.definition).is_valid(instance)
        expected = (False, True) if example["valid_under"] == "new" else (True, False)
        assert (valid_old, valid_new) == expected, example


def _instance(change: Change, role: str) -> object:
    (example,) = [c for c in change.counterexamples if c["role"] == role]
    assert "instance" in example, change.counterexamples
    return example["instance"]


def _entry(report: Report, rule: str, reason: str = "reviewed by t: no consumer affected") -> dict:
    """The allow-list entry the gate suggests for the change, with a reason."""
    (suggestion,) = [s for s in report.suggestions if s["rule"] == rule]
    return {**suggestion, "reason": reason}


def _allow(root: Path, *entries: dict) -> None:
    (root / ALLOW_LIST).write_text(json.dumps(list(entries)), encoding="utf-8")


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
    "optional property removed": ("job", _remove_optional, "property-removed", False, True, True),
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
    assert [c["role"] for c in change.counterexamples if c["role"] != "database"] == roles
    assert all("instance" in c for c in change.counterexamples)
    _check_counterexamples(base, new, area, change)


# --------------------------------------------------------------------------- every keyword


def _set_keyword(definition: str, prop: str | None, key: str, value: object) -> Callable:
    def edit(doc: Schema) -> None:
        target = _defs(doc, definition) if prop is None else _props(doc, definition)[prop]
        target[key] = value

    return edit


#: Keywords added: (area, definition, property, keyword, value, rule, readers, writers). The gate
#: once called each of these a "constraint-changed" breaking readers and writers alike; each is
#: decided exactly now: adding a constraint tightens (writers only), changes nothing, or
#: (prefixItems, which takes position 0 away from ``items``) really breaks both.
ADDED = {
    "not": ("audio", "Mood", "primary", "not", {"const": "happy"}, "union-changed", False, True),
    "allOf": (
        "audio",
        "Mood",
        "primary",
        "allOf",
        [{"minLength": 3}],
        "union-changed",
        False,
        True,
    ),
    "oneOf": (
        "audio",
        "Mood",
        "primary",
        "oneOf",
        [{"const": "happy"}, {"const": "sad"}],
        "union-changed",
        False,
        True,
    ),
    "prefixItems": (
        "audio",
        "AudioAnalysis",
        "beat_timestamps",
        "prefixItems",
        [{"type": "number", "maximum": 0.1}],
        "items-changed",
        True,
        True,
    ),
    "propertyNames": (
        "common",
        "Metadata",
        None,
        "propertyNames",
        {"maxLength": 3},
        "constraint-tightened",
        False,
        True,
    ),
    # primary is required already: the dependency adds nothing.
    "dependentRequired": (
        "audio",
        "Mood",
        None,
        "dependentRequired",
        {"secondary": ["primary"]},
        "equivalent-rewrite",
        False,
        False,
    ),
}


@pytest.mark.parametrize(
    ("area", "definition", "prop", "key", "value", "rule", "readers", "writers"),
    ADDED.values(),
    ids=ADDED,
)
def test_added_keyword_is_decided_exactly_with_a_checked_witness(
    repo: Path,
    area: str,
    definition: str,
    prop: str | None,
    key: str,
    value: object,
    rule: str,
    readers: bool,
    writers: bool,
) -> None:
    base = load_schema_set(repo / "schemas")
    _commit(repo, area, _set_keyword(definition, prop, key, value))
    report = run_gate(repo, "HEAD~1")
    change = _only(report.changes, rule)
    where = f"/$defs/{definition}" + (f"/properties/{prop}" if prop else "")
    assert change.pointer == f"{where}/{key}"
    assert (change.readers, change.writers) == (readers, writers)
    roles = [r for r, broken in (("readers", readers), ("writers", writers)) if broken]
    assert [c["role"] for c in change.counterexamples] == roles
    assert all("instance" in c for c in change.counterexamples)
    _check_counterexamples(base, load_schema_set(repo / "schemas"), area, change)
    assert report.ok is not (readers or writers)


def test_unique_items_added_tightens_for_writers(repo: Path) -> None:
    base = load_schema_set(repo / "schemas")
    _commit(repo, "audio", _set_keyword("AudioAnalysis", "beat_timestamps", "uniqueItems", True))
    change = _only(run_gate(repo, "HEAD~1").changes, "constraint-tightened")
    assert change.pointer.endswith("/beat_timestamps/uniqueItems")
    assert (change.readers, change.writers) == (False, True)
    instance = _instance(change, "writers")
    assert isinstance(instance, dict)
    timestamps = instance["beat_timestamps"]
    assert len(set(timestamps)) < len(timestamps)
    _check_counterexamples(base, load_schema_set(repo / "schemas"), "audio", change)


def test_min_properties_added_tightens_for_writers(repo: Path) -> None:
    _commit(repo, "common", _set_keyword("Metadata", None, "minProperties", 1))
    change = _only(run_gate(repo, "HEAD~1").changes, "constraint-tightened")
    assert change.pointer == "/$defs/Metadata/minProperties"
    assert (change.readers, change.writers) == (False, True)
    assert _instance(change, "writers") == {}


def _add_inline_object(doc: Schema) -> None:
    _props(doc, "Mood")["details"] = {
        "description": "Inline details.",
        "type": "object",
        "additionalProperties": False,
        "required": ["label"],
        "properties": {
            "label": {"type": "string", "description": "A label."},
            "weight": {"type": "integer", "description": "A weight."},
        },
    }


def _change_inline_object(doc: Schema) -> None:
    nested = _props(doc, "Mood")["details"]["properties"]
    del nested["weight"]
    nested["label"]["maxLength"] = 3


def test_inline_nested_object_is_compared_property_by_property(repo: Path) -> None:
    _commit(repo, "audio", _add_inline_object)
    base = load_schema_set(repo / "schemas")
    _commit(repo, "audio", _change_inline_object)
    report = run_gate(repo, "HEAD~1")
    removed = _only(report.changes, "property-removed")
    assert removed.pointer == "/$defs/Mood/properties/details/properties/weight"
    tightened = _only(report.changes, "constraint-tightened")
    assert tightened.pointer == "/$defs/Mood/properties/details/properties/label/maxLength"
    new = load_schema_set(repo / "schemas")
    for change in (removed, tightened):
        assert (change.readers, change.writers) == (False, True)
        _check_counterexamples(base, new, "audio", change)
    label = _instance(tightened, "writers")["details"]["label"]  # type: ignore[index]
    assert len(label) > 3


def test_description_inside_a_keyword_without_rule_breaks_nobody(repo: Path) -> None:
    _commit(repo, "audio", _set_keyword("Mood", "primary", "allOf", [{"description": "A."}]))
    _commit(repo, "audio", _set_keyword("Mood", "primary", "allOf", [{"description": "B."}]))
    report = run_gate(repo, "HEAD~1")
    assert [c.rule for c in report.changes] == ["annotation-changed"]
    assert report.ok


# --------------------------------------------------------------------------- whole files


def test_removed_schema_file_fails_the_gate(repo: Path) -> None:
    _git(repo, "rm", "-q", "schemas/video.schema.json")
    _git(repo, "commit", "-q", "-m", "drop video")
    report = run_gate(repo, "HEAD~1")
    change = _only(report.changes, "schema-removed")
    assert (change.area, change.readers, change.writers) == ("video", True, True)
    assert not report.ok
    assert any(f.startswith("[schema-removed] video:") for f in report.failures)


def test_removed_schema_file_is_accepted_only_by_an_allow_list_entry(repo: Path) -> None:
    _git(repo, "rm", "-q", "schemas/video.schema.json")
    _git(repo, "commit", "-q", "-m", "drop video")
    entry = _entry(run_gate(repo, "HEAD~1"), "schema-removed")
    assert entry["version"] == "https://schemas.videogen.dev/video/1.0.0"
    _allow(repo, entry)
    assert run_gate(repo, "HEAD~1").ok


def test_added_schema_file_is_reported_and_breaks_nobody(repo: Path) -> None:
    extra = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://schemas.videogen.dev/extra/1.0.0",
        "title": "Extra",
        "description": "A new contract area.",
        "$defs": {"Note": {"description": "A note.", "type": "string", "maxLength": 10}},
    }
    (repo / "schemas" / "extra.schema.json").write_text(json.dumps(extra), encoding="utf-8")
    _git(repo, "add", "schemas")
    _git(repo, "commit", "-q", "-m", "add extra")
    report = run_gate(repo, "HEAD~1")
    change = _only(report.changes, "schema-added")
    assert change.area == "extra"
    assert not change.breaking
    assert report.ok


# --------------------------------------------------------------------------- renames


def _rename_optional(doc: Schema) -> None:
    mood = _defs(doc, "Mood")
    mood["properties"] = {
        ("secondary_mood" if name == "secondary" else name): (
            {**prop, "x-renamed-from": "secondary"} if name == "secondary" else prop
        )
        for name, prop in mood["properties"].items()
    }


def test_optional_property_rename_breaks_readers_and_writers(repo: Path) -> None:
    base = load_schema_set(repo / "schemas")
    _commit(repo, "audio", _rename_optional)
    change = _only(run_gate(repo, "HEAD~1").changes, "property-renamed")
    assert (change.readers, change.writers, change.database) == (True, True, False)
    assert "secondary_mood" in _instance(change, "readers")  # type: ignore[operator]
    assert "secondary" in _instance(change, "writers")  # type: ignore[operator]
    _check_counterexamples(base, load_schema_set(repo / "schemas"), "audio", change)


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


# --------------------------------------------------------------------------- database


def test_column_removal_breaks_the_database_on_the_property_removal(repo: Path) -> None:
    _commit(repo, "job", _remove_optional)
    changes = run_gate(repo, "HEAD~1").changes
    change = _only(changes, "property-removed")
    assert change.pointer == "/$defs/Job/properties/progress"
    assert (change.readers, change.writers, change.database) == (False, True, True)
    assert [e.split("]")[0] for e in change.sql] == ["[sql-column-dropped"]
    assert not [c for c in changes if c.rule.startswith("sql-")]


def test_not_null_on_existing_column_breaks_the_database_on_the_nullability_change(
    repo: Path,
) -> None:
    _commit(repo, "job", _remove_column_nullability)
    changes = run_gate(repo, "HEAD~1").changes
    change = _only(changes, "nullability-removed")
    assert (change.writers, change.database) == (True, True)
    assert change.sql[0].startswith("[sql-not-null-added]")


def _remove_job_status(doc: Schema) -> None:
    _props(doc, "Job")["status"]["enum"].remove("failed")


def test_enum_value_removed_from_a_column_has_one_verdict_per_role(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "job", _remove_job_status)
    assert main(repo, "HEAD~1") == 1
    out = capsys.readouterr().out
    assert out.count("- [") == 1
    assert "- [enum-value-removed] job#/$defs/Job/properties/status/enum" in out
    assert "readers=ok writers=BREAKS database=BREAKS" in out
    assert "database: [sql-check-narrowed] jobs.status" in out
    assert "counterexample (database)" in out


def test_database_counterexample_reuses_the_writers_one(repo: Path) -> None:
    _commit(repo, "job", _remove_job_status)
    change = _only(run_gate(repo, "HEAD~1").changes, "enum-value-removed")
    assert _instance(change, "database") == _instance(change, "writers")
    assert _instance(change, "writers")["status"] == "failed"  # type: ignore[index]


def test_sql_effect_follows_a_change_of_the_definition_a_column_refers_to(repo: Path) -> None:
    _commit(repo, "common", lambda doc: _defs(doc, "Url").update(maxLength=100))
    changes = run_gate(repo, "HEAD~1").changes
    change = _only(changes, "constraint-tightened")
    assert (change.area, change.pointer) == ("common", "/$defs/Url/maxLength")
    assert (change.writers, change.database) == (True, True)
    assert {e.split(":")[0] for e in change.sql} == {
        "[sql-check-narrowed] jobs.audio_url",
        "[sql-check-narrowed] jobs.video_url",
    }
    assert len(_instance(change, "database")) > 100  # type: ignore[arg-type]


def test_sql_effect_without_schema_change_is_a_change_of_its_own(repo: Path) -> None:
    _commit(repo, "job", lambda doc: _defs(doc, "Job")["x-table"].update(unique=[["user_id"]]))
    changes = run_gate(repo, "HEAD~1").changes
    change = _only(changes, "sql-unique-added")
    assert (change.readers, change.writers, change.database) == (False, False, True)


# --------------------------------------------------------------------------- counterexamples


def test_counterexample_search_tries_other_digits_of_example_values(repo: Path) -> None:
    def require_version_4(doc: Schema) -> None:
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        _defs(doc, "Uuid")["pattern"] = pattern

    base = load_schema_set(repo / "schemas")
    _commit(repo, "common", require_version_4)
    change = _only(run_gate(repo, "HEAD~1").changes, "constraint-changed")
    instance = _instance(change, "writers")
    assert isinstance(instance, str)
    assert instance[14] != "4"
    _check_counterexamples(base, load_schema_set(repo / "schemas"), "common", change)


def test_counterexample_found_for_a_timestamp_pattern_limited_to_one_year(repo: Path) -> None:
    base = load_schema_set(repo / "schemas")
    _commit(repo, "common", lambda doc: _defs(doc, "Timestamp").update(pattern="^2025-.*Z$"))
    change = _only(run_gate(repo, "HEAD~1").changes, "constraint-changed")
    instance = _instance(change, "writers")
    assert isinstance(instance, str)
    assert not instance.startswith("2025-")
    _check_counterexamples(base, load_schema_set(repo / "schemas"), "common", change)


# --------------------------------------------------------------------------- the gate


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


# --------------------------------------------------------------------------- allow-list


def test_failing_change_prints_a_ready_to_review_allow_list_entry(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "job", _add_enum_value)
    assert main(repo, "HEAD~1") == 1
    out = capsys.readouterr().out
    suggested = json.loads(out[out.index("\n[\n") + 1 :])
    assert [(e["rule"], e["schema"], e["pointer"]) for e in suggested] == [
        ("enum-value-added", "job", "/$defs/Job/properties/status/enum")
    ]
    assert f"(change {suggested[0]['change']})" in out


def test_allow_list_entry_accepts_exactly_the_reviewed_change(repo: Path) -> None:
    _commit(repo, "job", _add_enum_value)
    entry = _entry(run_gate(repo, "HEAD~1"), "enum-value-added")
    status = {"type": "string", "enum": ["queued", "processing", "completed", "failed"]}
    old = {**_props(json.loads(_git(repo, "show", "HEAD~1:schemas/job.schema.json")), "Job")}
    assert old["status"]["enum"] == status["enum"]
    assert entry["change"] == change_id(
        "enum-value-added",
        "job",
        "/$defs/Job/properties/status/enum",
        status["enum"],
        [*status["enum"], "cancelled"],
    )
    _allow(repo, entry)
    report = run_gate(repo, "HEAD~1")
    assert report.ok
    assert _only(report.changes, "enum-value-added").accepted == entry["reason"]
    assert report.warnings == []


def test_allow_list_entry_does_not_accept_another_change_at_the_same_pointer(repo: Path) -> None:
    _commit(repo, "job", _add_enum_value)
    entry = _entry(run_gate(repo, "HEAD~1"), "enum-value-added")
    _commit(repo, "job", lambda doc: _props(doc, "Job")["status"]["enum"].append("archived"))
    _allow(repo, entry)
    report = run_gate(repo, "HEAD~2")
    assert _only(report.changes, "enum-value-added").accepted is None
    assert not report.ok
    assert len(report.warnings) == 1


def test_allow_list_entry_for_another_version_does_not_apply(repo: Path) -> None:
    _commit(repo, "job", _add_enum_value)
    entry = _entry(run_gate(repo, "HEAD~1"), "enum-value-added")
    _allow(repo, {**entry, "version": "https://schemas.videogen.dev/job/0.9.0"})
    assert not run_gate(repo, "HEAD~1").ok


def test_allow_list_entry_matching_no_change_is_a_warning_not_a_failure(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "audio", lambda doc: _props(doc, "Mood")["primary"].update(description="New."))
    stale = {
        "rule": "enum-value-added",
        "schema": "job",
        "pointer": "/$defs/Job/properties/status/enum",
        "version": "https://schemas.videogen.dev/job/1.0.0",
        "change": "0123456789ab",
        "reason": "an acceptance for a change this comparison does not include",
    }
    _allow(repo, stale)
    assert main(repo, "HEAD~1") == 0
    out = capsys.readouterr().out
    assert f"warning: {ALLOW_LIST} entry 0 (enum-value-added at job#" in out
    assert "matches no change of this comparison" in out


@pytest.mark.parametrize("missing", ["change", "reason"])
def test_allow_list_entry_without_change_id_or_reason_is_rejected(repo: Path, missing: str) -> None:
    _commit(repo, "job", _add_enum_value)
    entry = _entry(run_gate(repo, "HEAD~1"), "enum-value-added")
    _allow(repo, {k: v for k, v in entry.items() if k != missing})
    assert main(repo, "HEAD~1") == 2


#: The Timestamp pattern before the reviewed change recorded in the shipped allow-list.
OLD_TIMESTAMP = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?"
    "([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def test_shipped_allow_list_accepts_exactly_the_reviewed_timestamp_change(repo: Path) -> None:
    current = _defs(json.loads((repo / "schemas" / "common.schema.json").read_text()), "Timestamp")
    _commit(repo, "common", lambda doc: _defs(doc, "Timestamp").update(pattern=OLD_TIMESTAMP))
    _commit(repo, "common", lambda doc: _defs(doc, "Timestamp").update(current))
    shipped = (REPO_ROOT / ALLOW_LIST).read_text(encoding="utf-8")
    (repo / ALLOW_LIST).write_text(shipped, encoding="utf-8")
    report = run_gate(repo, "HEAD~1")
    assert report.ok
    assert _only(report.changes, "constraint-changed").accepted
    # The other shipped entries belong to other changes; the Timestamp entry is the one used.
    assert not [w for w in report.warnings if "Timestamp" in w]
    _commit(repo, "common", lambda doc: _defs(doc, "Timestamp").update(pattern="^2.*Z$"))
    assert not run_gate(repo, "HEAD~2").ok


# --------------------------------------------------------------------------- default base


def _snapshot(repo: Path) -> Path:
    """A release snapshot of the schemas as they are now (releases/latest/)."""
    target = repo / "releases" / "latest"
    target.mkdir(parents=True)
    for path in (repo / "schemas").glob("*.schema.json"):
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    record = {"version": "1.0.0", "tag": "v1.0.0", "contracts": {"audio": "1.0.0"}}
    (target / "release.json").write_text(json.dumps(record), encoding="utf-8")
    return target


def test_default_base_is_the_first_commit_before_any_release(repo: Path) -> None:
    first = _git(repo, "rev-parse", "HEAD").strip()
    _commit(repo, "audio", _add_optional)
    _commit(repo, "audio", _set_max_length(5000))
    assert default_base(repo).ref == first


def test_a_break_does_not_hide_behind_a_later_commit(repo: Path) -> None:
    # Issue 11, class 12: with HEAD~1 as the base, a break followed by any commit passed.
    _commit(repo, "job", _add_enum_value)
    _commit(repo, "audio", lambda doc: _props(doc, "Mood")["primary"].update(description="B."))
    assert main(repo, None) == 1


def test_default_base_is_the_release_snapshot_when_there_is_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "job", _add_enum_value)
    _snapshot(repo)
    assert default_base(repo).snapshot == repo / "releases" / "latest"
    assert main(repo, None) == 0
    assert "compared with release 1.0.0" in capsys.readouterr().out


def test_first_commit_compared_with_itself_passes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(repo, None) == 0
    assert "first commit" in capsys.readouterr().out


def _shallow_clone(repo: Path, target: Path, depth: int) -> Path:
    _git(target.parent, "clone", "-q", "--depth", str(depth), repo.as_uri(), str(target))
    return target


def test_shallow_clone_without_release_snapshot_exits_2_with_one_message(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(repo, "audio", _add_optional)
    clone = _shallow_clone(repo, tmp_path / "shallow", 1)
    assert main(clone, None) == 2
    err = capsys.readouterr().err
    assert "shallow clone" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_shallow_clone_with_a_release_snapshot_compares_with_it(repo: Path, tmp_path: Path) -> None:
    _snapshot(repo)
    _git(repo, "add", "releases")
    _git(repo, "commit", "-q", "-m", "release")
    _commit(repo, "job", _add_enum_value)
    clone = _shallow_clone(repo, tmp_path / "shallow", 1)
    report = run_gate(clone)
    assert _only(report.changes, "enum-value-added").readers
    assert report.base.startswith("release 1.0.0")


def test_unknown_ref_exits_2(repo: Path) -> None:
    assert main(repo, "no-such-ref") == 2
