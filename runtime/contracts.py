r"""Validate raw JSON against the shipped contract bundles, without the repository or ``codegen``.

One self-contained JSON Schema per top-level contract ships inside the package
(:mod:`runtime.resources`, ``generated/bundles/``), so a service can check a payload written by a
non-Python producer exactly as the schema states it, before (or instead of) building a Pydantic
model::

    from runtime.contracts import validator_for

    errors = list(validator_for("audio", "AudioAnalysis").iter_errors(json.loads(raw)))

The same check is a console command, ``videogen-contracts validate AudioAnalysis song.json``
(:mod:`runtime.cli`).

Validators are Draft 2020-12 and check the two formats the contracts use, ``date-time`` (RFC 3339)
and ``uuid``, with :data:`FORMAT_CHECKER`, this module's own checkers: importing it compiles no
grammar (``jsonschema[format-nongpl]`` is not needed, and not a dependency). One deliberate
deviation from the Python ``jsonschema`` defaults: ``pattern`` follows ECMA-262 (the regex dialect
JSON Schema specifies), where ``$`` matches only at the very end of the string. Python's ``re`` also
lets ``$`` match before a trailing newline, which would accept ``"0.06\n"`` as money while the
generated models, PostgreSQL and every JavaScript validator reject it.

:func:`dereferenced_schema` returns one contract as a self-contained schema with every ``$ref``
replaced by its target, for tools that cannot resolve references (property-based generators,
structured-output APIs, form libraries).
"""

from __future__ import annotations

import calendar
import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from jsonschema import FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import Draft202012Validator, extend

from runtime.resources import bundle_index, load_bundle

__all__ = [
    "FORMAT_CHECKER",
    "Contract",
    "ContractNotFoundError",
    "ContractValidator",
    "bundle_validator",
    "contract_definitions",
    "contracts",
    "dereferenced_schema",
    "ecma_pattern",
    "validator_for",
]


class ContractNotFoundError(LookupError):
    """No schema area or definition of that name ships with the package."""


_RFC3339 = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])-(?P<day>[0-9]{2})T(?:[01][0-9]|2[0-3])"
    r":[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])",
    re.ASCII,
)

FORMAT_CHECKER = FormatChecker(formats=())
"""Checks ``date-time`` (RFC 3339, ``T``/``Z`` in either case, no leap second) and ``uuid``.

Every validator of this module uses it; ``codegen`` (``nox -s check``) too. Other formats are not
checked (the contracts use none).
"""


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    match = _RFC3339.fullmatch(instance.upper())
    if match is None:
        return False
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    return year > 0 and 1 <= day <= calendar.monthrange(year, month)[1]


@FORMAT_CHECKER.checks("uuid", raises=ValueError)
def _is_uuid(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    UUID(instance)
    return all(instance[position] == "-" for position in (8, 13, 18, 23))


@dataclass(frozen=True)
class Contract:
    """One top-level contract that ships as a bundle.

    Attributes:
        name: The contract (``"Job"``), also the bundle's file stem.
        area: The schema file it comes from (``"job"``).
        id: That file's ``$id`` (``"https://schemas.videogen.dev/job/1.0.0"``).
        version: The version in ``id`` (``"1.0.0"``).
    """

    name: str
    area: str
    id: str
    version: str


@cache
def _index() -> dict[str, Any]:
    return bundle_index()


def contracts() -> list[Contract]:
    """Return every top-level contract that ships as a bundle, in schema file order."""
    return [
        Contract(name, entry["area"], entry["id"], entry["version"])
        for name, entry in _index()["contracts"].items()
    ]


def contract_definitions() -> list[tuple[str, str]]:
    """Return ``(area, definition)`` for every top-level contract, in schema file order.

    Top-level contracts are the object definitions that carry ``examples`` (``Job``,
    ``AudioAnalysis``, ``ScenePlan``...); each ships as a bundle.

    Returns:
        Pairs such as ``("job", "Job")``, areas sorted, definitions in file order.
    """
    return [(contract.area, contract.name) for contract in contracts()]


@cache
def _bundle(contract: str) -> dict[str, Any]:
    return load_bundle(contract)


def _definitions(area: str, definition: str) -> dict[str, Any]:
    """The ``$defs`` of a bundle holding ``definition`` of ``area``."""
    entries: dict[str, dict[str, str]] = _index()["definitions"]
    areas = {entry["area"] for entry in entries.values()}
    if area not in areas:
        raise ContractNotFoundError(
            f"no schema area {area!r}; known areas: {', '.join(sorted(areas))}"
        )
    entry = entries.get(definition)
    if entry is None or entry["area"] != area:
        raise ContractNotFoundError(f"schema area {area!r} has no definition {definition!r}")
    defs: dict[str, Any] = _bundle(entry["bundle"].removesuffix(".schema.json"))["$defs"]
    return defs


def _definition(area: str, definition: str) -> dict[str, Any]:
    schema: dict[str, Any] = _definitions(area, definition)[definition]
    return schema


_ESCAPED_OR_CLASS = re.compile(r"\\.|\[(?:\\.|[^\]\\])*\]|\$", re.DOTALL)


def ecma_pattern(pattern: str) -> str:
    r"""Translate an ECMA-262 ``pattern`` to Python ``re`` syntax with the same meaning of ``$``.

    Outside character classes an unescaped ``$`` becomes ``\Z`` (end of string only). The
    schemas use only the common subset of both dialects otherwise.

    Args:
        pattern: A ``pattern`` keyword value.

    Returns:
        The equivalent Python regular expression.
    """
    return _ESCAPED_OR_CLASS.sub(lambda m: r"\Z" if m.group() == "$" else m.group(), pattern)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(ecma_pattern(pattern))


def _pattern_keyword(
    validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# The stubs leave ``extend`` untyped; it returns a validator class like Draft202012Validator.
ContractValidator: type[Validator] = extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _pattern_keyword}
)
"""Draft 2020-12 validator class whose ``pattern`` follows ECMA-262 (``$`` only at the very end).

Every validator of this module is one; ``codegen`` (``nox -s check``) validates the schema
examples with it too, so that ``check`` and :func:`validator_for` agree on every pattern.
"""


@cache
def _validator(area: str, definition: str) -> Validator:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"#/$defs/{definition}",
        "$defs": _definitions(area, definition),
    }
    validator: Validator = ContractValidator(schema, format_checker=FORMAT_CHECKER)
    return validator


@cache
def _bundle_validator(contract: str) -> Validator:
    if contract not in _index()["contracts"]:
        known = ", ".join(_index()["contracts"])
        raise ContractNotFoundError(f"no contract {contract!r}; known contracts: {known}")
    validator: Validator = ContractValidator(_bundle(contract), format_checker=FORMAT_CHECKER)
    return validator


def bundle_validator(contract: str) -> Validator:
    """Return a validator for one top-level contract, with its shipped bundle as the root schema.

    Args:
        contract: A top-level contract such as ``"Job"`` (see :func:`contracts`).

    Returns:
        A cached, thread-safe :class:`jsonschema.protocols.Validator`.

    Raises:
        ContractNotFoundError: No such contract.
    """
    return _bundle_validator(contract)


def validator_for(area: str, definition: str) -> Validator:
    """Return a validator for one definition of one schema area.

    The validator is Draft 2020-12, checks formats (:data:`FORMAT_CHECKER`), resolves references
    within the shipped bundle that holds the definition and reads ``pattern`` with ECMA-262
    semantics (see the module docstring).
    Validators are cached and safe to share between threads.

    Args:
        area: The schema area, such as ``"job"`` or ``"audio"``.
        definition: A ``$defs`` name of that area, such as ``"Job"`` or ``"Mood"``.

    Returns:
        A :class:`jsonschema.protocols.Validator` (use ``iter_errors``, ``is_valid`` or
        ``validate``).

    Raises:
        ContractNotFoundError: The area or definition does not exist.
    """
    return _validator(area, definition)


def dereferenced_schema(area: str, definition: str) -> dict[str, Any]:
    """Return one definition as a self-contained schema with every ``$ref`` inlined.

    Keywords written next to a ``$ref`` (``description``, ``default``, ``x-sql``) win over the
    target's. ``examples`` and ``title`` of inlined targets are dropped; the root keeps its own.
    The schemas are not recursive, so the result is finite.

    Args:
        area: The schema area, such as ``"job"``.
        definition: A ``$defs`` name of that area, such as ``"Job"``.

    Returns:
        A fresh schema document (``$schema`` 2020-12, no ``$ref``, no ``$defs``).

    Raises:
        ContractNotFoundError: The area or definition does not exist.
        ValueError: A reference does not point at a ``$defs`` entry of a shipped schema.
    """
    defs = _definitions(area, definition)
    root = copy.deepcopy(defs[definition])
    resolved = _inline(root, defs, ())
    out: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **resolved}
    return out


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref: str = node["$ref"]
        name = ref.removeprefix("#/$defs/")
        if name == ref or name not in defs:
            raise ValueError(f"unsupported $ref {ref!r}: the bundles hold only '#/$defs/<Name>'")
        if name in seen:
            raise ValueError(f"recursive $ref through {name}")
        target = copy.deepcopy(defs[name])
        target.pop("examples", None)
        target.pop("title", None)
        inlined: dict[str, Any] = _inline(target, defs, (*seen, name))
        for sibling, value in node.items():
            if sibling != "$ref":
                inlined[sibling] = _inline(value, defs, seen)
        return inlined
    return {key: _inline(value, defs, seen) for key, value in node.items()}
