"""``default`` and ``examples`` values checked against the schema they sit in (VG015, VG016).

Run only on documents without structural findings, so that the validator never meets a broken
schema. Validation uses the validator class the shipped runtime uses
(:class:`runtime.contracts.ContractValidator`: ECMA-262 ``$`` semantics, format checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema.validators import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from codegen.lint._checks import Source
from codegen.lint._model import Finding, pointer, show
from codegen.lint._walk import nodes
from runtime import contracts
from runtime.contracts import ContractValidator

__all__ = ["instance_findings"]

#: The format checker the shipped validators use (``runtime.contracts.FORMAT_CHECKER`` where the
#: runtime defines its own), else the draft's.
_FORMAT_CHECKER = getattr(contracts, "FORMAT_CHECKER", Draft202012Validator.FORMAT_CHECKER)


def instance_findings(sources: list[Source]) -> Iterator[Finding]:
    """Every ``default`` and every ``examples`` item that its own schema refuses."""
    registry: Registry[Any] = Registry().with_resources(
        (s.document["$id"], Resource.from_contents(s.document, default_specification=DRAFT202012))
        for s in sources
    )
    for source in sources:
        for node in nodes(source.document):
            checks: list[tuple[str, tuple[str | int, ...], Any]] = []
            if "default" in node.schema:
                checks.append(("VG015", ("default",), node.schema["default"]))
            examples = node.schema.get("examples")
            for index, example in enumerate(examples if isinstance(examples, list) else []):
                checks.append(("VG016", ("examples", index), example))
            if not checks:
                continue
            validator = ContractValidator(
                {"$ref": f"{source.document['$id']}#{node.pointer}"},
                registry=registry,
                format_checker=_FORMAT_CHECKER,
            )
            for rule, tokens, instance in checks:
                error = next(iter(validator.iter_errors(instance)), None)
                if error is None:
                    continue
                what = "default" if rule == "VG015" else "example"
                yield source.finding(
                    rule,
                    pointer(*node.tokens, *tokens, *error.absolute_path),
                    f"the {what} {show(instance, 60)} is invalid under its own schema: "
                    f"{_short(error.message)}",
                    f"change the {what} to a value the schema accepts, or fix the schema",
                )


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
