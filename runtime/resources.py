"""Package data: the JSON Schemas and the SQL that ship with the library.

In an installed wheel the schemas live in ``generated/schemas/`` and the SQL in ``runtime/sql/``
(see ``[tool.hatch.build.targets.wheel.force-include]``); in a source checkout they are read from
the repository's ``schemas/`` and ``sql/`` folders.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = ["schema_dir", "load_schema", "schema_names", "sql_dir", "sql_scripts"]

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def schema_dir() -> Traversable:
    """Return the folder holding the ``*.schema.json`` files."""
    packaged = resources.files("generated") / "schemas"
    if packaged.is_dir():
        return packaged
    return _SOURCE_ROOT / "schemas"


def schema_names() -> list[str]:
    """Return the contract areas that have a schema file, sorted (``["audio", "common", ...]``)."""
    return sorted(
        entry.name.removesuffix(".schema.json")
        for entry in schema_dir().iterdir()
        if entry.name.endswith(".schema.json")
    )


@cache
def _load(name: str) -> str:
    return (schema_dir() / f"{name}.schema.json").read_text(encoding="utf-8")


def load_schema(name: str) -> dict[str, Any]:
    """Return a fresh copy of one schema document.

    Args:
        name: The contract area, such as ``"job"`` or ``"audio"``.

    Raises:
        FileNotFoundError: No schema of that name ships with the package.
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
