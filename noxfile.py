"""Developer and CI entry points.

nox -s generate   regenerate generated/, sql/generated/ (and every other artefact) from schemas/
nox -s check      schemas valid, examples valid, committed generated files up to date
nox -s lint       ruff and mypy --strict
nox -s tests      build the wheel, install it, run the test suite against real PostgreSQL/Redis
                  (with a coverage floor for runtime/ and each of its modules; `-- <pytest args>`
                  runs a subset without the floor)
nox -s bench      print benchmark figures
nox -s release    make a release: bump versions, changelog, releases/latest/, tag (`-- --dry-run`)
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import nox

nox.options.sessions = ["check", "lint", "tests"]
nox.options.error_on_external_run = True
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).parent
PYTHON = "3.11"
COVERAGE_FLOOR = 90  # percent, for the runtime package and for each of its modules
#: What the code generators need: one list for these sessions and tools/nox.sh's fast path.
CODEGEN_REQUIREMENTS = ROOT / "tools" / "codegen-requirements.txt"
CODEGEN_DEPS = [
    line.strip()
    for line in CODEGEN_REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def _build_wheel(session: nox.Session) -> str:
    """Build the project's wheel into a temporary folder and return its path."""
    out = Path(tempfile.mkdtemp(prefix="videogen-wheel-"))
    session.run(
        "python", "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)
    )
    (wheel,) = out.glob("videogen_shared-*.whl")
    return str(wheel)


def _ensure_services(session: nox.Session) -> None:
    session.run("bash", str(ROOT / "tools" / "ensure-services.sh"), external=True)


def _ensure_node(session: nox.Session) -> None:
    """Node and npm (from Debian when missing) and ts/node_modules from the lockfile (npm ci)."""
    session.run("bash", str(ROOT / "tools" / "ensure-node.sh"), external=True)


# generate and check: `bash tools/nox.sh -s generate|check` runs them without nox, in a venv cached
# under .nox/codegen-fast and rebuilt only when tools/codegen-requirements.txt changes (same
# commands as below). These sessions are what plain `nox -s generate|check` runs.
@nox.session(python=PYTHON, reuse_venv=True)
def generate(session: nox.Session) -> None:
    """Lint schemas/, then regenerate every derived artefact from them (the main job)."""
    _ensure_node(session)
    session.install("-r", str(CODEGEN_REQUIREMENTS))
    session.run("python", "-m", "codegen", "generate", *session.posargs)


@nox.session(python=PYTHON, reuse_venv=True)
def check(session: nox.Session) -> None:
    """Lint schemas/, fail if committed generated files are stale or hand-written SQL no longer
    fits the generated DDL (on a scratch PostgreSQL)."""
    _ensure_node(session)
    _ensure_services(session)
    session.install("-r", str(CODEGEN_REQUIREMENTS))
    session.run("python", "-m", "codegen", "check", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff (lint and format) and mypy --strict over generated/, runtime/ and codegen/."""
    session.install("-e", ".[lint,test]", *CODEGEN_DEPS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Build and install the wheel, then run the suite against real PostgreSQL and Redis."""
    _ensure_node(session)  # the rename proof and the agreement tests run codegen steps
    _ensure_services(session)
    wheel = _build_wheel(session)
    session.install(f"{wheel}[test]", "-r", str(CODEGEN_REQUIREMENTS))  # codegen tests run generate
    session.env.setdefault("PYTHONHASHSEED", "0")
    # Node and the code generators are installed above: prerequisites of the release, rename and
    # agreement tests that are missing fail instead of skipping.
    session.env["VIDEOGEN_RELEASE_TESTS"] = "1"
    if session.posargs:  # a chosen subset: no coverage floor (it would measure the subset)
        session.run("pytest", *session.posargs)
        return
    session.run("pytest", "--cov", "--cov-report=term", f"--cov-fail-under={COVERAGE_FLOOR}")
    report = Path(tempfile.mkdtemp(prefix="videogen-cov-")) / "coverage.json"
    session.run("coverage", "json", "-q", "-o", str(report))
    session.run(
        "python",
        str(ROOT / "tools" / "check_module_coverage.py"),
        str(report),
        f"--fail-under={COVERAGE_FLOOR}",
    )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run every benchmarks/bench_*.py against the installed wheel and print its figures."""
    _ensure_services(session)
    wheel = _build_wheel(session)
    session.install(f"{wheel}[test]", "-r", str(CODEGEN_REQUIREMENTS))  # codegen tests run generate
    scripts = sorted(glob.glob(str(ROOT / "benchmarks" / "bench_*.py")))
    wanted = set(session.posargs)
    for script in scripts:
        if wanted and Path(script).stem.removeprefix("bench_") not in wanted:
            continue
        session.run("python", script, env={"PYTHONPATH": os.environ.get("PYTHONPATH", "")})


@nox.session(python=PYTHON)
def breaking(session: nox.Session) -> None:
    """Breaking-change gate: compare schemas/ (and their SQL) with the last release snapshot
    (releases/latest/), else the first commit, or `-- <ref>` / `-- --snapshot DIR`; fail on an
    unaccepted break without a major version bump (docs/breaking.md)."""
    session.install("-r", str(CODEGEN_REQUIREMENTS))  # the lint runs first
    session.run("python", "-m", "codegen", "breaking", *session.posargs)


@nox.session(python=PYTHON)
def typescript(session: nox.Session) -> None:
    """The npm package in ts/: tsc --strict over the generated types and the typed examples; pack
    it and install the tarball into fresh NodeNext, bundler and node16-CommonJS projects
    (ts/test/consumers.mjs); then the three-way agreement (Ajv in Node, jsonschema, Pydantic)."""
    _ensure_node(session)
    session.chdir(ROOT / "ts")
    session.run("npm", "run", "--silent", "typecheck", external=True)
    session.run("node", "test/consumers.mjs", external=True)
    session.chdir(ROOT)
    session.install("-e", ".", "-r", str(CODEGEN_REQUIREMENTS))  # the lint runs first
    session.run("python", "-m", "codegen", "agreement")


@nox.session(python=PYTHON)
def release(session: nox.Session) -> None:
    """Release the contracts (docs/releases.md): `-- --dry-run` prints the plan, changes nothing."""
    _ensure_node(session)
    session.install(*CODEGEN_DEPS)
    session.run("python", "-m", "codegen.release", *session.posargs)


@nox.session(python=PYTHON)
def release_tests(session: nox.Session) -> None:
    """The release command end to end in scratch repositories (tests/release) on its own; the
    `tests` session runs the same tests with the same prerequisites."""
    _ensure_node(session)
    session.install("-e", ".[test]", *CODEGEN_DEPS)
    session.env["VIDEOGEN_RELEASE_TESTS"] = "1"  # missing prerequisites fail instead of skipping
    session.run("pytest", "tests/release", *session.posargs)
