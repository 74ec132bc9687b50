"""Fixtures of tests/release: scratch repositories after a first release (see release_support)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from release_support import copy_working_tree, init_repo, missing_prerequisites, run_release


@pytest.fixture(scope="session")
def release_prerequisites() -> None:
    problem = missing_prerequisites()
    if problem is None:
        return
    if os.environ.get("VIDEOGEN_RELEASE_TESTS") == "1":
        pytest.fail(f"release tests cannot run: {problem}")
    pytest.skip(f"{problem}; run by `nox -s release_tests`")


@pytest.fixture(scope="session")
def first_release(release_prerequisites: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch repository after its first release (v1.0.0): copy it, do not change it."""
    root = tmp_path_factory.mktemp("released") / "repo"
    root.mkdir()
    copy_working_tree(root)
    init_repo(root)
    result = run_release(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def repo(first_release: Path, tmp_path: Path) -> Path:
    """A private copy of the released scratch repository."""
    target = tmp_path / "repo"
    shutil.copytree(first_release, target, symlinks=True)
    return target
