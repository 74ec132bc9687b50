"""A scratch copy of the repository (schemas, SQL, generated files, ts/, docs) to regenerate in."""

from __future__ import annotations

import shutil
from pathlib import Path

from lint_support import REPO_ROOT

_PARTS = ("schemas", "sql", "generated", "docs", "ts", "tests/support")
_FILES = ("pyproject.toml",)  # generated.__version__ is the project's version


def node_modules_missing() -> bool:
    """True when ts/node_modules is not installed (``bash tools/ensure-node.sh`` installs it)."""
    return not (REPO_ROOT / "ts" / "node_modules" / "json-schema-to-typescript").is_dir()


def copy_repository(target: Path) -> Path:
    """Copy what generation reads and writes into ``target``; ts/node_modules is linked."""
    for part in _PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(
                source, target / part, ignore=shutil.ignore_patterns("node_modules", "__pycache__")
            )
    for name in _FILES:
        shutil.copy2(REPO_ROOT / name, target / name)
    modules = REPO_ROOT / "ts" / "node_modules"
    if modules.is_dir():
        (target / "ts" / "node_modules").symlink_to(modules, target_is_directory=True)
    return target


def function_scripts(root: Path) -> list[tuple[str, str]]:
    """What a deployment re-applies after the migrations: the generated functions
    (``sql/generated/`` without the full DDL) and ``sql/handwritten/``, in sql_scripts() order."""
    paths = sorted(p for p in (root / "sql" / "generated").glob("*.sql") if p.name != "schema.sql")
    paths += sorted((root / "sql" / "handwritten").glob("*.sql"))
    return [(p.relative_to(root).as_posix(), p.read_text(encoding="utf-8")) for p in paths]
