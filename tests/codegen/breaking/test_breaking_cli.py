"""The gate's command line: --snapshot, --json, and exit status 2 with one message for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codegen.__main__ import main as cli

REPO_SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def _copy_schemas(target: Path) -> Path:
    target.mkdir(parents=True)
    for path in REPO_SCHEMAS.glob("*.schema.json"):
        (target / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return target


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repository-shaped folder (no git) and a snapshot of the same schemas beside it."""
    _copy_schemas(tmp_path / "repo" / "schemas")
    _copy_schemas(tmp_path / "snapshot")
    return tmp_path


def _edit(folder: Path, area: str, edit: Any) -> None:
    path = folder / f"{area}.schema.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def _run(tree: Path, *args: str) -> int:
    return cli(
        ["breaking", "--root", str(tree / "repo"), "--snapshot", str(tree / "snapshot"), *args]
    )


def _add_status(doc: dict[str, Any]) -> None:
    doc["$defs"]["Job"]["properties"]["status"]["enum"].append("cancelled")


def test_snapshot_comparison_without_changes_passes(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tree) == 0
    assert "no changes" in capsys.readouterr().out


def test_json_report_lists_each_change_with_its_verdicts(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edit(tree / "repo" / "schemas", "job", _add_status)
    assert _run(tree, "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["base"] == f"snapshot {tree / 'snapshot'}"
    (change,) = report["changes"]
    assert {k: change[k] for k in ("rule", "schema", "definition", "pointer", "kind")} == {
        "rule": "enum-value-added",
        "schema": "job",
        "definition": "Job",
        "pointer": "/$defs/Job/properties/status/enum",
        "kind": "breaking",
    }
    assert (change["readers"], change["writers"], change["database"]) == (True, False, False)
    assert change["counterexamples"][0]["instance"]["status"] == "cancelled"
    assert change["accepted"] is None
    assert report["old_versions"]["job"] == report["new_versions"]["job"]


def _ref_to_root(doc: dict[str, Any]) -> None:
    doc["$defs"]["Job"]["properties"]["status"] = {"$ref": "#", "description": "x"}


def _boolean_definition(doc: dict[str, Any]) -> None:
    doc["$defs"]["Nothing"] = False


def _missing_definition(doc: dict[str, Any]) -> None:
    doc["$defs"]["Job"]["properties"]["status"] = {"$ref": "#/$defs/Statsu", "description": "x"}


def _wrong_keyword_type(doc: dict[str, Any]) -> None:
    doc["$defs"]["Job"]["properties"]["user_prompt"]["minLength"] = "1"


def _bad_pattern(doc: dict[str, Any]) -> None:
    doc["$defs"]["Job"]["properties"]["user_prompt"]["pattern"] = "(["


BAD = {
    "ref-to-root": (_ref_to_root, "unsupported $ref '#'", "VG022"),
    "boolean-definition": (_boolean_definition, "$defs/Nothing is false", None),
    "missing-definition": (_missing_definition, "has no definition 'Statsu'", "VG007"),
    "wrong-keyword-type": (_wrong_keyword_type, "minLength", "VG005"),
    "bad-pattern": (_bad_pattern, "does not compile", "VG017"),
}


@pytest.mark.parametrize(("edit", "message", "rule"), BAD.values(), ids=BAD)
def test_bad_new_schema_exits_2_with_one_message_and_no_traceback(
    tree: Path, capsys: pytest.CaptureFixture[str], edit: Any, message: str, rule: str | None
) -> None:
    # The working tree's schemas are linted first: a finding is reported with its rule id; what
    # the lint admits but the gate cannot compare is the gate's own one-line message.
    _edit(tree / "repo" / "schemas", "job", edit)
    assert _run(tree) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if rule is None:
        assert message in captured.err
        assert len(captured.err.strip().splitlines()) == 1
    else:
        findings = [line for line in captured.err.splitlines() if line.startswith("schemas/")]
        assert len(findings) == 1
        assert f" {rule} " in findings[0]


@pytest.mark.parametrize(("edit", "message", "rule"), BAD.values(), ids=BAD)
def test_bad_base_schema_exits_2_with_the_gates_one_message(
    tree: Path, capsys: pytest.CaptureFixture[str], edit: Any, message: str, rule: str | None
) -> None:
    # The base is not linted (an old release may predate a rule): the gate itself refuses it.
    _edit(tree / "snapshot", "job", edit)
    assert _run(tree) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert message in captured.err
    assert "job.schema.json" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_unreadable_json_exits_2(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "repo" / "schemas" / "job.schema.json").write_text("{", encoding="utf-8")
    assert _run(tree) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_missing_snapshot_folder_exits_2(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(["breaking", "--root", str(tree / "repo"), "--snapshot", str(tree / "nowhere")])
    assert code == 2
    assert "is not a folder" in capsys.readouterr().err


def test_no_git_and_no_snapshot_exits_2(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["breaking", "--root", str(tree / "repo")]) == 2
    assert "not a git repository" in capsys.readouterr().err
