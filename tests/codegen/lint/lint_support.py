"""Run the codegen command line in a subprocess on a scratch repository, as an author would.

The repository root is appended to ``sys.path`` in the child (as tests/codegen/conftest.py does
here), so the installed wheel's ``runtime`` keeps precedence and ``codegen`` comes from the
checkout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
_LAUNCH = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from codegen.__main__ import main; sys.exit(main(sys.argv[1:]))"
)


@dataclass(frozen=True)
class Run:
    """A finished command: exit status and output."""

    status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def findings(self) -> list[dict[str, Any]]:
        """The findings of ``lint --format json``."""
        result: list[dict[str, Any]] = json.loads(self.stdout)
        return result


def codegen(root: Path, *args: str, timeout: float = 120) -> Run:
    """``python -m codegen <args> --root <root>`` in a subprocess."""
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCH, str(REPO_ROOT), *args, "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def load(root: Path, area: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (root / "schemas" / f"{area}.schema.json").read_text(encoding="utf-8")
    )
    return document


def save(root: Path, area: str, document: dict[str, Any]) -> None:
    (root / "schemas" / f"{area}.schema.json").write_text(
        json.dumps(document, indent=2) + "\n", encoding="utf-8"
    )
