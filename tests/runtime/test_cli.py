"""videogen-contracts, in process (tests/consumers runs the installed console script)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from runtime import cli
from runtime.resources import bundle_index, load_bundle

JOB = load_bundle("Job")["$defs"]["Job"]["examples"][0]


def test_list_prints_every_contract_with_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    index = bundle_index()["contracts"]
    assert [row[0] for row in rows] == list(index)
    for name, version, area, schema_id in rows:
        assert (version, area, schema_id) == (
            index[name]["version"],
            index[name]["area"],
            f"https://schemas.videogen.dev/{area}/{version}",
        )


def test_schema_prints_the_bundle(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema", "Job"]) == 0
    assert json.loads(capsys.readouterr().out) == load_bundle("Job")


def test_validate_a_valid_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(JOB), encoding="utf-8")
    assert cli.main(["validate", "Job", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: valid Job\n"


def test_validate_prints_sorted_json_pointers_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {**JOB, "progress": 500, "status": "paused", "unknown": 1}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(document)))
    assert cli.main(["validate", "Job", "-"]) == 1
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines == sorted(lines)
    assert lines[0].startswith("(root): Additional properties are not allowed ('unknown'")
    assert lines[1].startswith("/progress: 500 is greater than the maximum of 100")
    assert lines[2].startswith("/status: 'paused' is not one of")
    assert "standard input: 3 error(s): not a valid Job" in out.err


def test_pointer_escapes_slash_and_tilde_and_picks_the_best_any_of_branch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    document = {**JOB, "metadata": {"a/b~c": 1}, "video_url": 5}
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(document)))
    code = cli.main(["validate", "Job", "-"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert any(line.startswith("/video_url: 5 is not of type") for line in lines), lines


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["validate", "Nope", "-"], "{}", "no contract 'Nope'"),
        (["validate", "Job", "-"], "{", "standard input is not JSON"),
        (["validate", "Job", "/nonexistent/job.json"], "", "cannot read /nonexistent/job.json"),
        (["schema", "Nope"], "", "no contract 'Nope'"),
    ],
)
def test_unusable_input_exits_2_with_one_message(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["validate"])
    assert raised.value.code == 2


def test_version_is_the_generated_release(capsys: pytest.CaptureFixture[str]) -> None:
    import generated

    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == f"videogen-contracts {generated.__version__}"
