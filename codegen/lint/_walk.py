"""Every schema object of a document, with its JSON pointer and what kind of position it is."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from codegen.lint._keywords import SCHEMA_ARRAY, SCHEMA_MAP, SCHEMA_SINGLE
from codegen.lint._model import pointer

__all__ = ["Node", "nodes"]


@dataclass(frozen=True)
class Node:
    """A schema object: its tokens from the document root and its role.

    ``role`` is ``document``, ``definition`` (a ``$defs`` entry of the document), ``property``
    (an entry of a ``properties`` map at any depth) or ``schema`` (any other subschema).
    ``constraint`` is true inside an applicator (``oneOf``, ``allOf``, ``if``...) of a closed
    object: such a branch only constrains the properties its parent declares and describes.
    """

    tokens: tuple[str | int, ...]
    schema: dict[str, Any]
    role: str
    constraint: bool = False

    @property
    def pointer(self) -> str:
        """The node's JSON pointer."""
        return pointer(*self.tokens)


def nodes(document: dict[str, Any]) -> Iterator[Node]:
    """Walk every schema object (not boolean schemas, not ``x-`` values) of ``document``."""
    yield from _walk(document, (), "document", False)


_BRANCHES = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else"})


def _walk(
    schema: dict[str, Any], tokens: tuple[str | int, ...], role: str, constraint: bool
) -> Iterator[Node]:
    yield Node(tokens, schema, role, constraint)
    closed = constraint or (
        schema.get("type") == "object" and schema.get("additionalProperties") is False
    )
    for keyword, value in schema.items():
        inner = constraint or (keyword in _BRANCHES and closed)
        if keyword in SCHEMA_SINGLE and isinstance(value, dict):
            yield from _walk(value, (*tokens, keyword), "schema", inner)
        elif keyword in SCHEMA_MAP and isinstance(value, dict):
            child_role = {"$defs": "definition", "properties": "property"}.get(keyword, "schema")
            if keyword == "$defs" and tokens:
                child_role = "schema"
            for name, child in value.items():
                if isinstance(child, dict):
                    yield from _walk(child, (*tokens, keyword, name), child_role, inner)
        elif keyword in SCHEMA_ARRAY and isinstance(value, list):
            for index, child in enumerate(value):
                if isinstance(child, dict):
                    yield from _walk(child, (*tokens, keyword, index), "schema", inner)
