"""Random edits of the real schemas never crash the lint (no exception, no VG000 finding).

Hypothesis picks a schema object anywhere in the shipped files and replaces, adds, renames or
deletes one of its keys with an arbitrary JSON value; the lint must answer with findings (or
none), never with a crash. Bounded: ``MAX_EXAMPLES`` edits, no deadline (CPU shared).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen.lint import lint_folder
from codegen.lint._walk import nodes

MAX_EXAMPLES = 60
DOCS = {
    entry.name: json.loads(entry.read_text(encoding="utf-8"))
    for entry in (Path(__file__).resolve().parents[3] / "schemas").iterdir()
    if entry.name.endswith(".schema.json")
}
TARGETS = [(name, node.tokens) for name, doc in DOCS.items() for node in nodes(doc)]
KEYS = sorted({key for doc in DOCS.values() for node in nodes(doc) for key in node.schema})

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


def _node(doc: dict[str, Any], tokens: tuple[str | int, ...]) -> dict[str, Any]:
    node: Any = doc
    for token in tokens:
        node = node[token]
    assert isinstance(node, dict)
    return node


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    target=st.sampled_from(TARGETS),
    key=st.sampled_from(KEYS) | st.text(max_size=10),
    action=st.sampled_from(["set", "delete", "rename"]),
    value=json_values,
)
def test_random_edit_never_crashes_the_lint(
    tmp_path: Path, target: tuple[str, tuple[str | int, ...]], key: str, action: str, value: Any
) -> None:
    name, tokens = target
    docs = copy.deepcopy(DOCS)
    node = _node(docs[name], tokens)
    if action == "set":
        node[key] = value
    elif node:
        victim = sorted(node)[hash(key) % len(node)]
        moved = node.pop(victim)
        if action == "rename":
            node[key or "_"] = moved
    folder = tmp_path / "schemas"
    folder.mkdir(exist_ok=True)
    for file, document in docs.items():
        (folder / file).write_text(json.dumps(document), encoding="utf-8")
    findings = lint_folder(folder)
    assert [f for f in findings if f.rule == "VG000"] == []
