"""What the gate compares with: the last release snapshot, the first commit, a ref or a folder.

Default base: ``releases/latest/`` (the committed snapshot of the last release: its
``*.schema.json`` files and ``release.json``) when it exists, so it works on shallow clones and
where tags do not travel; else the repository's first (root) commit, so a break cannot hide
behind a later commit. A shallow clone without a snapshot cannot know its first commit: exit 2.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import Draft202012Validator

from codegen.breaking.model import GateInputError
from codegen.schemas import SchemaSet, load_schema_set
from runtime.contracts import ecma_pattern

__all__ = ["RELEASE_SNAPSHOT", "Base", "default_base", "load_base", "load_schemas_at"]

RELEASE_SNAPSHOT = "releases/latest"


@dataclass(frozen=True)
class Base:
    """A base to compare with: a git ``ref`` or a ``snapshot`` folder, and how to name it."""

    label: str
    ref: str | None = None
    snapshot: Path | None = None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise GateInputError(f"cannot run git in {root}: {exc}") from exc


def snapshot_base(folder: Path) -> Base:
    """A snapshot folder as a base, named after its ``release.json`` when it has one."""
    if not folder.is_dir():
        raise GateInputError(f"snapshot {folder} is not a folder of *.schema.json files")
    label = f"snapshot {folder}"
    release = folder / "release.json"
    if release.exists():
        try:
            version = json.loads(release.read_text(encoding="utf-8")).get("version")
        except (OSError, ValueError, AttributeError) as exc:
            raise GateInputError(f"{release}: not a readable release record: {exc}") from exc
        label = f"release {version} ({folder})"
    return Base(label, snapshot=folder)


def default_base(root: Path) -> Base:
    """The base used when none is given: the release snapshot, else the first commit.

    Raises:
        GateInputError: No snapshot, and the first commit cannot be told (a shallow clone, or
            not a git repository).
    """
    snapshot = root / RELEASE_SNAPSHOT
    if snapshot.is_dir():
        return snapshot_base(snapshot)
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise GateInputError(
            f"{root} has no {RELEASE_SNAPSHOT}/ release snapshot and is not a git repository: "
            "pass a folder of schemas (--snapshot DIR) to compare with"
        )
    if _git(root, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        raise GateInputError(
            f"this is a shallow clone without a {RELEASE_SNAPSHOT}/ release snapshot, so its first "
            "commit (the base before any release) is unknown: fetch the history (`git fetch "
            "--unshallow`; in CI, check out with full depth), or pass a ref or --snapshot DIR"
        )
    roots = _git(root, "rev-list", "--max-parents=0", "HEAD")
    if roots.returncode != 0 or not roots.stdout.split():
        raise GateInputError(f"cannot find the first commit of {root}: {roots.stderr.strip()}")
    # The first commit that holds schemas/ (the repository's root commit may predate them).
    first = _git(root, "rev-list", "--reverse", "HEAD", "--", "schemas").stdout.split()
    if not first:
        commit = roots.stdout.split()[-1]
        return Base(f"the first commit {commit[:12]} (no release yet)", ref=commit)
    return Base(f"the first commit with schemas/, {first[0][:12]} (no release yet)", ref=first[0])


def load_schemas_at(root: Path, ref: str, folder: Path) -> SchemaSet:
    """Write the ``schemas/*.schema.json`` of ``ref`` into ``folder`` and load them.

    Raises:
        GateInputError: ``ref`` is not a commit of the repository, or has no ``schemas/``.
    """
    listing = _git(root, "ls-tree", "--name-only", f"{ref}:schemas")
    if listing.returncode != 0:
        raise GateInputError(f"cannot read schemas/ at {ref!r}: {listing.stderr.strip()}")
    for name in listing.stdout.split():
        if name.endswith(".schema.json"):
            blob = _git(root, "show", f"{ref}:schemas/{name}")
            if blob.returncode != 0:
                raise GateInputError(f"cannot read schemas/{name} at {ref!r}")
            (folder / name).write_text(blob.stdout, encoding="utf-8")
    return load_set(folder, f"{ref}:schemas")


def load_set(folder: Path, label: str) -> SchemaSet:
    """Load a folder of schema files, refusing what the gate cannot read.

    Raises:
        GateInputError: A file is not JSON, not a valid 2020-12 schema, or holds a pattern that
            does not compile.
    """
    try:
        schemas = load_schema_set(folder)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GateInputError(f"{label}: {exc}") from exc
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    for doc in schemas.docs:
        if not isinstance(doc.document, dict):
            raise GateInputError(f"{label}/{doc.path.name}: a schema file must be a JSON object")
        error = best_match(meta.iter_errors(doc.document))
        if error is not None:
            raise GateInputError(
                f"{label}/{doc.path.name}: {error.json_path}: {error.message} (not a draft "
                "2020-12 schema; run `python -m codegen check` for every problem)"
            )
        for where, pattern in _patterns(doc.document, "$"):
            try:
                re.compile(ecma_pattern(pattern))
            except re.error as exc:
                raise GateInputError(
                    f"{label}/{doc.path.name}: {where}: pattern {pattern!r} does not compile: {exc}"
                ) from exc
    return schemas


def _patterns(node: Any, where: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name in ("enum", "const", "default", "examples") or name.startswith("x-"):
                continue
            if name == "pattern" and isinstance(value, str):
                found.append((f"{where}.pattern", value))
            elif name == "patternProperties" and isinstance(value, dict):
                found.extend((f"{where}.patternProperties", p) for p in value)
                found.extend(_patterns(value, f"{where}.patternProperties"))
            else:
                found.extend(_patterns(value, f"{where}.{name}"))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_patterns(item, f"{where}[{index}]"))
    return found


def load_base(root: Path, base: Base, scratch: Path) -> SchemaSet:
    """The schemas of ``base`` (a ref is written to ``scratch`` first)."""
    if base.snapshot is not None:
        return load_set(base.snapshot, base.label)
    assert base.ref is not None
    return load_schemas_at(root, base.ref, scratch)
