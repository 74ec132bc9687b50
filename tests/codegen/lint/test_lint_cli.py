"""The lint through the command line: clean on the shipped schemas, the issue's four mistakes
stop ``generate`` and ``check`` with one message each (exit 2), never a traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lint_support import codegen, load, save

C = "https://schemas.videogen.dev/common/1.0.0"


def _requried(scene: dict[str, Any]) -> None:
    node = scene["$defs"]["Scene"]
    node["requried"] = node.pop("required")


def _identifer(scene: dict[str, Any]) -> None:
    scene["$defs"]["Scene"]["properties"]["id"]["$ref"] = f"{C}#/$defs/Identifer"


def _strng(scene: dict[str, Any]) -> None:
    scene["$defs"]["Scene"]["properties"]["description"]["type"] = "strng"


def _min_length(scene: dict[str, Any]) -> None:
    scene["$defs"]["Scene"]["properties"]["description"]["minLength"] = "1"


# (edit of scene.schema.json, the finding's first line, the hint it gives)
ISSUE_FOUR: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "requried": (
        _requried,
        "schemas/scene.schema.json#/$defs/Scene/requried: VG002 unknown-keyword",
        'Did you mean "required"?',
    ),
    "identifer": (
        _identifer,
        "schemas/scene.schema.json#/$defs/Scene/properties/id/$ref: VG007 ref-missing-definition",
        'Did you mean "Identifier"?',
    ),
    "strng": (
        _strng,
        "schemas/scene.schema.json#/$defs/Scene/properties/description/type: VG005 keyword-value",
        'Did you mean "string"?',
    ),
    "min-length-string": (
        _min_length,
        "schemas/scene.schema.json#/$defs/Scene/properties/description/minLength: VG005",
        "write minLength: 1 (a JSON number, without the quotes)",
    ),
}


def _break(root: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    scene = load(root, "scene")
    edit(scene)
    save(root, "scene", scene)


def test_shipped_schemas_lint_clean(schema_root: Path) -> None:
    run = codegen(schema_root, "lint")
    assert (run.status, run.stdout.strip()) == (0, "lint: 5 schema files, no problems")


@pytest.mark.parametrize("case", list(ISSUE_FOUR))
def test_issue_mistake_stops_generate_with_finding_and_hint(schema_root: Path, case: str) -> None:
    edit, first_line, hint = ISSUE_FOUR[case]
    _break(schema_root, edit)
    run = codegen(schema_root, "generate")
    assert (run.status, run.stdout) == (2, "")
    assert first_line in run.stderr
    assert hint in run.stderr
    assert "Traceback" not in run.output


@pytest.mark.parametrize("case", list(ISSUE_FOUR))
def test_issue_mistake_stops_check_with_exit_2(schema_root: Path, case: str) -> None:
    edit, first_line, _hint = ISSUE_FOUR[case]
    _break(schema_root, edit)
    run = codegen(schema_root, "check")
    assert run.status == 2
    assert first_line in run.stderr
    assert "Traceback" not in run.output


def test_generate_with_lint_findings_writes_nothing(schema_root: Path) -> None:
    _break(schema_root, _requried)
    codegen(schema_root, "generate")
    assert sorted(p.name for p in schema_root.iterdir()) == ["schemas"]


def test_failing_step_is_one_message_without_traceback(schema_root: Path) -> None:
    # A folder with only schemas/ (no pyproject.toml, no ts/node_modules): a step cannot run.
    run = codegen(schema_root, "generate")
    assert run.status == 2
    assert re.search(r"^generate: the \w+ step failed: \w+Error: ", run.stderr, re.MULTILINE)
    assert "Traceback" not in run.output


def test_lint_json_output_lists_rule_name_file_pointer_message_and_fix(schema_root: Path) -> None:
    _break(schema_root, _strng)
    (finding,) = codegen(schema_root, "lint", "--format", "json").findings()
    assert finding == {
        "rule": "VG005",
        "name": "keyword-value",
        "file": "schemas/scene.schema.json",
        "pointer": "/$defs/Scene/properties/description/type",
        "message": '"strng" is not a JSON Schema type. Did you mean "string"?',
        "fix": "use one of string, number, integer, boolean, object, array, null",
    }


def test_rules_lists_every_rule_and_extension(schema_root: Path) -> None:
    from codegen.lint import EXTENSIONS, RULES

    run = codegen(schema_root, "lint", "--rules")
    lines = run.stdout.splitlines()
    assert run.status == 0
    assert {line.split()[0] for line in lines if line.startswith("VG")} == set(RULES)
    assert {line.split()[0] for line in lines if line.startswith("x-")} == set(EXTENSIONS)


def test_agreement_runs_the_lint_before_ajv(schema_root: Path) -> None:
    _break(schema_root, _requried)
    run = codegen(schema_root, "agreement")
    assert run.status == 2
    assert "schemas/scene.schema.json#/$defs/Scene/requried: VG002 unknown-keyword" in run.stderr
    assert "Traceback" not in run.output
