"""Cross-language agreement: Ajv (Node), ``jsonschema`` and the generated Pydantic models.

Every ``examples`` instance (expected valid) and every entry of the invalid-instance corpus
``tests/contracts/invalid_corpus.json`` (expected invalid) is validated by

* Ajv 8 (draft 2020-12, strict mode, ajv-formats) against the source schema files (our ``x-``
  keywords registered), and against the bundled schema of the contract (``ts/schemas/``): every
  bundle in one Ajv instance with no keyword registered, as npm consumers load them. Through
  ``ts/scripts/agreement.mjs``;
* the ``jsonschema`` validator Python consumers use, ``runtime.contracts.validator_for`` (the
  shipped schemas, ECMA-262 ``pattern`` semantics, format checking);
* the generated Pydantic type, through ``TypeAdapter(...).validate_json``: the model of an object
  definition, and for a scalar definition with examples (``Money``) the type its
  ``x-python-type`` names (or the generated type of the same name). A scalar definition with
  neither has no Pydantic verdict; the other verdicts must still agree.

Every definition with ``examples`` takes part, objects and scalars alike. All verdicts must be
equal, and equal to the expectation. ``python -m codegen agreement``
prints every disagreement and a closing ``N passed, N failed`` line; it exits 1 on any failure.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from codegen.bundle import BUNDLE_DIR
from codegen.schemas import SchemaSet, load_schema_set
from codegen.typescript import TS_DIR, node_modules_problem

__all__ = ["CORPUS", "cases", "main", "python_type", "python_verdicts"]

CORPUS = "tests/contracts/invalid_corpus.json"


def cases(root: Path, schemas: SchemaSet) -> list[dict[str, Any]]:
    """Every instance to check.

    The examples of every definition, objects and scalars alike (expected valid), and the corpus
    (expected invalid).
    """
    found: list[dict[str, Any]] = []
    for doc in schemas.docs:
        for name, schema in doc.definitions().items():
            for index, example in enumerate(schema.get("examples", [])):
                found.append(
                    {
                        "id": f"{doc.area}#/$defs/{name}/examples/{index}",
                        "area": doc.area,
                        "definition": name,
                        "instance": example,
                        "expected": True,
                    }
                )
    corpus_path = root / CORPUS
    corpus: list[dict[str, Any]] = (
        json.loads(corpus_path.read_text(encoding="utf-8")) if corpus_path.exists() else []
    )
    for index, entry in enumerate(corpus):
        found.append(
            {
                "id": f"{CORPUS}[{index}] {entry['area']}/{entry['definition']}: {entry['why']}",
                "area": entry["area"],
                "definition": entry["definition"],
                "instance": entry["instance"],
                "expected": False,
            }
        )
    return found


def python_type(schemas: SchemaSet, area: str, definition: str) -> Any | None:
    """The generated Python type of a definition, or None when there is none.

    An object definition has its model in ``generated``; a scalar one has the type its
    ``x-python-type`` names (``generated._types.Money``) or, failing that, a generated type of the
    same name.
    """
    schema = schemas.by_area[area].definitions()[definition]
    custom = schema.get("x-python-type")
    if isinstance(custom, str):
        module, _, name = custom.rpartition(".")
        return getattr(importlib.import_module(module), name)
    return getattr(importlib.import_module("generated"), definition, None)


def python_verdicts(schemas: SchemaSet, case: dict[str, Any]) -> dict[str, bool | None]:
    """The ``jsonschema`` and Pydantic verdicts of one case (Pydantic: None without a type)."""
    target = python_type(schemas, case["area"], case["definition"])
    pydantic_ok: bool | None = None
    if target is not None:
        try:
            TypeAdapter(target).validate_json(json.dumps(case["instance"]))
            pydantic_ok = True
        except ValidationError:
            pydantic_ok = False
    contracts = importlib.import_module("runtime.contracts")
    validator = contracts.validator_for(case["area"], case["definition"])
    jsonschema_ok = bool(validator.is_valid(case["instance"]))
    return {"jsonschema": jsonschema_ok, "pydantic": pydantic_ok}


def _ajv(root: Path, checks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    problem = node_modules_problem(root)
    if problem is not None:
        raise RuntimeError(problem)
    from codegen.lint import EXTENSIONS

    request = {
        # Our x- keywords, from the lint's one registry, so Ajv's strict mode knows them.
        "keywords": sorted(EXTENSIONS),
        "schemasDir": str(root / "schemas"),
        "bundleDir": str(root / BUNDLE_DIR),
        "cases": [{k: c[k] for k in ("id", "area", "definition", "instance")} for c in checks],
    }
    result = subprocess.run(
        ["node", "scripts/agreement.mjs"],
        cwd=root / TS_DIR,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ts/scripts/agreement.mjs failed:\n{result.stderr}")
    return {r["id"]: r for r in json.loads(result.stdout)}


def main(root: Path) -> int:
    """Run the agreement check for the repository at ``root``; return the exit status."""
    sys.path.insert(0, str(root))
    schemas = load_schema_set(root / "schemas")
    checks = cases(root, schemas)
    ajv = _ajv(root, checks)
    passed = failed = 0
    for case in checks:
        verdicts: dict[str, bool | None] = {
            "ajv": ajv[case["id"]]["ajv"],
            "ajv-bundle": ajv[case["id"]]["ajvBundle"],
            **python_verdicts(schemas, case),
        }
        given = {k: v for k, v in verdicts.items() if v is not None}
        if all(v == case["expected"] for v in given.values()):
            passed += 1
            continue
        failed += 1
        expected = "valid" if case["expected"] else "invalid"
        print(f"DISAGREE {case['id']} (expected {expected}): {given}")
        for error in ajv[case["id"]]["errors"][:5]:
            print(f"    ajv: {error}")
    examples = sum(1 for c in checks if c["expected"])
    scalars = sum(
        1
        for c in checks
        if "properties" not in schemas.by_area[c["area"]].definitions()[c["definition"]]
    )
    print(
        f"agreement: {examples} examples and {len(checks) - examples} corpus instances "
        f"({scalars} of scalar definitions), each checked by Ajv (sources, and the bundle of a "
        "top-level contract), jsonschema and Pydantic"
    )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0
