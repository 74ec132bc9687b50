"""The release snapshot committed in the repository: ``releases/latest/``.

The last release is recorded in the repository itself, so that the breaking-change gate can
compare with it on any clone (shallow, or where tags do not travel):

* ``releases/latest/<area>.schema.json``: the released ``schemas/*.schema.json``, copied verbatim;
* ``releases/latest/release.json``::

    {"version": "1.0.0", "tag": "v1.0.0",
     "contracts": {"audio": "1.0.0", "common": "1.0.0", ...},
     "migrations": ["0001_initial.sql", ...]}

  ``contracts`` maps each schema file stem to the version of its ``$id``; ``migrations`` lists the
  files of ``sql/migrations/`` at the release (the next changelog names the ones added since).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.schemas import SchemaSet, load_schema_set

__all__ = ["RELEASE_FILE", "SNAPSHOT_DIR", "Snapshot", "load_snapshot", "migration_files", "write"]

SNAPSHOT_DIR = "releases/latest"
RELEASE_FILE = f"{SNAPSHOT_DIR}/release.json"


@dataclass(frozen=True)
class Snapshot:
    """The last release: its version, tag, contract versions, migrations and schemas."""

    version: str
    tag: str
    contracts: dict[str, str]
    migrations: list[str]
    schemas: SchemaSet


def load_snapshot(root: Path) -> Snapshot | None:
    """Return the last release recorded under ``root``, or None before the first release.

    Raises:
        ValueError: ``release.json`` is malformed.
    """
    path = root / RELEASE_FILE
    if not path.exists():
        return None
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    missing = {"version", "tag", "contracts"} - set(record)
    if missing:
        raise ValueError(f"{RELEASE_FILE}: missing {', '.join(sorted(missing))}")
    return Snapshot(
        version=str(record["version"]),
        tag=str(record["tag"]),
        contracts=dict(record["contracts"]),
        migrations=list(record.get("migrations", [])),
        schemas=load_schema_set(root / SNAPSHOT_DIR),
    )


def migration_files(root: Path) -> list[str]:
    """Return the names of the forward migrations in ``sql/migrations/``, sorted."""
    return sorted(path.name for path in (root / "sql" / "migrations").glob("*.sql"))


def write(root: Path, version: str, contracts: dict[str, str]) -> None:
    """Replace ``releases/latest/`` with the schemas of the working tree and ``release.json``."""
    folder = root / SNAPSHOT_DIR
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for path in sorted((root / "schemas").glob("*.schema.json")):
        shutil.copyfile(path, folder / path.name)
    record = {
        "version": version,
        "tag": f"v{version}",
        "contracts": dict(sorted(contracts.items())),
        "migrations": migration_files(root),
    }
    (folder / "release.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
