"""Command line: ``python -m codegen generate|check|agreement``, ``... breaking [REF]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codegen.pipeline import check, generate

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Run the code generators; return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m codegen")
    parser.add_argument("command", choices=["generate", "check", "breaking", "agreement"])
    parser.add_argument(
        "ref",
        nargs="?",
        default=None,
        help="breaking: the git ref to compare with (default: the release snapshot "
        "releases/latest/, else the first commit)",
    )
    parser.add_argument("--snapshot", type=Path, help="breaking: compare with a schema folder")
    parser.add_argument("--json", action="store_true", help="breaking: machine-readable report")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    args = parser.parse_args(argv)
    if args.command == "agreement":
        from codegen.agreement import main as agreement

        return agreement(args.root)
    if args.command == "breaking":
        from codegen.breaking import main as breaking

        return breaking(args.root, args.ref, as_json=args.json, snapshot=args.snapshot)
    if args.command == "generate":
        return generate(args.root)
    return check(args.root)


if __name__ == "__main__":
    sys.exit(main())
