"""Loading, validating and preparing the JSON Schema sources in ``schemas/``."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator
from jsonschema.validators import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from runtime.contracts import FORMAT_CHECKER, ContractValidator

__all__ = [
    "BASE_URI",
    "ID_PATTERN",
    "SchemaDoc",
    "SchemaSet",
    "load_schema_set",
]

BASE_URI = "https://schemas.videogen.dev/"
#: ``$id`` of every schema file: ``https://schemas.videogen.dev/<area>/<major>.<minor>.<patch>``.
ID_PATTERN = re.compile(
    r"^https://schemas\.videogen\.dev/(?P<area>[a-z]+)/(?P<version>\d+\.\d+\.\d+)$"
)


@dataclass(frozen=True)
class SchemaDoc:
    """One schema file: its area name (``job``), path, parsed document and version."""

    area: str
    path: Path
    document: dict[str, Any]

    @property
    def id(self) -> str:
        """The document's ``$id``."""
        value: str = self.document["$id"]
        return value

    @property
    def version(self) -> tuple[int, int, int]:
        """The semantic version carried by ``$id``."""
        match = ID_PATTERN.match(self.id)
        assert match is not None
        major, minor, patch = (int(p) for p in match["version"].split("."))
        return major, minor, patch

    def definitions(self) -> dict[str, dict[str, Any]]:
        """The ``$defs`` of the document, in file order."""
        defs: dict[str, dict[str, Any]] = self.document.get("$defs", {})
        return defs

    def contracts(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Top-level contracts: object definitions that carry ``examples``."""
        for name, schema in self.definitions().items():
            if schema.get("type") == "object" and schema.get("examples"):
                yield name, schema


class SchemaSet:
    """Every schema file of a ``schemas/`` folder with a resolver across them."""

    def __init__(self, docs: list[SchemaDoc]) -> None:
        self.docs = docs
        self.by_area = {doc.area: doc for doc in docs}
        self.by_id = {doc.id: doc for doc in docs}
        self.registry: Registry[Any] = Registry().with_resources(
            (doc.id, Resource.from_contents(doc.document, default_specification=DRAFT202012))
            for doc in docs
        )

    def resolve(self, base_id: str, ref: str) -> tuple[SchemaDoc, str, dict[str, Any]]:
        """Resolve ``ref`` (as written in the document ``base_id``) to a ``$defs`` entry.

        Returns:
            The document holding the target, the definition's name and its schema.

        Raises:
            KeyError: The reference does not point at a ``$defs`` entry of a known document.
        """
        target, _, pointer = ref.partition("#")
        doc = self.by_id[target] if target else self.by_id[base_id]
        prefix = "/$defs/"
        if not pointer.startswith(prefix) or "/" in pointer[len(prefix) :]:
            raise KeyError(f"unsupported $ref {ref!r} in {base_id}: only '#/$defs/<Name>' targets")
        name = pointer[len(prefix) :]
        return doc, name, doc.definitions()[name]

    def validator(self, area: str, definition: str) -> Validator:
        """A format-checking validator for one definition, resolving references across files.

        ``pattern`` follows ECMA-262, the dialect JSON Schema specifies (``$`` matches only at the
        very end of the string): the validator class of :func:`runtime.contracts.validator_for`, so
        ``check`` accepts exactly the examples the shipped validators accept.
        """
        doc = self.by_area[area]
        schema = {"$ref": f"{doc.id}#/$defs/{definition}"}
        validator: Validator = ContractValidator(
            schema, registry=self.registry, format_checker=FORMAT_CHECKER
        )
        return validator

    def meta_errors(self) -> list[str]:
        """Problems found by checking every file against the 2020-12 meta-schema and our rules."""
        problems: list[str] = []
        for doc in self.docs:
            for error in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(
                doc.document
            ):
                problems.append(f"{doc.path.name}: {error.json_path}: {error.message}")
            if doc.document.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
                problems.append(f"{doc.path.name}: $schema must be draft 2020-12")
            match = ID_PATTERN.match(str(doc.document.get("$id", "")))
            if match is None or match["area"] != doc.area:
                problems.append(
                    f"{doc.path.name}: $id must be {BASE_URI}{doc.area}/<major>.<minor>.<patch>"
                )
            for key in ("title", "description"):
                if not doc.document.get(key):
                    problems.append(f"{doc.path.name}: missing {key}")
            problems.extend(_property_problems(doc))
        return problems

    def example_errors(self) -> list[str]:
        """Every ``examples`` instance that does not validate against its definition."""
        problems: list[str] = []
        for doc in self.docs:
            for name, schema in doc.definitions().items():
                for index, example in enumerate(schema.get("examples", [])):
                    for error in self.validator(doc.area, name).iter_errors(example):
                        problems.append(
                            f"{doc.path.name}: $defs/{name}/examples/{index}"
                            f"{error.json_path[1:]}: {error.message}"
                        )
        return problems

    def inline_scalars(self, doc: SchemaDoc) -> dict[str, Any]:
        """Return a copy of ``doc`` with references to non-object definitions inlined.

        Scalar definitions (money, identifiers, timestamps) carry their constraints into every
        property that uses them, so code generators see plain constrained types; sibling keywords
        of the ``$ref`` (description, default) win over the definition's. References to object
        definitions stay, rewritten to ``<area>.json#/$defs/<Name>`` file references.
        """

        def walk(node: Any, key: str | None = None) -> Any:
            if isinstance(node, list):
                return [walk(item) for item in node]
            if not isinstance(node, dict):
                return node
            if "$ref" in node:
                target_doc, name, target = self.resolve(doc.id, node["$ref"])
                siblings = {k: walk(v) for k, v in node.items() if k != "$ref"}
                if target.get("type") == "object" and "properties" in target:
                    local = target_doc is doc
                    ref = f"#/$defs/{name}" if local else f"{target_doc.area}.json#/$defs/{name}"
                    return {"$ref": ref, **siblings}
                inlined = walk(copy.deepcopy(target))
                inlined.pop("examples", None)
                inlined.pop("title", None)
                if key == "items" and not siblings:
                    # Array items stay a named local definition so that generated code reads
                    # ``list[Seconds]`` rather than an alias named after the property.
                    item_defs[name] = inlined
                    return {"$ref": f"#/$defs/{name}"}
                inlined.update(siblings)
                return inlined
            return {k: walk(v, k) for k, v in node.items()}

        item_defs: dict[str, Any] = {}
        prepared: dict[str, Any] = walk(copy.deepcopy(doc.document))
        for name, schema in item_defs.items():
            if name in prepared.get("$defs", {}):
                raise ValueError(f"{doc.path.name}: $defs/{name} clashes with a common definition")
            prepared.setdefault("$defs", {})[name] = schema
        return prepared


def _property_problems(doc: SchemaDoc) -> list[str]:
    problems: list[str] = []
    for name, schema in doc.definitions().items():
        if not schema.get("description"):
            problems.append(f"{doc.path.name}: $defs/{name} has no description")
        if schema.get("type") != "object" or "properties" not in schema:
            continue
        if schema.get("additionalProperties") is not False:
            problems.append(
                f"{doc.path.name}: $defs/{name} must be closed (additionalProperties: false)"
            )
        for prop, prop_schema in schema["properties"].items():
            if not prop_schema.get("description"):
                problems.append(
                    f"{doc.path.name}: $defs/{name}/properties/{prop} has no description"
                )
        for required in schema.get("required", []):
            if required not in schema["properties"]:
                problems.append(f"{doc.path.name}: $defs/{name} requires unknown {required!r}")
    return problems


def load_schema_set(folder: Path) -> SchemaSet:
    """Load every ``*.schema.json`` file of ``folder``.

    Raises:
        jsonschema.exceptions.SchemaError: Never; meta-validation is reported by
            :meth:`SchemaSet.meta_errors` instead so that every problem is listed at once.
        ValueError: A file is not valid JSON.
    """
    docs: list[SchemaDoc] = []
    for path in sorted(folder.glob("*.schema.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON: {exc}") from exc
        docs.append(
            SchemaDoc(area=path.name.removesuffix(".schema.json"), path=path, document=document)
        )
    _ = jsonschema  # the jsonschema package provides the format checkers used above
    return SchemaSet(docs)
