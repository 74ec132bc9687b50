"""Package data of the wheel: the self-contained bundles per contract and their index.

The wheel ships ``generated/bundles/<Contract>.schema.json`` (the same bundles as the npm package,
from :func:`codegen.bundle.generate_bundles`) and ``generated/bundles/index.json``, which
:mod:`runtime.contracts` and the ``videogen-contracts`` command read::

    {"package_version": "1.0.0",
     "contracts": {"Job": {"area": "job", "id": "https://schemas.videogen.dev/job/1.0.0",
                           "version": "1.0.0", "bundle": "Job.schema.json"}, ...},
     "definitions": {"Money": {"area": "common", "bundle": "Job.schema.json"}, ...}}

``definitions`` maps every definition of every schema file to its file (area) and to one bundle
that holds it, so any definition (``Mood``, ``Money``) can be validated from a bundle. The source
files under ``schemas/`` are not shipped: they hold only ``$defs``, so a generic validator given
one as its root schema would accept anything.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from codegen.bundle import BUNDLE_DIR, dumps, generate_bundles
from codegen.schemas import SchemaSet

__all__ = ["PACKAGE_BUNDLE_DIR", "generate_package_data", "package_version", "schema_version"]

#: Where the wheel's bundles are written (inside the ``generated`` package).
PACKAGE_BUNDLE_DIR = "generated/bundles"


def package_version(schemas: SchemaSet) -> str:
    """Return ``[project] version`` of the ``pyproject.toml`` next to the schemas' folder.

    The release command (:mod:`codegen.release`) sets it; everything generated reads it here.
    """
    root = schemas.docs[0].path.resolve().parent.parent
    project: dict[str, Any] = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    version: str = project["project"]["version"]
    return version


def schema_version(schema_id: str) -> str:
    """Return the ``<major>.<minor>.<patch>`` at the end of a schema ``$id``."""
    return schema_id.rstrip("/").rsplit("/", 1)[-1]


def generate_package_data(schemas: SchemaSet) -> dict[str, str]:
    """Return the wheel's bundles and ``index.json`` as ``{relative path: text}``."""
    bundles = {
        path.removeprefix(f"{BUNDLE_DIR}/"): text
        for path, text in generate_bundles(schemas).items()
        if path.startswith(f"{BUNDLE_DIR}/")
    }
    contracts: dict[str, dict[str, str]] = {}
    for doc in schemas.docs:
        for name, _ in doc.contracts():
            contracts[name] = {
                "area": doc.area,
                "id": doc.id,
                "version": schema_version(doc.id),
                "bundle": f"{name}.schema.json",
            }
    holders = {name: entry["bundle"] for name, entry in contracts.items()}
    for file_name in sorted(bundles):
        for definition in json.loads(bundles[file_name]).get("$defs", {}):
            holders.setdefault(definition, file_name)
    definitions = {
        name: {"area": doc.area, "bundle": holders[name]}
        for doc in schemas.docs
        for name in doc.definitions()
        if name in holders
    }
    index = {
        "package_version": package_version(schemas),
        "contracts": contracts,
        "definitions": definitions,
    }
    outputs = {f"{PACKAGE_BUNDLE_DIR}/{name}": text for name, text in bundles.items()}
    outputs[f"{PACKAGE_BUNDLE_DIR}/index.json"] = dumps(index)
    return outputs
