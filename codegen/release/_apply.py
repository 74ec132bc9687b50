"""Carry out a release plan in a repository (or print it, with ``--dry-run``)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from codegen.release import _changelog, snapshot
from codegen.release._plan import Level, Plan, bump, plan_release
from codegen.schemas import load_schema_set

__all__ = ["ReleaseError", "main", "release"]

ROOT = Path(__file__).resolve().parents[2]
ALLOW_LIST = "schemas/allowed-breaks.json"
_PROJECT_VERSION = re.compile(r'(?m)^version = "[^"]*"$')
_NPM_VERSION = re.compile(r'(?m)^  "version": "[^"]*"')


class ReleaseError(Exception):
    """The repository is not in a state a release can be made from."""


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def _allowed(root: Path) -> list[dict[str, str]]:
    path = root / ALLOW_LIST
    entries: list[dict[str, str]] = json.loads(path.read_text("utf-8")) if path.exists() else []
    return entries


#: What the wheel and the npm package are built from, besides the schemas.
SHIPPED = ("runtime", "generated", "sql/generated", "sql/handwritten", "sql/migrations", "ts/src")


def _library_changes(root: Path, tag: str) -> list[str]:
    """Shipped files changed since the release ``tag`` (or the commit that recorded it).

    Raises:
        ReleaseError: Neither the tag nor the commit of ``releases/latest/release.json`` is in
            this clone's history (a shallow clone): fetch the history and tags.
    """
    base = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{tag}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not base:
        base = _git(root, "log", "-1", "--format=%H", "--", snapshot.RELEASE_FILE).strip()
    if not base:
        raise ReleaseError(
            f"cannot find the commit of {tag} in this clone (shallow?): `git fetch --unshallow "
            "--tags` to tell whether the library changed since"
        )
    changed = _git(root, "diff", "--name-only", base, "HEAD", "--", *SHIPPED)
    return [line for line in changed.splitlines() if line]


def plan(root: Path) -> Plan:
    """Plan the release of the repository at ``root``.

    When no schema file moves but shipped library files changed since the last release, the
    release is a patch of the package (every contract keeps its version).
    """
    new = load_schema_set(root / "schemas")
    previous = snapshot.load_snapshot(root)
    migrations = snapshot.migration_files(root)
    result = plan_release(new, previous, migrations, _allowed(root))
    if result.previous is not None and not result.contracts_move:
        result.library_changes = _library_changes(root, result.previous.tag)
        if result.library_changes:
            result.level = Level.PATCH
            result.version = bump(result.previous.version, Level.PATCH)
    return result


def describe(result: Plan) -> str:
    """The plan, one line per schema file, as the command prints it."""
    previous = result.previous.tag if result.previous else "none (first release)"
    lines = [f"release: {result.tag} (previous release: {previous}, level: {result.level.name})"]
    for area in result.areas:
        if result.previous is None:
            lines.append(f"  {area.area}: {area.new}")
            continue
        old, new = area.old or "(new)", area.new or "(removed)"
        mark = "" if area.moves else "  unchanged"
        lines.append(f"  {area.area}: {old} -> {new} {area.level.name.lower()}{mark}".rstrip())
    for old, new in result.renames().items():
        lines.append(f"  $id and $refs: {old} -> {new}")
    return "\n".join(lines)


def _set_version(path: Path, pattern: re.Pattern[str], line: str) -> None:
    text = path.read_text(encoding="utf-8")
    updated, count = pattern.subn(line, text, count=1)
    if count != 1:
        raise ReleaseError(f"{path}: no version field to set")
    path.write_text(updated, encoding="utf-8")


def _rewrite_ids(root: Path, renames: dict[str, str]) -> None:
    for path in sorted((root / "schemas").glob("*.schema.json")):
        text = original = path.read_text(encoding="utf-8")
        for old, new in renames.items():
            text = text.replace(f'"{old}"', f'"{new}"').replace(f'"{old}#', f'"{new}#')
        if text != original:
            path.write_text(text, encoding="utf-8")


def release(root: Path, *, dry_run: bool, date: str) -> int:
    """Plan and (unless ``dry_run``) make the release; print what happens; return 0.

    Raises:
        ReleaseError: Uncommitted changes, an existing tag, or a failing git command.
    """
    result = plan(root)
    print(describe(result))
    if result.previous is not None and not result.contracts_move and not result.library_changes:
        print(f"release: nothing changed since {result.previous.tag}: nothing to release")
        return 0
    text = _changelog.entry(result, date)
    if dry_run:
        print("\nCHANGELOG.md entry:\n")
        print(text)
        print("release: dry run, nothing changed")
        return 0
    if _git(root, "status", "--porcelain").strip():
        raise ReleaseError("the working tree has uncommitted changes: commit or stash them first")
    if _git(root, "tag", "--list", result.tag).strip():
        raise ReleaseError(f"tag {result.tag} already exists")
    start = _git(root, "rev-parse", "HEAD").strip()
    try:
        _make(root, result, text)
    except (Exception, SystemExit) as exc:
        # The tree was clean, so going back to ``start`` loses nothing of the user's.
        _git(root, "reset", "--quiet", "--hard", start)
        _git(root, "clean", "--quiet", "-fd")
        if _git(root, "tag", "--list", result.tag).strip():
            _git(root, "tag", "-d", result.tag)
        raise ReleaseError(f"the release failed and was rolled back: {exc}") from exc
    print(f"release: committed and tagged {result.tag}; push with `git push --follow-tags`")
    return 0


def _make(root: Path, result: Plan, text: str) -> None:
    """Change the working tree, commit and tag (the caller rolls back on any failure)."""
    from codegen.pipeline import generate

    _rewrite_ids(root, result.renames())
    _set_version(root / "pyproject.toml", _PROJECT_VERSION, f'version = "{result.version}"')
    _set_version(root / "ts" / "package.json", _NPM_VERSION, f'  "version": "{result.version}"')
    if generate(root) != 0:
        raise ReleaseError("regeneration failed")
    _changelog.insert(root / "CHANGELOG.md", text)
    snapshot.write(root, result.version, result.contract_versions())
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", f"Release {result.tag}", "-m", text)
    _git(root, "tag", "-a", result.tag, "-m", f"videogen-shared {result.version}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the release; return the exit status (2: the release cannot be made)."""
    parser = argparse.ArgumentParser(prog="python -m codegen.release", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    parser.add_argument("--date", default=dt.datetime.now(dt.UTC).date().isoformat())
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    try:
        return release(args.root.resolve(), dry_run=args.dry_run, date=args.date)
    except (ReleaseError, ValueError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 2
