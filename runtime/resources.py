"""Package data: the contract bundles and the SQL that ship with the library.

The wheel ships one self-contained JSON Schema per top-level contract in ``generated/bundles/``
(:func:`load_bundle`, with ``index.json``: :func:`bundle_index`) and the DDL in ``runtime/sql/``
(see ``[tool.hatch.build.targets.wheel.force-include]``). The source files of ``schemas/`` hold
only ``$defs`` (a generic validator given one as its root would accept anything), so they are
not shipped: :func:`load_schema` reads them from a source checkout only.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = [
    "bundle_dir",
    "bundle_index",
    "load_bundle",
    "load_schema",
    "schema_dir",
    "schema_names",
    "sql_dir",
    "sql_scripts",
]

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def bundle_dir() -> Traversable:
    """Return the folder holding ``<Contract>.schema.json`` bundles and ``index.json``."""
    return resources.files("generated") / "bundles"


@cache
def _bundle_text(file_name: str) -> str:
    return (bundle_dir() / file_name).read_text(encoding="utf-8")


def bundle_index() -> dict[str, Any]:
    """Return a fresh copy of ``index.json``: contracts (area, ``$id``, version) and definitions.

    Returns:
        ``{"package_version", "contracts": {name: {"area", "id", "version", "bundle"}},
        "definitions": {name: {"area", "bundle"}}}``.
    """
    index: dict[str, Any] = json.loads(_bundle_text("index.json"))
    return index


def load_bundle(contract: str) -> dict[str, Any]:
    """Return a fresh copy of the self-contained schema of one top-level contract.

    Args:
        contract: A top-level contract such as ``"Job"`` or ``"AudioAnalysis"``.

    Raises:
        FileNotFoundError: No bundle of that name ships with the package.
    """
    if not contract.isidentifier():
        raise FileNotFoundError(f"no bundle named {contract!r}")
    document: dict[str, Any] = json.loads(_bundle_text(f"{contract}.schema.json"))
    return document


def schema_dir() -> Traversable:
    """Return the repository's ``schemas/`` folder (source checkouts only; not in the wheel)."""
    return _SOURCE_ROOT / "schemas"


def schema_names() -> list[str]:
    """Return the contract areas that have a schema file, sorted (``["audio", "common", ...]``).

    Raises:
        FileNotFoundError: Not a source checkout (the wheel ships bundles, not source schemas).
    """
    folder = schema_dir()
    if not folder.is_dir():
        raise FileNotFoundError(_NO_SOURCES)
    return sorted(
        entry.name.removesuffix(".schema.json")
        for entry in folder.iterdir()
        if entry.name.endswith(".schema.json")
    )


_NO_SOURCES = (
    "the source schemas are not shipped in the wheel: use the self-contained bundles "
    "(runtime.resources.load_bundle, runtime.contracts.validator_for, `videogen-contracts schema`)"
)


@cache
def _load(name: str) -> str:
    path = schema_dir() / f"{name}.schema.json"
    if not schema_dir().is_dir():
        raise FileNotFoundError(_NO_SOURCES)
    return path.read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """Return a fresh copy of one source schema document (source checkouts only).

    Args:
        name: The contract area, such as ``"job"`` or ``"audio"``.

    Raises:
        FileNotFoundError: No schema of that name, or not a source checkout.
    """
    document: dict[str, Any] = json.loads(_load(name))
    return document


def sql_dir() -> Traversable:
    """Return the folder holding ``generated/`` and ``handwritten/`` SQL."""
    packaged = resources.files("runtime") / "sql"
    if packaged.is_dir():
        return packaged
    return _SOURCE_ROOT / "sql"


def sql_scripts() -> list[tuple[str, str]]:
    """Return ``(name, text)`` of every SQL script in the order it must be applied.

    Generated DDL comes first (``generated/*.sql``, sorted), then the hand-written functions and
    policies (``handwritten/*.sql``, sorted). Migrations are not included.
    """
    scripts: list[tuple[str, str]] = []
    for part in ("generated", "handwritten"):
        folder = sql_dir() / part
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".sql"):
                scripts.append((f"{part}/{entry.name}", entry.read_text(encoding="utf-8")))
    return scripts
