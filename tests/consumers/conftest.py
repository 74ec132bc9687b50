"""Fixtures of tests/consumers: the built distributions and fresh venvs (see consumer_support)."""

from __future__ import annotations

import sys

import pytest
from consumer_support import BUILD_TIMEOUT, REPO, Consumer, Dist, make_consumer, run_checked


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    out = tmp_path_factory.mktemp("dist")
    # Without --sdist/--wheel, build makes the sdist and then the wheel from that sdist.
    run_checked(
        sys.executable, "-m", "build", "-o", out / "sdist", REPO, cwd=REPO, timeout=BUILD_TIMEOUT
    )
    run_checked(
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


@pytest.fixture(scope="session")
def base(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    return make_consumer(tmp_path_factory, "base", str(dist.wheel))


@pytest.fixture(scope="session")
def full(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    return make_consumer(tmp_path_factory, "all", f"videogen-shared[all] @ {dist.wheel.as_uri()}")


@pytest.fixture(scope="session")
def cache_only(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    return make_consumer(
        tmp_path_factory, "cache", f"videogen-shared[cache] @ {dist.wheel.as_uri()}"
    )
