"""Wall time of the schema-editing loop: the README's two commands, cold and warm.

* cold: a fresh ``git clone`` of this repository's HEAD, then ``bash tools/nox.sh -s generate``
  (or ``-s check``): builds the nox bootstrap venv and the code generators' cached venv
  (.nox/codegen-fast, from tools/codegen-requirements.txt; pip's own download cache is used when
  warm on the machine), installs ts/node_modules with npm ci, then runs;
* warm: the same command again in that clone (venvs reused; nothing to rebuild), the median of
  ``WARM_RUNS`` runs.

Targets (issue 12): warm <= 5 s, cold <= 60 s on a 2-core machine. ``check`` includes the
hand-written SQL check on PostgreSQL (127.0.0.1:5432). Run with ``nox -s bench -- authoring`` or
directly with Python; prints one line per figure and whether it meets its target.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_RUNS = 5
TARGETS = {"warm": 5.0, "cold": 60.0}
CPU: dict[str, list[float]] = {"generate": [], "check": []}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(clone: Path, session: str) -> float:
    cpu = _cpu()
    start = time.perf_counter()
    done = subprocess.run(
        ["bash", "tools/nox.sh", "-s", session],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - start
    CPU[session].append(_cpu() - cpu)
    if done.returncode != 0:
        sys.exit(f"bench_authoring: {session} failed in {clone}:\n{done.stdout}{done.stderr}")
    return elapsed


def _report(label: str, seconds: float, kind: str) -> None:
    verdict = "meets" if seconds <= TARGETS[kind] else "MISSES"
    print(f"authoring: {label:<26} {seconds:6.2f} s  ({verdict} the {TARGETS[kind]:.0f} s target)")


def main() -> None:
    """Clone, then time cold and warm ``generate`` and ``check``."""
    with tempfile.TemporaryDirectory(prefix="videogen-bench-") as scratch:
        for session in ("generate", "check"):
            clone = Path(scratch) / session
            subprocess.run(
                ["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120
            )
            _report(f"{session}, fresh clone", _timed(clone, session), "cold")
            warm = [_timed(clone, session) for _ in range(WARM_RUNS)]
            _report(f"{session}, warm (median)", statistics.median(warm), "warm")
            print(f"authoring: {session} warm runs: {', '.join(f'{w:.2f}' for w in warm)} s")
            cpu = CPU[session]
            print(
                f"authoring: {session} CPU (user+sys) cold {cpu[0]:.2f} s, warm median "
                f"{statistics.median(cpu[1:]):.2f} s; load average {os.getloadavg()[0]:.1f} "
                f"on {os.cpu_count()} cores"
            )


if __name__ == "__main__":
    main()
