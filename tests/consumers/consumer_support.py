"""Helpers of tests/consumers (fixtures in conftest): the wheel as a consumer installs it.

The built wheel is installed into fresh virtualenvs outside the repository.

Builds the sdist and, from it, the wheel (``python -m build``), plus a wheel straight from the
tree, then creates two venvs in a temporary folder: the base install and ``[all]``. Packages come
from the configured index (PyPI). Every step has a timeout.
"""

from __future__ import annotations

import os
import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 300  # seconds, per build
INSTALL_TIMEOUT = 600  # seconds, per pip install


@dataclass(frozen=True)
class Dist:
    """The built distributions."""

    sdist: Path
    wheel: Path  #: built from the sdist
    tree_wheel: Path  #: built straight from the working tree


@dataclass(frozen=True)
class Consumer:
    """A fresh virtualenv with the wheel installed, and a working folder outside the repo."""

    root: Path
    workdir: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def bin(self, name: str) -> Path:
        return self.root / "bin" / name

    def run(
        self, *args: str | Path, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run a command of the venv in the working folder, without the repo's Python paths."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("PYTHON") and key != "VIRTUAL_ENV"  # nothing of the repo
        }
        env["PATH"] = f"{self.root / 'bin'}:{os.environ.get('PATH', '')}"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.workdir,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def python_code(self, code: str) -> subprocess.CompletedProcess[str]:
        return self.run(self.python, "-c", code)


def run_checked(*args: str | Path, cwd: Path, timeout: float) -> None:
    command = [str(a) for a in args]
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"


def make_consumer(
    tmp_path_factory: pytest.TempPathFactory, name: str, requirement: str
) -> Consumer:
    root = tmp_path_factory.mktemp(name) / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(root)
    workdir = root.parent / "work"
    workdir.mkdir()
    consumer = Consumer(root, workdir)
    result = consumer.run(
        consumer.python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-input",
        requirement,
        timeout=INSTALL_TIMEOUT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return consumer
