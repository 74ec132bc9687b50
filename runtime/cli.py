"""``videogen-contracts``: the consumer command of the wheel (list, print and validate contracts).

::

    videogen-contracts list                          # contracts, their schema file and version
    videogen-contracts schema Job > Job.schema.json  # the self-contained bundle
    videogen-contracts validate Job job.json         # or "-" for standard input

``validate`` checks the document with the shipped bundle
(:func:`runtime.contracts.bundle_validator`) and prints one line per error,
``<JSON pointer>: <message>`` (``(root)`` for the document itself), sorted by pointer. Exit status:
0 valid, 1 invalid, 2 unusable input (unknown contract, unreadable
file, not JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

__all__ = ["main"]

VALID, INVALID, UNUSABLE = 0, 1, 2


def _pointer(error: ValidationError) -> str:
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path]
    return "".join(f"/{part}" for part in parts) or "(root)"


def _leaf(error: ValidationError) -> ValidationError:
    """The most relevant error of an ``anyOf``/``oneOf`` failure (its best branch), else itself."""
    while error.context:
        chosen = best_match(error.context)
        if chosen is None or chosen is error:
            break
        error = chosen
    return error


def _read(source: str, stdin: TextIO) -> Any:
    text = stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return json.loads(text)


def _list(out: TextIO) -> int:
    from runtime.contracts import contracts

    rows = [(c.name, c.area, c.version, c.id) for c in contracts()]
    width = max(len(name) for name, *_ in rows)
    for name, area, version, schema_id in rows:
        out.write(f"{name:<{width}}  {version:<8}  {area:<6}  {schema_id}\n")
    return VALID


def _schema(contract: str, out: TextIO, err: TextIO) -> int:
    from runtime.contracts import ContractNotFoundError, bundle_validator

    try:
        schema = bundle_validator(contract).schema
    except ContractNotFoundError as exc:
        err.write(f"videogen-contracts: {exc}\n")
        return UNUSABLE
    out.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    return VALID


def _validate(contract: str, source: str, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    from runtime.contracts import ContractNotFoundError, bundle_validator

    try:
        validator = bundle_validator(contract)
    except ContractNotFoundError as exc:
        err.write(f"videogen-contracts: {exc}\n")
        return UNUSABLE
    name = "standard input" if source == "-" else source
    try:
        document = _read(source, stdin)
    except (OSError, UnicodeDecodeError) as exc:
        err.write(f"videogen-contracts: cannot read {name}: {exc}\n")
        return UNUSABLE
    except json.JSONDecodeError as exc:
        err.write(f"videogen-contracts: {name} is not JSON: {exc}\n")
        return UNUSABLE
    errors = sorted(
        (_leaf(error) for error in validator.iter_errors(document)),
        key=lambda e: (_pointer(e), e.message),
    )
    if not errors:
        out.write(f"{name}: valid {contract}\n")
        return VALID
    for error in errors:
        out.write(f"{_pointer(error)}: {error.message}\n")
    err.write(f"{name}: {len(errors)} error(s): not a valid {contract}\n")
    return INVALID


def _parser() -> argparse.ArgumentParser:
    from generated import __version__

    parser = argparse.ArgumentParser(
        prog="videogen-contracts",
        description="List, print and validate the VideoGen contracts shipped with this package.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the contracts with their schema version")
    schema = commands.add_parser("schema", help="print a contract's self-contained JSON Schema")
    schema.add_argument("contract", help="a contract name, such as Job (see `list`)")
    validate = commands.add_parser("validate", help="validate a JSON document against a contract")
    validate.add_argument("contract", help="a contract name, such as Job (see `list`)")
    validate.add_argument("file", help="the JSON document, or - for standard input")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return its exit status (usage errors exit 2 through argparse)."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        return _list(sys.stdout)
    if args.command == "schema":
        return _schema(args.contract, sys.stdout, sys.stderr)
    return _validate(args.contract, args.file, sys.stdin, sys.stdout, sys.stderr)


if __name__ == "__main__":  # pragma: no cover - the console script calls main()
    sys.exit(main())
