r"""Validate raw JSON against the shipped contract schemas, without the repository or ``codegen``.

The JSON Schemas ship inside the package (:mod:`runtime.resources`), so a service can check a
payload written by a non-Python producer exactly as the schema states it, before (or instead of)
building a Pydantic model::

    from runtime.contracts import validator_for

    errors = list(validator_for("audio", "AudioAnalysis").iter_errors(json.loads(raw)))

Validators are Draft 2020-12, check ``format`` (``uuid``, ``date-time``) and resolve references
across the schema files through a :class:`referencing.Registry`. One deliberate deviation from
the Python ``jsonschema`` defaults: ``pattern`` follows ECMA-262 (the regex dialect JSON Schema
specifies), where ``$`` matches only at the very end of the string. Python's ``re`` also lets
``$`` match before a trailing newline, which would accept ``"0.06\n"`` as money while the
generated models, PostgreSQL and every JavaScript validator reject it.

:func:`dereferenced_schema` returns one contract as a self-contained schema with every ``$ref``
replaced by its target, for tools that cannot resolve references (property-based generators,
structured-output APIs, form libraries).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import Draft202012Validator, extend
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from runtime.resources import load_schema, schema_names

__all__ = [
    "ContractNotFoundError",
    "ContractValidator",
    "contract_definitions",
    "dereferenced_schema",
    "ecma_pattern",
    "registry",
    "validator_for",
]


class ContractNotFoundError(LookupError):
    """No schema area or definition of that name ships with the package."""


@cache
def _documents() -> dict[str, dict[str, Any]]:
    return {name: load_schema(name) for name in schema_names()}


@cache
def _ids() -> dict[str, str]:
    return {document["$id"]: area for area, document in _documents().items()}


def registry() -> Registry[Any]:
    """Return a registry holding every shipped schema document under its ``$id``.

    Returns:
        A :class:`referencing.Registry` that resolves the absolute cross-file references.
    """
    return _registry()


@cache
def _registry() -> Registry[Any]:
    return Registry().with_resources(
        (document["$id"], Resource.from_contents(document, default_specification=DRAFT202012))
        for document in _documents().values()
    )


def contract_definitions() -> list[tuple[str, str]]:
    """Return ``(area, definition)`` for every top-level contract, in schema file order.

    Top-level contracts are the object definitions that carry ``examples`` (``Job``,
    ``AudioAnalysis``, ``ScenePlan``...).

    Returns:
        Pairs such as ``("job", "Job")``, areas sorted, definitions in file order.
    """
    pairs: list[tuple[str, str]] = []
    for area, document in _documents().items():
        for name, schema in document.get("$defs", {}).items():
            if schema.get("type") == "object" and schema.get("examples"):
                pairs.append((area, name))
    return pairs


def _definition(area: str, definition: str) -> dict[str, Any]:
    documents = _documents()
    if area not in documents:
        raise ContractNotFoundError(
            f"no schema area {area!r}; known areas: {', '.join(sorted(documents))}"
        )
    defs: dict[str, Any] = documents[area].get("$defs", {})
    if definition not in defs:
        raise ContractNotFoundError(f"schema area {area!r} has no definition {definition!r}")
    schema: dict[str, Any] = defs[definition]
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
    _definition(area, definition)
    document = _documents()[area]
    schema = {"$ref": f"{document['$id']}#/$defs/{definition}"}
    validator: Validator = ContractValidator(
        schema,
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return validator


def validator_for(area: str, definition: str) -> Validator:
    """Return a validator for one definition of one schema area.

    The validator is Draft 2020-12, checks formats, resolves references across the shipped
    schema files and reads ``pattern`` with ECMA-262 semantics (see the module docstring).
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
    root = copy.deepcopy(_definition(area, definition))
    resolved = _inline(root, area, ())
    out: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema", **resolved}
    return out


def _resolve_ref(ref: str, base_area: str) -> tuple[str, str]:
    target, _, pointer = ref.partition("#")
    area = _ids().get(target) if target else base_area
    prefix = "/$defs/"
    if area is None or not pointer.startswith(prefix) or "/" in pointer[len(prefix) :]:
        raise ValueError(f"unsupported $ref {ref!r} in schema area {base_area!r}")
    return area, pointer[len(prefix) :]


def _inline(node: Any, area: str, seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, area, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target_area, name = _resolve_ref(node["$ref"], area)
        key = f"{target_area}/{name}"
        if key in seen:
            raise ValueError(f"recursive $ref through {key}")
        target = copy.deepcopy(_definition(target_area, name))
        target.pop("examples", None)
        target.pop("title", None)
        inlined: dict[str, Any] = _inline(target, target_area, (*seen, key))
        for sibling, value in node.items():
            if sibling != "$ref":
                inlined[sibling] = _inline(value, area, seen)
        return inlined
    return {key: _inline(value, area, seen) for key, value in node.items()}
