"""Checks that need only the documents: keywords, extensions, values, references, structure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import regress
from jsonschema.validators import Draft202012Validator

from codegen.lint._extensions import EXTENSIONS
from codegen.lint._keywords import KEYWORDS, value_problems
from codegen.lint._model import Finding, did_you_mean, pointer, show
from codegen.lint._walk import Node, nodes

__all__ = ["Source", "document_findings", "node_findings", "set_findings"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_URI = "https://schemas.videogen.dev/"
_ID = re.compile(r"^https://schemas\.videogen\.dev/(?P<area>[^/]+)/(?P<version>[^/#]+)$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_LOCAL_REF = re.compile(r"^#/\$defs/(?P<name>[^/]+)$")
_EXTENSION_VALIDATORS = {
    name: Draft202012Validator(ext.value_schema) for name, ext in EXTENSIONS.items()
}


@dataclass(frozen=True)
class Source:
    """One parsed schema file: the name shown in findings, its area and document."""

    file: str
    area: str
    document: dict[str, Any]

    def finding(self, rule: str, tokens: str, message: str, fix: str) -> Finding:
        """A finding in this file at the pointer ``tokens``."""
        return Finding(self.file, tokens, rule, message, fix)

    def definitions(self) -> dict[str, Any]:
        """The document's ``$defs`` (empty when missing or malformed)."""
        defs = self.document.get("$defs")
        return defs if isinstance(defs, dict) else {}


def document_findings(source: Source) -> Iterator[Finding]:
    """``$schema``, ``$id`` and the document's title and description."""
    doc = source.document
    if doc.get("$schema") != DIALECT:
        yield source.finding(
            "VG019",
            "/$schema" if "$schema" in doc else "",
            f"$schema is {show(doc.get('$schema'))}, not draft 2020-12",
            f'write "$schema": "{DIALECT}"',
        )
    for key in ("title", "description"):
        if not (isinstance(doc.get(key), str) and doc[key].strip()):
            yield source.finding(
                "VG020", "", f"the file has no {key}", f'add a "{key}" at the top of the file'
            )
    yield from _id_findings(source)


def _id_findings(source: Source) -> Iterator[Finding]:
    value = source.document.get("$id")
    expected = f"{BASE_URI}{source.area}/1.0.0"
    match = _ID.match(value) if isinstance(value, str) else None
    if match is None or match["area"] != source.area:
        yield source.finding(
            "VG010",
            "/$id" if "$id" in source.document else "",
            f"$id {show(value)} is not {BASE_URI}{source.area}/<MAJOR>.<MINOR>.<PATCH>",
            f'write "$id": "{expected}" (the file name gives the area, {source.area})',
        )
    elif not _SEMVER.match(match["version"]):
        yield source.finding(
            "VG012",
            "/$id",
            f"the $id version {show(match['version'])} is not semver MAJOR.MINOR.PATCH",
            "use three dot-separated numbers without leading zeros, such as 1.0.0",
        )


def set_findings(sources: list[Source]) -> Iterator[Finding]:
    """Duplicate ``$id`` across files."""
    seen: dict[str, Source] = {}
    for source in sources:
        value = source.document.get("$id")
        if not isinstance(value, str):
            continue
        if value in seen:
            yield source.finding(
                "VG011",
                "/$id",
                f"$id {show(value)} is also the $id of {seen[value].file}",
                "give every file its own $id (its area and version)",
            )
        else:
            seen[value] = source


def node_findings(source: Source, by_id: dict[str, Source]) -> Iterator[Finding]:
    """Every check on every schema object of one file."""
    for node in nodes(source.document):
        yield from _keyword_findings(source, node)
        yield from _structure_findings(source, node)
        if isinstance(node.schema.get("$ref"), str):
            yield from _ref_findings(source, node, by_id)


def _keyword_findings(source: Source, node: Node) -> Iterator[Finding]:
    for key, value in node.schema.items():
        at = pointer(*node.tokens, key)
        if key.startswith("x-"):
            if key not in EXTENSIONS:
                yield source.finding(
                    "VG003",
                    at,
                    f"{show(key)} is not a registered extension.{did_you_mean(key, EXTENSIONS)}",
                    "use a registered x- keyword (docs/schema-authoring.md) or register a new "
                    "one with its value schema in codegen/lint/_extensions.py",
                )
                continue
            errors = sorted(_EXTENSION_VALIDATORS[key].iter_errors(value), key=lambda e: e.path)
            for error in errors[:3]:
                yield source.finding(
                    "VG004",
                    pointer(*node.tokens, key, *error.absolute_path),
                    f"{key}: {_short(error.message)}",
                    f"see {key} in docs/schema-authoring.md for the values it takes",
                )
        elif key not in KEYWORDS:
            hint = ' Did you mean "$defs"?' if key == "definitions" else did_you_mean(key, KEYWORDS)
            yield source.finding(
                "VG002",
                at,
                f"{show(key)} is not a JSON Schema draft 2020-12 keyword.{hint}",
                "spell the keyword as the draft names it; annotations of our own are registered "
                "x- extensions (docs/schema-authoring.md)",
            )
    for keyword, message, fix in value_problems(node.schema):
        yield source.finding("VG005", pointer(*node.tokens, keyword), message, fix)


def _structure_findings(source: Source, node: Node) -> Iterator[Finding]:
    schema = node.schema
    props = schema.get("properties")
    props = props if isinstance(props, dict) else None
    yield from _required_findings(source, node, props)
    is_object = schema.get("type") == "object" or props is not None
    closed = schema.get("additionalProperties") is False or (
        schema.get("unevaluatedProperties") is False
    )
    if is_object and not closed and "x-open" not in schema and not node.constraint:
        yield source.finding(
            "VG009",
            node.pointer,
            "this object is open: it accepts any property it does not name",
            'add "additionalProperties": false, or mark it deliberately open with '
            '"x-open": "<why>" and "additionalProperties": true',
        )
    elif closed and "x-open" in schema:
        yield source.finding(
            "VG009",
            pointer(*node.tokens, "x-open"),
            "x-open marks a closed object (additionalProperties: false) as open",
            "remove x-open, or open the object with additionalProperties: true",
        )
    if (
        node.role in ("definition", "property")
        and not node.constraint
        and not (isinstance(schema.get("description"), str) and schema["description"].strip())
    ):
        what = "definition" if node.role == "definition" else "property"
        yield source.finding(
            "VG013",
            node.pointer,
            f"the {what} {show(node.tokens[-1])} has no description",
            'add a "description" saying what it holds (descriptions are non-breaking)',
        )
    if node.tokens and "$id" in schema:
        yield source.finding(
            "VG010",
            pointer(*node.tokens, "$id"),
            "an $id inside a file is not supported: each file has one $id, at its top",
            "remove this $id; reference the definition as <file $id>#/$defs/<Name>",
        )
    enum = schema.get("enum")
    if isinstance(enum, list):
        seen: set[str] = set()
        for index, value in enumerate(enum):
            key = json.dumps(value, sort_keys=True)
            if key in seen:
                yield source.finding(
                    "VG014",
                    pointer(*node.tokens, "enum", index),
                    f"enum lists {show(value)} more than once",
                    "remove the repeated value",
                )
            seen.add(key)
    yield from _pattern_findings(source, node)


def _required_findings(
    source: Source, node: Node, props: dict[str, Any] | None
) -> Iterator[Finding]:
    required = node.schema.get("required")
    if not isinstance(required, list) or (props is None and "$ref" in node.schema):
        return
    names = list(props or {})
    for index, name in enumerate(required):
        if isinstance(name, str) and name not in names:
            yield source.finding(
                "VG008",
                pointer(*node.tokens, "required", index),
                f"required names {show(name)}, which is not a property here."
                f"{did_you_mean(name, names)}",
                "name an existing property, or add the property to properties",
            )


def _pattern_findings(source: Source, node: Node) -> Iterator[Finding]:
    candidates: list[tuple[str, str]] = []
    if isinstance(node.schema.get("pattern"), str):
        candidates.append((pointer(*node.tokens, "pattern"), node.schema["pattern"]))
    pattern_props = node.schema.get("patternProperties")
    if isinstance(pattern_props, dict):
        candidates += [(pointer(*node.tokens, "patternProperties", p), p) for p in pattern_props]
    for at, pattern in candidates:
        try:
            regress.Regex(pattern)
        except Exception as exc:  # regress raises its own error type for every syntax error
            yield source.finding(
                "VG017",
                at,
                f"{show(pattern)} is not a valid ECMA-262 regular expression: {exc}",
                "write the pattern in the ECMA-262 dialect JSON Schema specifies (no (?P<..>), "
                "no possessive quantifiers, escape literal brackets)",
            )


def _ref_findings(source: Source, node: Node, by_id: dict[str, Source]) -> Iterator[Finding]:
    ref: str = node.schema["$ref"]
    at = pointer(*node.tokens, "$ref")
    target_id, hash_, fragment = ref.partition("#")
    if target_id:
        if target_id not in by_id:
            known = list(by_id)
            hint = did_you_mean(target_id, known)
            yield source.finding(
                "VG006",
                at,
                f"$ref {show(ref)} points at {show(target_id)}, the $id of no schema file.{hint}",
                f"use the $id of an existing file ({', '.join(sorted(known))})",
            )
            return
        target = by_id[target_id]
    else:
        target = source
    match = _LOCAL_REF.match(hash_ + fragment)
    if match is None:
        yield source.finding(
            "VG022",
            at,
            f"$ref {show(ref)} does not point at a definition",
            "reference a definition: #/$defs/<Name> or <file $id>#/$defs/<Name>",
        )
        return
    name = match["name"]
    if name not in target.definitions():
        yield source.finding(
            "VG007",
            at,
            f"$ref {show(ref)}: {target.file} has no definition {show(name)}."
            f"{did_you_mean(name, target.definitions())}",
            f"reference one of the $defs of {target.file}, or add the definition",
        )


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
