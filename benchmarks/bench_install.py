"""Install size and import time of the wheel, as a consumer gets it (fresh venvs, outside the repo).

Run with ``nox -s bench -- install`` or directly (``python benchmarks/bench_install.py``). It
builds the wheel, creates two virtualenvs in a temporary folder, installs the wheel (the base
install) and the wheel with ``[all]`` from the configured index, and prints:

* packages installed (besides pip/setuptools) and their size on disk, base and ``[all]``;
* the import time of ``generated`` and of ``runtime.contracts`` (the validator module), the median
  of ``VIDEOGEN_BENCH_IMPORTS`` (default 7) fresh interpreters, each ``python -c "import X"``
  timed inside the interpreter with ``time.perf_counter``; plus the first validation (builds the
  validator from the bundle);
* side by side, the same import of ``runtime.contracts`` after ``jsonschema[format-nongpl]`` (the
  previous dependency, whose ``rfc3987_syntax`` compiles a grammar at import) is added to the base
  venv: the ratio is what the slim base install saves.

Targets (issue 13): import of ``generated`` and of ``runtime.contracts`` at most 300 ms each on a
2-core machine. Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("VIDEOGEN_BENCH_IMPORTS", "7"))
TOOLING = {"pip", "setuptools", "wheel"}
TIMER = "import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["PATH"] = f"{root / 'bin'}:{env.get('PATH', '')}"
    return env


def _run(root: Path, *args: str, cwd: Path) -> str:
    result = subprocess.run(
        [str(root / "bin" / "python"), *args],
        cwd=cwd,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{args}: {result.stderr}")
    return result.stdout


def _build(out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        timeout=600,
    )
    (wheel,) = out.glob("videogen_shared-*.whl")
    return wheel


def _venv(folder: Path, requirement: str) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    _run(
        folder,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
        cwd=folder,
    )
    return folder


def _packages(root: Path) -> tuple[int, float]:
    listed = json.loads(_run(root, "-m", "pip", "list", "--format=json", cwd=root))
    names = [p["name"] for p in listed if p["name"].lower() not in TOOLING]
    (site,) = (root / "lib").glob("python3*/site-packages")
    size = 0
    for path in site.rglob("*"):
        top = path.relative_to(site).parts[0].lower()
        if (
            path.is_file()
            and not any(top.startswith(t) for t in TOOLING)
            and "_distutils" not in top
        ):
            size += path.stat().st_size
    return len(names), size / 1e6


def _import_ms(root: Path, statement: str) -> float:
    times = [
        float(_run(root, "-c", TIMER.format(statement=statement), cwd=root.parent).strip())
        for _ in range(RUNS)
    ]
    return statistics.median(times)


def main() -> None:
    """Print the figures."""
    with tempfile.TemporaryDirectory(prefix="videogen-bench-install-") as tmp:
        work = Path(tmp)
        wheel = _build(work / "dist")
        base = _venv(work / "base", str(wheel))
        full = _venv(work / "all", f"videogen-shared[all] @ {wheel.as_uri()}")
        for name, root in (("base", base), ("[all]", full)):
            count, size = _packages(root)
            print(f"install {name:<6}: {count:3d} packages, {size:6.1f} MB on disk")
        first = (
            "from runtime.contracts import bundle_validator; bundle_validator('Job').is_valid({})"
        )
        figures = {
            "import generated": _import_ms(base, "import generated"),
            "import runtime.contracts": _import_ms(base, "import runtime.contracts"),
            "import + first validation": _import_ms(base, first),
        }
        for label, value in figures.items():
            print(f"base   {label:<28}: {value:7.1f} ms (median of {RUNS})")
        _run(base, "-m", "pip", "install", "--quiet", "jsonschema[format-nongpl]", cwd=base)
        heavy = _import_ms(base, "import runtime.contracts")
        slim = figures["import runtime.contracts"]
        print(
            f"with jsonschema[format-nongpl]: import runtime.contracts {heavy:7.1f} ms "
            f"({heavy / slim:.1f}x the slim base install)"
        )


if __name__ == "__main__":
    main()
