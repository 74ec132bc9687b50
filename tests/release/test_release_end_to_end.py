"""The release command end to end, in scratch repositories (see conftest): first release, a
non-breaking change, a breaking one, a rename; dry run and refusals."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from release_support import git, regenerate, run_release

pytestmark = pytest.mark.slow

ID = "https://schemas.videogen.dev/{area}/{version}"


def _schema(root: Path, area: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((root / "schemas" / f"{area}.schema.json").read_text())
    return document


def _write_schema(root: Path, area: str, document: dict[str, Any]) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    (root / "schemas" / f"{area}.schema.json").write_text(text, encoding="utf-8")


def _commit_change(root: Path, message: str) -> None:
    regenerate(root)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", message)


def _release_record(root: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((root / "releases/latest/release.json").read_text())
    return record


def _versions(root: Path) -> tuple[str, str, str]:
    wheel = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    npm = json.loads((root / "ts" / "package.json").read_text())["version"]
    init = (root / "generated/__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', init, re.M)
    assert match is not None
    return wheel, npm, match[1]


def _released(root: Path, version: str) -> None:
    """The release commit is tagged, clean, recorded, and all three versions agree."""
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "rev-parse", f"v{version}^{{commit}}") == git(root, "rev-parse", "HEAD")
    assert _release_record(root)["version"] == version
    assert _release_record(root)["tag"] == f"v{version}"
    assert _versions(root) == (version, version, version)
    for path in (root / "schemas").glob("*.schema.json"):
        assert (root / "releases/latest" / path.name).read_bytes() == path.read_bytes()


def test_first_release_is_v1_0_0_of_what_exists(first_release: Path) -> None:
    _released(first_release, "1.0.0")
    record = _release_record(first_release)
    assert record["contracts"] == {a: "1.0.0" for a in ("audio", "common", "job", "scene", "video")}
    changelog = (first_release / "CHANGELOG.md").read_text()
    assert "## v1.0.0 (2026-01-02)" in changelog
    assert "| job | 1.0.0 | Job, JobStage, JobCost, CostReservation |" in changelog
    assert "`sql/migrations/0001_initial.sql`" in changelog


def test_a_description_change_is_a_patch_release(repo: Path) -> None:
    audio = _schema(repo, "audio")
    audio["$defs"]["Mood"]["description"] += " Reviewed."
    _write_schema(repo, "audio", audio)
    _commit_change(repo, "audio: clearer Mood description")
    result = run_release(repo)
    assert result.returncode == 0, result.stderr
    _released(repo, "1.0.1")
    assert _release_record(repo)["contracts"]["audio"] == "1.0.1"
    assert _release_record(repo)["contracts"]["job"] == "1.0.0"
    assert _schema(repo, "audio")["$id"] == ID.format(area="audio", version="1.0.1")
    changelog = (repo / "CHANGELOG.md").read_text()
    assert changelog.index("## v1.0.1") < changelog.index("## v1.0.0")
    assert "| audio | 1.0.0 → 1.0.1 | patch | AudioAnalysis |" in changelog
    assert "**breaks nobody** [annotation-changed]" in changelog


def test_a_breaking_change_is_a_major_release_with_every_ref_bumped(repo: Path) -> None:
    common = _schema(repo, "common")
    money = common["$defs"]["Money"]
    money["pattern"] = money["pattern"].replace("{0,11}", "{0,10}")  # at most 11 integer digits
    _write_schema(repo, "common", common)
    _commit_change(repo, "common: smaller money")
    result = run_release(repo)
    assert result.returncode == 0, result.stderr
    _released(repo, "2.0.0")
    contracts = _release_record(repo)["contracts"]
    assert contracts["common"] == "2.0.0"
    assert contracts["job"] == "2.0.0"  # Job holds Money: its writers break too
    new_common = ID.format(area="common", version="2.0.0")
    job_text = (repo / "schemas/job.schema.json").read_text()
    assert f'"{new_common}#/$defs/Money"' in job_text
    assert ID.format(area="common", version="1.0.0") not in job_text
    from generated import Job  # the models of this checkout are untouched

    assert Job.SCHEMA_VERSION == "1.0.0"
    models = (repo / "generated/job.py").read_text()
    assert 'SCHEMA_ID: ClassVar[str] = "https://schemas.videogen.dev/job/2.0.0"' in models
    index = json.loads((repo / "generated/bundles/index.json").read_text())
    assert index["contracts"]["Job"]["version"] == "2.0.0"
    assert index["package_version"] == "2.0.0"
    changelog = (repo / "CHANGELOG.md").read_text()
    assert "### common 2.0.0 (was 1.0.0): major" in changelog
    common_section = changelog.split("### common 2.0.0", 1)[1].split("###", 1)[0]
    assert re.search(r"^Breaks: .*writers", common_section, re.M)
    job_section = changelog.split("### job 2.0.0", 1)[1].split("###", 1)[0]
    assert "use common's Money, whose change breaks" in job_section


def test_a_declared_rename_is_major_and_names_its_migration(repo: Path) -> None:
    job = _schema(repo, "job")
    properties = job["$defs"]["Job"]["properties"]
    renamed = {
        ("failure_message" if name == "error_message" else name): value
        for name, value in properties.items()
    }
    renamed["failure_message"] = {**renamed["failure_message"], "x-renamed-from": "error_message"}
    job["$defs"]["Job"]["properties"] = renamed
    definition = job["$defs"]["Job"]
    definition["required"] = [
        "failure_message" if name == "error_message" else name for name in definition["required"]
    ]
    for example in definition.get("examples", []):
        example["failure_message"] = example.pop("error_message")
    _write_schema(repo, "job", job)
    _commit_change(repo, "job: error_message is failure_message")
    added = sorted(
        p.name
        for p in (repo / "sql/migrations").glob("*.sql")
        if p.name not in _release_record(repo)["migrations"]
    )
    assert len(added) == 1
    result = run_release(repo)
    assert result.returncode == 0, result.stderr
    _released(repo, "2.0.0")
    assert _release_record(repo)["contracts"]["job"] == "2.0.0"
    changelog = (repo / "CHANGELOG.md").read_text()
    assert "[property-renamed]" in changelog
    assert f"- `sql/migrations/{added[0]}`" in changelog


def test_dry_run_prints_the_plan_and_changes_nothing(repo: Path) -> None:
    job = _schema(repo, "job")
    job["$defs"]["Job"]["properties"]["status"]["enum"].append("paused")
    _write_schema(repo, "job", job)
    _commit_change(repo, "job: paused")
    head = git(repo, "rev-parse", "HEAD")
    result = run_release(repo, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "release: v2.0.0 (previous release: v1.0.0, level: MAJOR)" in result.stdout
    assert "job: 1.0.0 -> 2.0.0 major" in result.stdout
    assert "**breaks readers** [enum-value-added]" in result.stdout
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "tag", "--list", "v2.0.0") == ""


def test_a_library_change_alone_is_a_patch_release_of_the_package(repo: Path) -> None:
    path = repo / "runtime" / "errors.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n# a library fix\n", encoding="utf-8")
    git(repo, "commit", "--quiet", "-am", "runtime: a fix")
    result = run_release(repo)
    assert result.returncode == 0, result.stderr
    _released(repo, "1.0.1")
    assert set(_release_record(repo)["contracts"].values()) == {"1.0.0"}
    changelog = (repo / "CHANGELOG.md").read_text()
    assert "No contract changed: every schema file keeps its version." in changelog


def test_nothing_to_release_right_after_a_release(repo: Path) -> None:
    result = run_release(repo)
    assert result.returncode == 0
    assert "nothing to release" in result.stdout
    assert git(repo, "tag", "--list") == "v1.0.0\n"


def test_uncommitted_changes_refuse_the_release_with_exit_2(repo: Path) -> None:
    job = _schema(repo, "job")
    job["$defs"]["Job"]["description"] += " Edited."
    _write_schema(repo, "job", job)
    result = run_release(repo)
    assert result.returncode == 2
    assert "uncommitted changes" in result.stderr
    assert git(repo, "tag", "--list") == "v1.0.0\n"


def test_a_failing_regeneration_rolls_the_release_back(repo: Path) -> None:
    job = _schema(repo, "job")
    job["$defs"]["Job"]["description"] += " Edited."
    _write_schema(repo, "job", job)
    _commit_change(repo, "job: description")
    head = git(repo, "rev-parse", "HEAD")
    (repo / "ts" / "node_modules").unlink()  # the TypeScript step cannot run
    result = run_release(repo)
    assert result.returncode == 2
    assert "rolled back" in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "tag", "--list") == "v1.0.0\n"
    assert _schema(repo, "job")["$id"] == ID.format(area="job", version="1.0.0")
