"""A corpus of broken edits of the real schemas: each is caught by its rule, at its file and JSON
pointer, by the command line in a subprocess, without a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lint_support import codegen, load, save

Docs = dict[str, dict[str, Any]]
C = "https://schemas.videogen.dev/common/1.0.0"


def _defs(docs: Docs, area: str, name: str) -> dict[str, Any]:
    definition: dict[str, Any] = docs[area]["$defs"][name]
    return definition


def _prop(docs: Docs, area: str, name: str, prop: str) -> dict[str, Any]:
    schema: dict[str, Any] = _defs(docs, area, name)["properties"][prop]
    return schema


def _rename_key(node: dict[str, Any], old: str, new: str) -> None:
    items = [(new if k == old else k, v) for k, v in node.items()]
    node.clear()
    node.update(items)


def _set(area: str, name: str, prop: str | None, key: str, value: Any) -> Callable[[Docs], None]:
    def edit(docs: Docs) -> None:
        node = _prop(docs, area, name, prop) if prop else _defs(docs, area, name)
        node[key] = value

    return edit


def _drop(area: str, name: str, prop: str | None, key: str) -> Callable[[Docs], None]:
    def edit(docs: Docs) -> None:
        node = _prop(docs, area, name, prop) if prop else _defs(docs, area, name)
        del node[key]

    return edit


def _top(area: str, key: str, value: Any) -> Callable[[Docs], None]:
    def edit(docs: Docs) -> None:
        if value is None:
            del docs[area][key]
        else:
            docs[area][key] = value

    return edit


def _requried(docs: Docs) -> None:
    _rename_key(_defs(docs, "scene", "Scene"), "required", "requried")


def _maxlenght(docs: Docs) -> None:
    _rename_key(_prop(docs, "scene", "Scene", "description"), "maxLength", "maxLenght")


def _deep_typo(docs: Docs) -> None:
    variant = _prop(docs, "scene", "Scene", "time_of_day")["anyOf"][0]
    _rename_key(variant, "minLength", "minlength")


def _definitions(docs: Docs) -> None:
    docs["common"]["definitions"] = {}


def _x_tabel(docs: Docs) -> None:
    _rename_key(_defs(docs, "job", "Job"), "x-table", "x-tabel")


def _nested_open(docs: Docs) -> None:
    _defs(docs, "scene", "Scene")["properties"]["extra"] = {
        "type": "object",
        "description": "An inline object left open.",
        "properties": {"a": {"type": "string", "description": "A."}},
    }


def _nested_id(docs: Docs) -> None:
    _defs(docs, "scene", "Scene")["$id"] = "https://schemas.videogen.dev/scene/scene"


def _dup_enum(docs: Docs) -> None:
    _prop(docs, "job", "Job", "status")["enum"].append("queued")


def _bad_example(docs: Docs) -> None:
    _defs(docs, "job", "Job")["examples"][0]["progress"] = 101


def _bad_money_example(docs: Docs) -> None:
    _defs(docs, "common", "Money")["examples"][0] = "0.1234567"


def _pattern_props(docs: Docs) -> None:
    _defs(docs, "common", "Metadata")["patternProperties"] = {"(?P<k>x)": {"type": "string"}}


def _no_maximum(docs: Docs) -> None:
    del _prop(docs, "job", "Job", "progress")["maximum"]


def _primary_key(docs: Docs) -> None:
    _defs(docs, "job", "Job")["x-table"]["primaryKey"] = ["job_id"]


def _batch_match(docs: Docs) -> None:
    _defs(docs, "job", "Job")["x-table"]["batch"]["match"] = ["id", "owner_id"]


def _references(docs: Docs) -> None:
    _prop(docs, "job", "JobStage", "job_id")["x-sql"]["references"]["table"] = "job"


def _dup_id(docs: Docs) -> None:
    docs["video"]["$id"] = docs["job"]["$id"]


def _ref_missing_file(docs: Docs) -> None:
    _prop(docs, "scene", "Scene", "id")["$ref"] = (
        "https://schemas.videogen.dev/common/2.0.0#/$defs/Identifier"
    )


def _type_list(docs: Docs) -> None:
    _prop(docs, "scene", "Scene", "description")["type"] = ["string", "strng"]


def _x_open_closed(docs: Docs) -> None:
    _defs(docs, "scene", "Scene")["x-open"] = "because scenes carry many extra fields"


def _x_sql_unknown_key(docs: Docs) -> None:
    _prop(docs, "job", "Job", "id")["x-sql"]["tpye"] = "uuid"


def _two_variants(docs: Docs) -> None:
    _prop(docs, "job", "Job", "video_url")["anyOf"].insert(1, {"type": "integer"})


SP = "/$defs/Scene/properties"
JP = "/$defs/Job/properties"
# (case id, edit, rule, file area, pointer)
CASES: list[tuple[str, Callable[[Docs], None], str, str, str]] = [
    # the issue's four
    ("requried-typo", _requried, "VG002", "scene", "/$defs/Scene/requried"),
    (
        "ref-identifer",
        _set("scene", "Scene", "id", "$ref", f"{C}#/$defs/Identifer"),
        "VG007",
        "scene",
        f"{SP}/id/$ref",
    ),
    (
        "type-strng",
        _set("scene", "Scene", "description", "type", "strng"),
        "VG005",
        "scene",
        f"{SP}/description/type",
    ),
    (
        "minlength-string",
        _set("scene", "Scene", "description", "minLength", "1"),
        "VG005",
        "scene",
        f"{SP}/description/minLength",
    ),
    # VG001
    ("invalid-json", lambda docs: None, "VG001", "video", ""),
    # VG002
    ("maxlength-typo", _maxlenght, "VG002", "scene", f"{SP}/description/maxLenght"),
    ("typo-inside-anyof", _deep_typo, "VG002", "scene", f"{SP}/time_of_day/anyOf/0/minlength"),
    ("definitions-keyword", _definitions, "VG002", "common", "/definitions"),
    # VG003
    ("x-tabel", _x_tabel, "VG003", "job", "/$defs/Job/x-tabel"),
    (
        "x-unregistered",
        _set("job", "Job", "status", "x-label", "Status"),
        "VG003",
        "job",
        f"{JP}/status/x-label",
    ),
    # VG004
    ("x-sql-unknown-key", _x_sql_unknown_key, "VG004", "job", f"{JP}/id/x-sql"),
    (
        "x-sql-type",
        _set("job", "Job", "user_prompt", "x-sql", {"type": "varchar"}),
        "VG004",
        "job",
        f"{JP}/user_prompt/x-sql/type",
    ),
    (
        "x-renamed-from-number",
        _set("job", "Job", "video_url", "x-renamed-from", 5),
        "VG004",
        "job",
        f"{JP}/video_url/x-renamed-from",
    ),
    (
        "x-python-type",
        _set("common", "Money", None, "x-python-type", "decimal.Decimal"),
        "VG004",
        "common",
        "/$defs/Money/x-python-type",
    ),
    (
        "x-table-no-primary-key",
        _set("job", "Job", None, "x-table", {"name": "jobs"}),
        "VG004",
        "job",
        "/$defs/Job/x-table",
    ),
    (
        "x-open-empty",
        _set("common", "Metadata", None, "x-open", ""),
        "VG004",
        "common",
        "/$defs/Metadata/x-open",
    ),
    (
        "x-sql-batch-value",
        _set("job", "Job", "status", "x-sql", {"batch": "always"}),
        "VG004",
        "job",
        f"{JP}/status/x-sql/batch",
    ),
    (
        "x-sql-batch-on-money",
        _set("job", "Job", "total_cost", "x-sql", {"batch": "write"}),
        "VG004",
        "job",
        f"{JP}/total_cost/x-sql/batch",
    ),
    # VG005
    (
        "maximum-string",
        _set("job", "Job", "progress", "maximum", "100"),
        "VG005",
        "job",
        f"{JP}/progress/maximum",
    ),
    (
        "minimum-above-maximum",
        _set("job", "Job", "progress", "minimum", 200),
        "VG005",
        "job",
        f"{JP}/progress/minimum",
    ),
    (
        "unique-items-string",
        _set("scene", "Style", "color_palette", "uniqueItems", "yes"),
        "VG005",
        "scene",
        "/$defs/Style/properties/color_palette/uniqueItems",
    ),
    (
        "format-typo",
        _set("common", "Timestamp", None, "format", "date-tme"),
        "VG005",
        "common",
        "/$defs/Timestamp/format",
    ),
    (
        "enum-not-array",
        _set("job", "Job", "status", "enum", "queued"),
        "VG005",
        "job",
        f"{JP}/status/enum",
    ),
    (
        "required-string",
        _set("scene", "Scene", None, "required", "id"),
        "VG005",
        "scene",
        "/$defs/Scene/required",
    ),
    (
        "items-number",
        _set("scene", "Style", "color_palette", "items", 5),
        "VG005",
        "scene",
        "/$defs/Style/properties/color_palette/items",
    ),
    ("type-list-typo", _type_list, "VG005", "scene", f"{SP}/description/type"),
    (
        "negative-min-length",
        _set("scene", "Scene", "description", "minLength", -1),
        "VG005",
        "scene",
        f"{SP}/description/minLength",
    ),
    # VG006, VG007, VG022
    ("ref-missing-file", _ref_missing_file, "VG006", "scene", f"{SP}/id/$ref"),
    (
        "ref-missing-local",
        _set("job", "Job", "status", "$ref", "#/$defs/Status"),
        "VG007",
        "job",
        f"{JP}/status/$ref",
    ),
    (
        "ref-not-a-definition",
        _set("job", "Job", "status", "$ref", "#/properties/x"),
        "VG022",
        "job",
        f"{JP}/status/$ref",
    ),
    # VG008
    (
        "required-unknown",
        _set("scene", "Scene", None, "required", ["id", "descripton"]),
        "VG008",
        "scene",
        "/$defs/Scene/required/1",
    ),
    # VG009
    (
        "open-definition",
        _drop("scene", "Scene", None, "additionalProperties"),
        "VG009",
        "scene",
        "/$defs/Scene",
    ),
    ("open-nested-object", _nested_open, "VG009", "scene", f"{SP}/extra"),
    ("x-open-on-closed", _x_open_closed, "VG009", "scene", "/$defs/Scene/x-open"),
    (
        "metadata-unmarked",
        _drop("common", "Metadata", None, "x-open"),
        "VG009",
        "common",
        "/$defs/Metadata",
    ),
    # VG010, VG011, VG012
    (
        "id-foreign-host",
        _top("job", "$id", "https://example.com/job/1.0.0"),
        "VG010",
        "job",
        "/$id",
    ),
    ("id-missing", _top("video", "$id", None), "VG010", "video", ""),
    ("id-nested", _nested_id, "VG010", "scene", "/$defs/Scene/$id"),
    ("id-duplicate", _dup_id, "VG011", "video", "/$id"),
    (
        "id-version-two-parts",
        _top("video", "$id", "https://schemas.videogen.dev/video/1.0"),
        "VG012",
        "video",
        "/$id",
    ),
    (
        "id-version-leading-zero",
        _top("video", "$id", "https://schemas.videogen.dev/video/01.0.0"),
        "VG012",
        "video",
        "/$id",
    ),
    # VG013
    (
        "definition-without-description",
        _drop("audio", "Mood", None, "description"),
        "VG013",
        "audio",
        "/$defs/Mood",
    ),
    (
        "property-without-description",
        _drop("scene", "Scene", "description", "description"),
        "VG013",
        "scene",
        f"{SP}/description",
    ),
    # VG014
    ("duplicate-enum", _dup_enum, "VG014", "job", f"{JP}/status/enum/4"),
    # VG015, VG016
    (
        "default-out-of-range",
        _set("job", "Job", "progress", "default", 101),
        "VG015",
        "job",
        f"{JP}/progress/default",
    ),
    (
        "default-wrong-type",
        _set("job", "Job", "progress", "default", "0"),
        "VG015",
        "job",
        f"{JP}/progress/default",
    ),
    ("example-invalid", _bad_example, "VG016", "job", "/$defs/Job/examples/0/progress"),
    ("scalar-example-invalid", _bad_money_example, "VG016", "common", "/$defs/Money/examples/0"),
    # VG017
    (
        "pattern-python-group",
        _set("common", "Identifier", None, "pattern", "(?P<x>a)"),
        "VG017",
        "common",
        "/$defs/Identifier/pattern",
    ),
    (
        "pattern-unbalanced",
        _set("common", "HexColor", None, "pattern", "^#[0-9A-F{6}$"),
        "VG017",
        "common",
        "/$defs/HexColor/pattern",
    ),
    (
        "pattern-properties-key",
        _pattern_props,
        "VG017",
        "common",
        "/$defs/Metadata/patternProperties/(?P<k>x)",
    ),
    # VG018
    (
        "text-as-integer",
        _set("job", "Job", "user_prompt", "x-sql", {"type": "integer"}),
        "VG018",
        "job",
        f"{JP}/user_prompt",
    ),
    ("integer-without-maximum", _no_maximum, "VG018", "job", f"{JP}/progress"),
    (
        "url-as-uuid",
        _set("job", "Job", "audio_url", "x-sql", {"type": "uuid"}),
        "VG018",
        "job",
        f"{JP}/audio_url",
    ),
    # VG023
    (
        "column-without-type",
        _drop("job", "JobStage", "status", "type"),
        "VG023",
        "job",
        "/$defs/JobStage/properties/status",
    ),
    ("column-two-variants", _two_variants, "VG023", "job", f"{JP}/video_url"),
    # VG019, VG020
    (
        "draft-07",
        _top("video", "$schema", "http://json-schema.org/draft-07/schema#"),
        "VG019",
        "video",
        "/$schema",
    ),
    ("no-title", _top("video", "title", None), "VG020", "video", ""),
    # VG021
    ("primary-key-unknown", _primary_key, "VG021", "job", "/$defs/Job/x-table/primaryKey/0"),
    ("batch-match-unknown", _batch_match, "VG021", "job", "/$defs/Job/x-table/batch/match/1"),
    (
        "references-unknown-table",
        _references,
        "VG021",
        "job",
        "/$defs/JobStage/properties/job_id/x-sql/references/table",
    ),
]


@pytest.mark.parametrize(
    ("edit", "rule", "area", "at"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_broken_edit_is_reported_with_rule_file_and_pointer(
    schema_root: Path, edit: Callable[[Docs], None], rule: str, area: str, at: str
) -> None:
    docs = {
        p.name.removesuffix(".schema.json"): load(schema_root, p.name.removesuffix(".schema.json"))
        for p in (schema_root / "schemas").glob("*.schema.json")
    }
    edit(docs)
    for name, document in docs.items():
        save(schema_root, name, document)
    if rule == "VG001":
        (schema_root / "schemas" / "video.schema.json").write_text('{"$id": ', encoding="utf-8")
    run = codegen(schema_root, "lint", "--format", "json")
    assert run.status == 2, run.output
    assert "Traceback" not in run.output
    found = {(f["rule"], f["file"], f["pointer"]) for f in run.findings()}
    assert (rule, f"schemas/{area}.schema.json", at) in found, found


def test_corpus_covers_every_rule_but_the_internal_one() -> None:
    from codegen.lint import RULES

    assert {case[2] for case in CASES} == set(RULES) - {"VG000"}
    assert len(CASES) >= 40
