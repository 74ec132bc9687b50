"""The generation pipeline: every artefact derived from ``schemas/``, written or checked.

The schema lint (:mod:`codegen.lint`) runs first: a schema with findings never reaches a
generator. Each step then returns ``{relative path: text}``. ``generate`` writes them and removes
stale files from the folders the pipeline owns; ``check`` compares them with the working tree and
fails on any difference, so committed artefacts can never drift from the schemas, and applies the
hand-written SQL to the generated DDL on a scratch PostgreSQL (:mod:`codegen.sqlcheck`).

Exit statuses: 0 success; 1 a failing check (drift, hand-written SQL broken by the DDL, a schema
change that needs a hand-written migration); 2 invalid input or a check that cannot run (lint
findings, a generator refusing the schemas, PostgreSQL unreachable). No error prints a traceback
(set ``CODEGEN_TRACEBACK=1`` to see one).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from codegen.batch_sql import generate_batch_sql
from codegen.bundle import generate_bundles
from codegen.docs import generate_docs
from codegen.lint import Finding, lint_folder, render
from codegen.migrations import UnsafeMigrationError, generate_migrations
from codegen.package_data import generate_package_data
from codegen.pydantic_models import generate_models
from codegen.schemas import SchemaSet, load_schema_set
from codegen.sql import generate_sql
from codegen.sqlcheck import SqlCheckUnavailable, SqlProblem, check_handwritten_sql
from codegen.typescript import generate_typescript

__all__ = ["OWNED", "STEPS", "Failure", "build", "check", "generate", "lint"]

Step = Callable[[SchemaSet], dict[str, str]]

#: Generation steps, in order.
STEPS: list[Step] = [
    generate_models,
    generate_sql,
    generate_batch_sql,
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


class Failure(Exception):
    """Generation stopped: what to print and the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def lint(root: Path) -> list[Finding]:
    """The lint's findings for ``<root>/schemas``."""
    return lint_folder(root / "schemas", "schemas")


def _run_step(step: Step, schemas: SchemaSet) -> dict[str, str]:
    name = step.__name__.removeprefix("generate_")
    try:
        return step(schemas)
    except UnsafeMigrationError as exc:
        raise Failure(f"generate: {exc}", 1) from exc
    except Exception as exc:  # any generator's failure becomes one message, not a traceback
        if os.environ.get("CODEGEN_TRACEBACK"):
            traceback.print_exc()
        raise Failure(
            f"generate: the {name} step failed: {type(exc).__name__}: {exc}\n"
            "    (the schemas passed the lint: if the message is about a schema, the lint misses "
            "a rule; set CODEGEN_TRACEBACK=1 for the traceback)",
            2,
        ) from exc


def build(root: Path, *, linted: bool = False) -> dict[str, str]:
    """Lint the schemas under ``root`` (unless ``linted``) and run every step.

    Raises:
        Failure: The lint found problems (status 2) or a step failed.
    """
    findings = [] if linted else lint(root)
    if findings:
        raise Failure(render(findings), 2)
    schemas = load_schema_set(root / "schemas")
    outputs: dict[str, str] = {}
    # The steps are independent; in threads, the TypeScript compiler (a node process) runs while
    # Python generates the models. Results are merged in step order.
    with ThreadPoolExecutor(max_workers=len(STEPS)) as pool:
        futures = [pool.submit(_run_step, step, schemas) for step in STEPS]
        for future in futures:
            outputs.update(future.result())
    return dict(sorted(outputs.items()))


def _owned_files(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, pattern in OWNED:
        for path in (root / folder).glob(pattern):
            if path.is_file():
                found.add(path.relative_to(root).as_posix())
    return found


def _differs(root: Path, relative: str, text: str) -> bool:
    path = root / relative
    return not path.exists() or path.read_text(encoding="utf-8") != text


def _guard(action: Callable[[], int]) -> int:
    try:
        return action()
    except Failure as failure:
        print(failure.message, file=sys.stderr)
        return failure.status


def generate(root: Path) -> int:
    """Write every artefact under ``root``; return the exit status."""

    def run() -> int:
        outputs = build(root)
        written = [r for r, text in outputs.items() if _differs(root, r, text)]
        for relative in written:
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(outputs[relative], encoding="utf-8")
            print(f"wrote {relative}")
        stale = sorted(_owned_files(root) - set(outputs))
        for relative in stale:
            (root / relative).unlink()
            print(f"removed {relative} (no longer generated)")
        unchanged = len(outputs) - len(written)
        print(
            f"generate: {len(outputs)} generated files: {len(written)} written, "
            f"{len(stale)} removed, {unchanged} unchanged"
        )
        return 0

    return _guard(run)


def _sql_check(root: Path) -> list[SqlProblem]:
    schemas = load_schema_set(root / "schemas")
    return check_handwritten_sql(root, {**generate_sql(schemas), **generate_batch_sql(schemas)})


def check(root: Path, *, database: bool = True) -> int:
    """Fail when a committed artefact differs from the schemas' or hand-written SQL is broken.

    Args:
        root: The repository root.
        database: Check the hand-written SQL on a scratch PostgreSQL (``--no-db`` skips it,
            loudly).
    """

    def run() -> int:
        findings = lint(root)
        if findings:
            raise Failure(render(findings), 2)
        with ThreadPoolExecutor(max_workers=1) as pool:
            sql: Future[list[SqlProblem]] | None = (
                pool.submit(_sql_check, root) if database else None
            )
            outputs = build(root, linted=True)
            problems = _sql_result(sql)
        differ = [r for r, text in outputs.items() if _differs(root, r, text)]
        stale = sorted(_owned_files(root) - set(outputs))
        for relative in differ:
            print(f"out of date: {relative}", file=sys.stderr)
        for relative in stale:
            print(f"not generated (stale): {relative}", file=sys.stderr)
        for problem in problems:
            print(problem.render(), file=sys.stderr)
        summary = (
            f"check: {len(outputs)} generated files: {len(differ)} out of date, "
            f"{len(stale)} stale, {len(outputs) - len(differ)} up to date"
        )
        if differ or stale:
            print(summary, file=sys.stderr)
            print("run `bash tools/nox.sh -s generate` and commit the result", file=sys.stderr)
        if problems:
            print(
                f"check: {len(problems)} problem(s) in hand-written SQL against the generated DDL",
                file=sys.stderr,
            )
        if differ or stale or problems:
            return 1
        print(f"{summary}; schemas lint-clean; hand-written SQL ", end="")
        print("applies and checks clean on PostgreSQL" if database else "NOT CHECKED (--no-db)")
        return 0

    return _guard(run)


def _sql_result(future: Future[list[SqlProblem]] | None) -> list[SqlProblem]:
    if future is None:
        print(
            "check: SKIPPED the hand-written SQL check (--no-db): a rename or drop that breaks "
            "a function in sql/handwritten/ is NOT caught",
            file=sys.stderr,
        )
        return []
    try:
        return future.result()
    except SqlCheckUnavailable as exc:
        raise Failure(
            f"check: cannot check the hand-written SQL: {exc}\n"
            "    start PostgreSQL (bash tools/ensure-services.sh), point "
            "VIDEOGEN_CHECK_PG_DSN at a server, or pass --no-db to skip this check",
            2,
        ) from exc
