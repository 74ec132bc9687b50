"""The generation pipeline: every artefact derived from ``schemas/``, written or checked.

Each step returns ``{relative path: text}``. ``generate`` writes them and removes stale files from
the folders the pipeline owns; ``check`` compares them with the working tree and fails on any
difference, so committed artefacts can never drift from the schemas.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from codegen.bundle import generate_bundles
from codegen.docs import generate_docs
from codegen.migrations import UnsafeMigrationError, generate_migrations
from codegen.package_data import generate_package_data
from codegen.pydantic_models import generate_models
from codegen.schemas import SchemaSet, load_schema_set
from codegen.sql import generate_sql
from codegen.typescript import generate_typescript

__all__ = ["OWNED", "STEPS", "build", "check", "generate"]

Step = Callable[[SchemaSet], dict[str, str]]

#: Generation steps, in order.
STEPS: list[Step] = [
    generate_models,
    generate_sql,
    generate_migrations,
    generate_bundles,
    generate_package_data,
    generate_typescript,
    generate_docs,
]

#: Folders whose every file is generated (stale files there are deleted), with the glob they own.
OWNED: list[tuple[str, str]] = [
    ("generated", "*.py"),
    ("generated", "py.typed"),
    ("sql/generated", "*.sql"),
    ("ts/schemas", "*.json"),
    ("generated/bundles", "*.json"),
    ("ts/src", "*.ts"),
    ("ts/test", "examples.ts"),
    ("docs/contracts/reference", "*.md"),
]


def _validate(schemas: SchemaSet) -> list[str]:
    return schemas.meta_errors() + schemas.example_errors()


def build(root: Path) -> dict[str, str]:
    """Validate the schemas under ``root`` and run every step.

    Raises:
        SystemExit: A schema or an example is invalid (every problem is printed first).
    """
    schemas = load_schema_set(root / "schemas")
    problems = _validate(schemas)
    if problems:
        for problem in problems:
            print(f"schema error: {problem}", file=sys.stderr)
        raise SystemExit(1)
    outputs: dict[str, str] = {}
    for step in STEPS:
        try:
            outputs.update(step(schemas))
        except UnsafeMigrationError as exc:
            print(f"generate: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc
    return dict(sorted(outputs.items()))


def _owned_files(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, pattern in OWNED:
        for path in (root / folder).glob(pattern):
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
    return found


def generate(root: Path) -> int:
    """Write every artefact under ``root``; return 0."""
    outputs = build(root)
    for relative, text in outputs.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {relative}")
    for stale in sorted(_owned_files(root) - set(outputs)):
        (root / stale).unlink()
        print(f"removed stale {stale}")
    print(f"generate: {len(outputs)} files up to date")
    return 0


def check(root: Path) -> int:
    """Fail (return 1) when any committed artefact differs from what the schemas generate."""
    outputs = build(root)
    drift = [
        relative
        for relative, text in outputs.items()
        if not (root / relative).exists() or (root / relative).read_text(encoding="utf-8") != text
    ]
    drift += sorted(_owned_files(root) - set(outputs))
    if drift:
        for relative in drift:
            print(f"out of date: {relative}", file=sys.stderr)
        print(
            "generated files are stale: run `nox -s generate` and commit the result",
            file=sys.stderr,
        )
        return 1
    print(f"check: schemas valid, examples valid, {len(outputs)} generated files up to date")
    return 0
