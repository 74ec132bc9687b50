"""Helpers of tests/release (fixtures in conftest): scratch repositories for the release command.

A scratch repository is this working tree copied into a fresh git repository.

The release command rewrites schemas, regenerates everything (datamodel-code-generator and the
TypeScript compiler from ``ts/node_modules``), commits and tags: it runs in a scratch repository
made from this working tree (tracked and untracked, not ignored, files), never in the real one.
``nox -s release_tests`` provides the prerequisites and sets ``VIDEOGEN_RELEASE_TESTS=1`` so that
a missing one fails; elsewhere (``nox -s tests``) these tests skip.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATE = "2026-01-02"
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # codegen is not in the wheel: take it from the checkout


def missing_prerequisites() -> str | None:
    if importlib.util.find_spec("datamodel_code_generator") is None:
        return "datamodel-code-generator is not installed (the codegen dependencies)"
    if not (REPO / "ts" / "node_modules" / "json-schema-to-typescript").is_dir():
        return "ts/node_modules is missing (npm ci --prefix ts)"
    if shutil.which("git") is None:
        return "git is not installed"
    return None


def git(root: Path, *args: str) -> str:
    """Run git in ``root``; return its standard output (fails the test on an error)."""
    result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def run_release(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m codegen.release`` of the scratch repository on itself."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "codegen.release", "--root", str(root), "--date", DATE, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def regenerate(root: Path) -> None:
    """``python -m codegen generate`` in the scratch repository, then commit everything."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "generate", "--root", str(root)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def copy_working_tree(target: Path) -> None:
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if name.startswith("releases/") or not source.is_file():
            continue  # a scratch repository starts before any release
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    (target / "ts" / "node_modules").symlink_to(REPO / "ts" / "node_modules")


def init_repo(root: Path) -> None:
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "user.email", "release-test@example.invalid")
    git(root, "config", "user.name", "Release Test")
    (root / ".git" / "info" / "exclude").write_text("ts/node_modules\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "scratch: the working tree under test")
