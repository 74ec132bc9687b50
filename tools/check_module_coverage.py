"""Fail when any module of the runtime package is below the coverage floor.

``pytest --cov-fail-under`` checks the package's total only, so one poorly tested module could
hide behind the others. The tests session runs this after the suite, on ``coverage json``'s
report::

    python tools/check_module_coverage.py coverage.json --fail-under 90
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Print each module's coverage; return 1 if any is below the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="the JSON written by `coverage json`")
    parser.add_argument("--fail-under", type=float, required=True, help="percent, per module")
    args = parser.parse_args(argv)
    files = json.loads(args.report.read_text(encoding="utf-8"))["files"]
    low = []
    for name in sorted(files):
        percent = files[name]["summary"]["percent_covered"]
        flag = "" if percent >= args.fail_under else "  <-- below the floor"
        print(f"{percent:6.1f}%  {name}{flag}")
        if flag:
            low.append(name)
    if low:
        print(f"{len(low)} module(s) below {args.fail_under:g}%: {', '.join(low)}")
        return 1
    print(f"every module at or above {args.fail_under:g}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
