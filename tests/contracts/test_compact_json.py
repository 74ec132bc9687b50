"""``codegen.bundle.compact_json``: the readable JSON of long examples (schema sources, reference
pages, typed TypeScript examples) is the same JSON, kept to the line width."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from runtime.contracts import contract_definitions, dereferenced_schema

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.append(str(_REPO_ROOT))

from codegen.bundle import compact_json  # noqa: E402

EXAMPLES: list[Any] = [
    dereferenced_schema(area, name)["examples"][0] for area, name in contract_definitions()
]


def test_compact_json_parses_back_to_the_same_value() -> None:
    for example in EXAMPLES:
        assert json.loads(compact_json(example, 8)) == example


def test_compact_json_keeps_structure_lines_within_the_width() -> None:
    for example in EXAMPLES:
        # The first line continues the caller's line (indented 8); the others carry their indent.
        first, *rest = compact_json(example, 8).splitlines()
        for line in [" " * 8 + first, *rest]:
            if '": "' not in line:  # a long string value cannot be broken
                assert len(line) <= 100, line


def test_compact_json_packs_long_scalar_arrays_several_to_a_line() -> None:
    text = compact_json({"beats": [round(0.5 * i, 1) for i in range(100)]})
    assert len(text.splitlines()) < 15


def test_compact_json_keeps_short_objects_on_one_line() -> None:
    assert compact_json({"a": [1, 2], "b": {"c": None}}) == '{"a": [1, 2], "b": {"c": null}}'
