"""Make the repository's ``codegen`` package importable for these tests without shadowing anything.

``codegen`` is a development tool and is not in the wheel. The suite runs against the installed
wheel, so the repository root is *appended* to ``sys.path``: installed packages (``runtime``,
``generated``) keep precedence and only ``codegen``, found nowhere else, comes from the checkout.
The schemas and SQL these tests start from are read through ``runtime.resources`` (package data).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from runtime.resources import schema_dir

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.append(str(_REPO_ROOT))

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def temporary_database() -> Iterator[str]:
    """An empty database of its own, dropped on exit; yields its DSN."""
    name = f"vg_mig_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        info = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
        info["dbname"] = name
        yield psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def schema_root(tmp_path: Path) -> Path:
    """A repository-shaped folder holding a copy of the shipped schemas (``<root>/schemas``)."""
    target = tmp_path / "repo" / "schemas"
    target.mkdir(parents=True)
    for entry in schema_dir().iterdir():
        if entry.name.endswith(".schema.json"):
            (target / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "repo"
