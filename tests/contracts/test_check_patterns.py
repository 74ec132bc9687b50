"""``nox -s check`` validates the schema examples with the same ECMA-262 pattern semantics as the
shipped validators (``runtime.contracts``): ``$`` matches only at the very end of the string."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jsonschema.validators import Draft202012Validator

from runtime.contracts import validator_for

# ``codegen`` is a development tool, not in the wheel: take it from the checkout (appended, so the
# installed ``runtime`` and ``generated`` keep precedence).
_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.append(str(_REPO_ROOT))

from codegen.schemas import load_schema_set  # noqa: E402

MONEY = "https://schemas.videogen.dev/common/1.0.0#/$defs/Money"


def _schemas_with_job_example(tmp_path: Path, **changes: Any) -> Path:
    folder = tmp_path / "schemas"
    folder.mkdir()
    for entry in (_REPO_ROOT / "schemas").iterdir():
        if entry.name.endswith(".schema.json"):
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / "job.schema.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["$defs"]["Job"]["examples"][0].update(changes)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return folder


def test_check_rejects_an_example_with_a_trailing_newline_in_a_pattern_field(
    tmp_path: Path,
) -> None:
    folder = _schemas_with_job_example(tmp_path, total_cost="3.42\n")
    plain = Draft202012Validator(
        {"$ref": MONEY}, registry=load_schema_set(_REPO_ROOT / "schemas").registry
    )
    assert plain.is_valid("3.42\n")
    errors = load_schema_set(folder).example_errors()
    assert len(errors) == 1
    assert "$defs/Job/examples/0.total_cost" in errors[0]


def test_check_and_shipped_validator_agree_on_every_pattern_field(tmp_path: Path) -> None:
    examples = {
        "total_cost": "3.42\n",
        "id": "550e8400-e29b-41d4-a716-446655440000\n",
        "current_stage": "video_generation\n",
        "created_at": "2025-11-14T10:30:00Z\n",
    }
    for field, value in examples.items():
        case = tmp_path / field
        case.mkdir()
        folder = _schemas_with_job_example(case, **{field: value})
        job = json.loads((folder / "job.schema.json").read_text(encoding="utf-8"))
        instance = job["$defs"]["Job"]["examples"][0]
        assert not validator_for("job", "Job").is_valid(instance), field
        assert load_schema_set(folder).example_errors(), field


def test_check_accepts_the_shipped_examples() -> None:
    assert load_schema_set(_REPO_ROOT / "schemas").example_errors() == []
