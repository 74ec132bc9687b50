"""A consumer's view: the built wheel installed into fresh virtualenvs outside the repository.

Builds the sdist and, from it, the wheel (``python -m build``), plus a wheel straight from the
tree, then creates two venvs in a temporary folder: the base install and ``[all]``. Packages come
from the configured index (PyPI). Every step has a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
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


def _run(*args: str | Path, cwd: Path, timeout: float) -> None:
    command = [str(a) for a in args]
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    # Without --sdist/--wheel, build makes the sdist and then the wheel from that sdist.
    _run(sys.executable, "-m", "build", "-o", out / "sdist", REPO, cwd=REPO, timeout=BUILD_TIMEOUT)
    _run(
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--outdir",
        out / "tree",
        REPO,
        cwd=REPO,
        timeout=BUILD_TIMEOUT,
    )
    (sdist,) = (out / "sdist").glob("*.tar.gz")
    (wheel,) = (out / "sdist").glob("*.whl")
    (tree_wheel,) = (out / "tree").glob("*.whl")
    return Dist(sdist, wheel, tree_wheel)


def _consumer(tmp_path_factory: pytest.TempPathFactory, name: str, requirement: str) -> Consumer:
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


@pytest.fixture(scope="session")
def base(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    return _consumer(tmp_path_factory, "base", str(dist.wheel))


@pytest.fixture(scope="session")
def full(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    return _consumer(tmp_path_factory, "all", f"videogen-shared[all] @ {dist.wheel.as_uri()}")


@pytest.fixture(scope="session")
def cache_only(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    return _consumer(tmp_path_factory, "cache", f"videogen-shared[cache] @ {dist.wheel.as_uri()}")
