"""Make the repository's ``codegen`` package importable for these tests without shadowing anything.

``codegen`` is a development tool and is not in the wheel. The suite runs against the installed
wheel, so the repository root is *appended* to ``sys.path``: installed packages (``runtime``,
``generated``) keep precedence and only ``codegen``, found nowhere else, comes from the checkout.
The schemas these tests start from are the repository's ``schemas/`` (the wheel ships bundles only).
Helpers shared by the test modules live in ``codegen_support`` (never import from ``conftest``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.append(str(_REPO_ROOT))


@pytest.fixture
def schema_root(tmp_path: Path) -> Path:
    """A repository-shaped folder holding a copy of the repository's ``schemas/``."""
    target = tmp_path / "repo" / "schemas"
    target.mkdir(parents=True)
    for entry in (_REPO_ROOT / "schemas").iterdir():
        if entry.name.endswith(".schema.json"):
            (target / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "repo"
