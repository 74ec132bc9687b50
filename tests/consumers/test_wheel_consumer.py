"""The wheel as a consumer gets it: slim base install, extras, CLI, bundles, metadata."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from consumer_support import Consumer, Dist

pytestmark = pytest.mark.slow

CLIENTS = {
    "runtime.database": "db",
    "runtime.postgres": "db",
    "runtime.cost_tracking": "db",
    "runtime.cache": "cache",
    "runtime.redis_client": "cache",
    "runtime.storage": "storage",
    "runtime.storage_tus": "storage",
    "runtime._http": "storage",  # httpx comes with [db] or [storage]; the message names both
}
HEAVY = ("supabase", "psycopg", "redis", "mutagen", "cryptography", "httpx", "rfc3987-syntax")


def _record(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        lines = archive.read(record).decode().splitlines()
    return {line.split(",")[0]: line.split(",")[1] for line in lines if not line.startswith(record)}


def _metadata(wheel: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        message = Parser().parsestr(archive.read(name).decode())
    return list(message.items())


def _bundle_path(consumer: Consumer, contract: str) -> Path:
    result = consumer.python_code(
        f"from runtime.resources import bundle_dir; print(bundle_dir() / '{contract}.schema.json')"
    )
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


def _example(consumer: Consumer, contract: str) -> dict[str, object]:
    bundle = json.loads(_bundle_path(consumer, contract).read_text())
    example: dict[str, object] = bundle["$defs"][contract]["examples"][0]
    return example


def test_the_sdist_builds_the_same_wheel_as_the_tree(dist: Dist) -> None:
    assert _record(dist.wheel) == _record(dist.tree_wheel)


def test_the_wheel_holds_no_development_file(dist: Dist) -> None:
    names = list(_record(dist.wheel))
    assert not [n for n in names if n.endswith(("allowed-breaks.json", "snapshot.json"))]
    assert not [n for n in names if n.startswith(("codegen/", "tests/", "schemas/"))]
    schemas = [n for n in names if n.endswith(".schema.json")]
    assert schemas
    assert all(n.startswith("generated/bundles/") for n in schemas), schemas


def test_every_requirement_has_a_lower_and_an_upper_bound(dist: Dist) -> None:
    requirements = [v for k, v in _metadata(dist.wheel) if k == "Requires-Dist"]
    assert requirements
    for requirement in requirements:
        if "videogen-shared[" in requirement:
            continue  # the [all] and [test] extras name the other extras
        assert ">=" in requirement, requirement
        assert "<" in requirement.replace("<=", ""), requirement


def test_metadata_has_the_client_extras_classifiers_and_urls(dist: Dist) -> None:
    metadata = _metadata(dist.wheel)
    extras = {v for k, v in metadata if k == "Provides-Extra"}
    assert {"db", "cache", "storage", "audio", "all"} <= extras
    assert "codegen" not in extras
    assert any(k == "Classifier" and "Typing :: Typed" in v for k, v in metadata)
    assert any(k == "Project-URL" and v.startswith("Changelog") for k, v in metadata)


def test_the_base_install_has_no_client_library_and_no_format_grammar(base: Consumer) -> None:
    result = base.run(base.python, "-m", "pip", "list", "--format=json")
    installed = {p["name"].lower() for p in json.loads(result.stdout)}
    assert "videogen-shared" in installed
    assert not installed & set(HEAVY), installed & set(HEAVY)


def test_the_base_install_uses_models_with_their_contract_and_version(base: Consumer) -> None:
    code = """
import json, generated
from generated import AudioAnalysis, Job
from runtime.resources import bundle_index, load_bundle
index = bundle_index()
assert generated.__version__ == index["package_version"], generated.__version__
job = Job.model_validate(load_bundle("Job")["$defs"]["Job"]["examples"][0])
assert Job.SCHEMA_ID == index["contracts"]["Job"]["id"], Job.SCHEMA_ID
schema = AudioAnalysis.model_json_schema()
assert schema["x-schema-id"] == AudioAnalysis.SCHEMA_ID
assert schema["x-schema-version"] == index["contracts"]["AudioAnalysis"]["version"]
print(json.loads(job.model_dump_json())["id"])
"""
    result = base.python_code(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_the_base_install_validates_with_the_bundles_without_the_grammar(base: Consumer) -> None:
    code = """
import sys
from runtime.contracts import validator_for, bundle_validator
from runtime.resources import load_bundle
example = load_bundle("Job")["$defs"]["Job"]["examples"][0]
assert validator_for("job", "Job").is_valid(example)
assert not bundle_validator("Job").is_valid({"garbage": 1})
assert not bundle_validator("Job").is_valid({**example, "created_at": "2025-13-40T10:00:00Z"})
assert not bundle_validator("Job").is_valid({**example, "id": "not-a-uuid"})
assert "rfc3987_syntax" not in sys.modules
"""
    result = base.python_code(code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("module", "extra"), sorted(CLIENTS.items()))
def test_a_client_without_its_extra_raises_import_error_naming_it(
    base: Consumer, module: str, extra: str
) -> None:
    result = base.python_code(
        f"""
try:
    import {module}
except ImportError as exc:
    print(exc)
else:
    raise SystemExit("imported without its extra")
"""
    )
    assert result.returncode == 0, result.stderr
    assert f"[{extra}]" in result.stdout
    assert f"pip install 'videogen-shared[{extra}]'" in result.stdout


def test_audio_validation_works_on_the_base_install(base: Consumer) -> None:
    song = base.workdir / "tone.wav"
    made = subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            song,
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    result = base.python_code(
        f"""
from runtime.validation import validate_audio_file, validate_prompt
validate_prompt("A neon-lit city at night, a lone dancer moving through the rain")
info = validate_audio_file({str(song)!r})
print(info.format, round(info.duration_seconds, 2))
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wav", "1.0"]


def test_cli_lists_the_contracts_with_their_versions(base: Consumer) -> None:
    result = base.run(base.bin("videogen-contracts"), "list")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0].split()
    assert first[0] == "AudioAnalysis"
    assert first[3].endswith(f"/audio/{first[1]}")


def test_cli_validates_a_valid_file_with_exit_0(base: Consumer) -> None:
    path = base.workdir / "job.json"
    path.write_text(json.dumps(_example(base, "Job")))
    result = base.run(base.bin("videogen-contracts"), "validate", "Job", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_prints_json_pointers_and_exits_1_for_an_invalid_document(base: Consumer) -> None:
    example = {**_example(base, "Job"), "progress": 500, "extra": True}
    command = (base.bin("videogen-contracts"), "validate", "Job", "-")
    result = base.run(*command, stdin=json.dumps(example))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("/progress: 500 is greater than") for line in lines), lines
    assert any(line.startswith("(root): Additional properties") for line in lines), lines


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["validate", "NoSuchContract", "-"], "{}", "no contract"),
        (["validate", "Job", "-"], "{not json", "is not JSON"),
        (["validate", "Job", "missing.json"], None, "cannot read"),
        (["schema", "NoSuchContract"], None, "no contract"),
    ],
)
def test_cli_exits_2_for_unusable_input(
    base: Consumer, args: list[str], stdin: str | None, message: str
) -> None:
    result = base.run(base.bin("videogen-contracts"), *args, stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr


def test_cli_schema_prints_the_shipped_bundle(base: Consumer) -> None:
    result = base.run(base.bin("videogen-contracts"), "schema", "ScenePlan")
    assert result.returncode == 0
    assert json.loads(result.stdout) == json.loads(_bundle_path(base, "ScenePlan").read_text())


def _check_jsonschema(schema: Path, instance: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(schema), str(instance)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_jsonschema_accepts_every_example_with_the_shipped_bundles(base: Consumer) -> None:
    listed = base.run(base.bin("videogen-contracts"), "list").stdout.splitlines()
    for contract in (line.split()[0] for line in listed):
        instance = base.workdir / f"{contract}.json"
        instance.write_text(json.dumps(_example(base, contract)))
        result = _check_jsonschema(_bundle_path(base, contract), instance)
        assert result.returncode == 0, f"{contract}: {result.stdout}"


def test_check_jsonschema_refuses_garbage_with_every_shipped_bundle(base: Consumer) -> None:
    garbage = base.workdir / "garbage.json"
    garbage.write_text(json.dumps({"garbage": 1}))
    listed = base.run(base.bin("videogen-contracts"), "list").stdout.splitlines()
    for contract in (line.split()[0] for line in listed):
        result = _check_jsonschema(_bundle_path(base, contract), garbage)
        assert result.returncode == 1, f"{contract} accepted garbage: {result.stdout}"


def test_the_all_extra_imports_every_client(full: Consumer) -> None:
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in CLIENTS)
    result = full.python_code(code)
    assert result.returncode == 0, result.stderr


def test_one_extra_alone_is_enough_for_its_client(cache_only: Consumer) -> None:
    result = cache_only.python_code("import runtime.redis_client")
    assert result.returncode == 0, result.stderr
