"""Command line: ``python -m codegen lint|generate|check|agreement``, ``... breaking [REF]``.

Exit statuses (every command): 0 success; 1 a failing gate or check (generated files out of date,
hand-written SQL broken by the generated DDL, an unaccepted breaking change, a schema change that
needs a hand-written migration); 2 invalid input or a check that cannot run (lint findings, a
generator refusing the schemas, PostgreSQL unreachable, no git history to compare with). Errors are
one short message each, never a traceback (``CODEGEN_TRACEBACK=1`` shows one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint(root: Path, output: str, rules: bool) -> int:
    from codegen.lint import EXTENSIONS, RULES, render
    from codegen.pipeline import lint

    if rules:
        for rule in RULES.values():
            print(f"{rule.id}  {rule.name:<26} {rule.summary}")
        print()
        for ext in EXTENSIONS.values():
            print(f"{ext.name:<15} {ext.summary}")
        return 0
    findings = lint(root)
    if output == "json":
        print(json.dumps([f.to_dict() for f in findings], indent=2))
    elif findings:
        print(render(findings), file=sys.stderr)
    else:
        count = len(list((root / "schemas").glob("*.schema.json")))
        print(f"lint: {count} schema files, no problems")
    return 2 if findings else 0


def _run(args: argparse.Namespace) -> int:
    if args.command == "lint":
        return _lint(args.root, args.format, args.rules)
    if args.command == "agreement":
        from codegen.agreement import main as agreement
        from codegen.lint import render
        from codegen.pipeline import lint

        findings = lint(args.root)  # a bad schema is a finding here, not an Ajv stack trace
        if findings:
            print(render(findings), file=sys.stderr)
            return 2
        return agreement(args.root)
    if args.command == "breaking":
        from codegen.breaking import main as breaking
        from codegen.lint import render
        from codegen.pipeline import lint

        findings = lint(args.root)  # the new schemas must be lint-clean: else exit 2, no verdict
        if findings:
            print(render(findings), file=sys.stderr)
            return 2
        return breaking(args.root, args.ref, as_json=args.json, snapshot=args.snapshot)
    from codegen.pipeline import check, generate

    if args.command == "generate":
        return generate(args.root)
    return check(args.root, database=not args.no_db)


def main(argv: list[str] | None = None) -> int:
    """Run the code generators; return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m codegen")
    parser.add_argument("command", choices=["lint", "generate", "check", "breaking", "agreement"])
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
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="lint: output format"
    )
    parser.add_argument("--rules", action="store_true", help="lint: list the rules and x- keywords")
    parser.add_argument(
        "--no-db",
        action="store_true",
        help="check: skip the hand-written SQL check on PostgreSQL (loudly)",
    )
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except Exception as exc:  # the last line of defence: one message, never a traceback
        if os.environ.get("CODEGEN_TRACEBACK"):
            traceback.print_exc()
        print(
            f"codegen {args.command}: {type(exc).__name__}: {exc} "
            "(set CODEGEN_TRACEBACK=1 for the traceback)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
