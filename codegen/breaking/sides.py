r"""One version of the schemas as the gate reads it: absolute references, definitions by URI.

Every ``$ref`` is rewritten to ``<file $id>#/$defs/<Name>`` so that a subschema can be compared,
and validated, away from its file. A reference the gate cannot follow (``#``, a pointer that is not
``/$defs/<Name>``, an unknown file or definition) and a boolean ``$defs`` entry are refused with a
:class:`GateInputError` (exit status 2).
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Any

from jsonschema.protocols import Validator

from codegen.breaking.model import GateInputError
from codegen.schemas import ID_PATTERN, SchemaDoc, SchemaSet
from runtime.contracts import FORMAT_CHECKER, ContractValidator

__all__ = ["ROOT", "Side", "canon", "key"]

#: The pseudo-definition name of a file's root schema (its keywords outside ``$defs``).
ROOT = "(root)"
#: Root keywords that are not part of the root schema's validation.
_ROOT_META = frozenset({"$defs", "$id", "$schema", "$comment", "title", "description"})
_DEF_REF = re.compile(r"^/\$defs/([^/]+)$")


def canon(value: Any) -> Any:
    """A JSON value with JSON's equality: ``1.0`` is ``1``; ``true`` is never ``1``."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**63 else value
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    return value


def key(value: Any) -> str:
    """A hashable text for a JSON value under JSON equality (``true`` differs from ``1``)."""
    return json.dumps(canon(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class Side:
    """One version (old or new) of the schema set, normalised for comparison."""

    def __init__(self, schemas: SchemaSet, name: str) -> None:
        self.schemas = schemas
        self.name = name
        self.docs: dict[str, dict[str, Any]] = {}
        #: absolute ref -> (area, definition name)
        self.identity: dict[str, tuple[str, str]] = {}
        self.targets: dict[str, Any] = {}
        for doc in schemas.docs:
            self._check_doc(doc)
        for doc in schemas.docs:
            normal = self._absolute(doc, doc.document, "")
            self.docs[doc.area] = normal
            for def_name, schema in normal.get("$defs", {}).items():
                uri = f"{doc.id}#/$defs/{def_name}"
                self.identity[uri] = (doc.area, def_name)
                self.targets[uri] = schema

    def _check_doc(self, doc: SchemaDoc) -> None:
        doc_id = doc.document.get("$id")
        if not isinstance(doc_id, str) or ID_PATTERN.match(doc_id) is None:
            raise GateInputError(
                f"{self.name} {doc.path.name}: $id {doc_id!r} is not "
                "https://schemas.videogen.dev/<area>/<major>.<minor>.<patch>"
            )
        defs = doc.document.get("$defs", {})
        if not isinstance(defs, dict):
            raise GateInputError(f"{self.name} {doc.path.name}: $defs must be an object")
        for def_name, schema in defs.items():
            if not isinstance(schema, dict):
                raise GateInputError(
                    f"{self.name} {doc.path.name}: $defs/{def_name} is {json.dumps(schema)}; "
                    "a definition must be an object schema"
                )

    def _absolute(self, doc: SchemaDoc, node: Any, where: str) -> Any:
        if isinstance(node, list):
            return [self._absolute(doc, v, f"{where}/{i}") for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for name, value in node.items():
            if name == "$ref":
                out[name] = self._ref(doc, value, where)
            elif name in ("enum", "const", "default", "examples") or name.startswith("x-"):
                out[name] = value
            else:
                out[name] = self._absolute(doc, value, f"{where}/{name}")
        return out

    def _ref(self, doc: SchemaDoc, ref: Any, where: str) -> str:
        place = f"{self.name} {doc.path.name}#{where}/$ref"
        if not isinstance(ref, str):
            raise GateInputError(f"{place}: $ref must be a string")
        target, _, pointer = ref.partition("#")
        match = _DEF_REF.match(pointer)
        if match is None:
            raise GateInputError(
                f"{place}: unsupported $ref {ref!r}: the gate follows only "
                "'<file $id>#/$defs/<Name>' and '#/$defs/<Name>'"
            )
        target_doc = self.schemas.by_id.get(target) if target else doc
        if target_doc is None:
            raise GateInputError(f"{place}: $ref {ref!r} names no schema file of this version")
        name = match.group(1).replace("~1", "/").replace("~0", "~")
        if name not in target_doc.definitions():
            raise GateInputError(
                f"{place}: $ref {ref!r}: {target_doc.path.name} has no definition {name!r}"
            )
        return f"{target_doc.id}#/$defs/{match.group(1)}"

    # ----------------------------------------------------------------------------- lookups

    def resolve(self, ref: str) -> Any:
        """The (normalised) definition an absolute ``$ref`` points at."""
        return self.targets[ref]

    def definitions(self, area: str) -> dict[str, Any]:
        """The normalised definitions of one file, with its root schema under :data:`ROOT`."""
        doc = self.docs[area]
        found: dict[str, Any] = dict(doc.get("$defs", {}))
        root = {k: v for k, v in doc.items() if k not in _ROOT_META}
        if root:
            found[ROOT] = root
        return found

    def node(self, area: str, definition: str) -> Any:
        """The normalised schema of one definition (or of the root)."""
        return self.definitions(area)[definition]

    def doc_id(self, area: str) -> str:
        """The ``$id`` of one file."""
        return self.schemas.by_area[area].id

    @cached_property
    def _format_checker(self) -> Any:
        # The contracts' own date-time and uuid checks (runtime.contracts), the same in every
        # environment: jsonschema's checkers depend on which optional packages are installed.
        return FORMAT_CHECKER

    def validator(self, node: Any) -> Validator:
        """A format-checking, ECMA-pattern validator for a normalised subschema."""
        validator: Validator = ContractValidator(
            node, registry=self.schemas.registry, format_checker=self._format_checker
        )
        return validator

    def definition_validator(self, area: str, definition: str) -> Validator:
        """The validator of one definition (or the root) of one file."""
        if definition == ROOT:
            return self.validator(self.schemas.by_area[area].document)
        return self.validator({"$ref": f"{self.doc_id(area)}#/$defs/{definition}"})
