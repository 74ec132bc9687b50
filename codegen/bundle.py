"""Self-contained ("bundled") schemas: one file per top-level contract, no external ``$ref``.

Consumers that cannot resolve references across files (many code generators, simple validators,
browser form libraries) take ``ts/schemas/<Contract>.schema.json``. A bundle's root is
``{"$ref": "#/$defs/<Contract>"}`` and its ``$defs`` hold the contract and every definition it
reaches, the ones from other files (``common``) moved in under their own names. Every ``$ref`` is
then local (``#/$defs/Name``), so a pointer such as ``#/$defs/Job/properties/status`` means the
same in the bundle and in the source file. Definition names are unique across the schema files
(checked here), so moving them in can never clash.

Bundles are what consumers load, so they are plain draft 2020-12:

* **No internal keywords.** Our ``x-`` annotations (``x-sql``, ``x-table``, ``x-python-type``,
  ``x-renamed-from``, and any added later) only drive the generators; they are removed, so a
  strict validator (``new Ajv2020({strict: true})``) accepts every bundle with no extra set-up.
  Only keywords are removed: a property or definition named ``x-...`` and the data in
  ``examples``, ``default``, ``const`` and ``enum`` are kept as they are.
* **One ``$id`` per bundle**, so every bundle loads into one validator instance:
  ``<source $id>/<Contract>.schema.json``, for example
  ``https://schemas.videogen.dev/job/1.0.0/JobStage.schema.json``. The source file's ``$id`` (and
  so the contract version, which a release bumps) is its prefix and the shipped file name its
  last segment (:func:`bundle_id`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from codegen.schemas import SchemaDoc, SchemaSet

__all__ = [
    "BUNDLE_DIR",
    "bundle_contract",
    "bundle_id",
    "compact_json",
    "definition_owners",
    "dumps",
    "generate_bundles",
    "localize",
    "strip_annotations",
]

#: Where the bundles are written (shipped by the npm package in ``ts/``).
BUNDLE_DIR = "ts/schemas"


def definition_owners(schemas: SchemaSet) -> dict[str, SchemaDoc]:
    """Map every definition name to the schema file that defines it.

    Raises:
        ValueError: Two files define the same name (bundles and TypeScript need unique names).
    """
    owners: dict[str, SchemaDoc] = {}
    for doc in schemas.docs:
        for name in doc.definitions():
            if name in owners:
                raise ValueError(
                    f"$defs/{name} is defined in both {owners[name].path.name} and "
                    f"{doc.path.name}: definition names must be unique across schema files"
                )
            owners[name] = doc
    return owners


def localize(schemas: SchemaSet, doc: SchemaDoc, node: Any, reached: set[str]) -> Any:
    """Return a copy of ``node`` with every ``$ref`` rewritten to ``#/$defs/<Name>``.

    Args:
        schemas: The schema set the references resolve in.
        doc: The document ``node`` belongs to (its ``$id`` is the base of relative references).
        node: Any part of a schema.
        reached: Filled with the names of the definitions the references point at.

    Returns:
        The rewritten copy.
    """
    if isinstance(node, list):
        return [localize(schemas, doc, item, reached) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref":
            _, name, _ = schemas.resolve(doc.id, value)
            reached.add(name)
            out[key] = f"#/$defs/{name}"
        else:
            out[key] = localize(schemas, doc, value, reached)
    return out


#: Keywords whose value is a map of names to subschemas (the names are data, not keywords).
_SCHEMA_MAPS = frozenset({"$defs", "properties", "patternProperties", "dependentSchemas"})
#: Keywords whose value is instance data or names, copied as it is.
_DATA = frozenset({"examples", "default", "const", "enum", "required", "dependentRequired"})


def strip_annotations(schema: Any) -> Any:
    """Return a copy of a schema without our internal ``x-`` keywords, at any depth.

    Only keywords go: a property, definition or pattern named ``x-...`` stays, and so does every
    value in ``examples``, ``default``, ``const``, ``enum``, ``required`` and
    ``dependentRequired``.
    """
    if isinstance(schema, list):
        return [strip_annotations(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-"):
            continue
        if key in _DATA:
            out[key] = copy.deepcopy(value)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip_annotations(sub) for name, sub in value.items()}
        else:
            out[key] = strip_annotations(value)
    return out


def bundle_id(doc: SchemaDoc, contract: str) -> str:
    """The ``$id`` of a contract's bundle: ``<source $id>/<Contract>.schema.json``."""
    return f"{doc.id}/{contract}.schema.json"


def bundle_contract(schemas: SchemaSet, doc: SchemaDoc, contract: str) -> dict[str, Any]:
    """Build the self-contained schema of one contract of ``doc``.

    Returns:
        The bundle document: the ``$schema`` of ``doc``, its own ``$id`` (:func:`bundle_id`), root
        ``$ref`` to the contract, and every reachable definition (file order of the sources)
        under ``$defs``, without ``x-`` keywords.
    """
    owners = definition_owners(schemas)
    definitions: dict[str, Any] = {}
    pending = [contract]
    while pending:
        name = pending.pop()
        if name in definitions:
            continue
        owner = owners[name]
        reached: set[str] = set()
        definitions[name] = localize(schemas, owner, owner.definitions()[name], reached)
        pending.extend(sorted(reached - set(definitions)))
    order = [name for d in schemas.docs for name in d.definitions() if name in definitions]
    schema = doc.definitions()[contract]
    return {
        "$schema": doc.document["$schema"],
        "$id": bundle_id(doc, contract),
        "title": schema.get("title", contract),
        "description": schema.get("description", ""),
        "$ref": f"#/$defs/{contract}",
        "$defs": {name: strip_annotations(definitions[name]) for name in order},
    }


def dumps(document: Any) -> str:
    """Serialise JSON the way every generated JSON file is written (2-space indent, newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def compact_json(value: Any, indent: int = 0, width: int = 100, *, key_width: int = 0) -> str:
    """Serialise JSON for reading, compactly.

    What fits in ``width`` stays on one line, long arrays of scalars are packed several to a
    line, everything else is indented by two spaces.

    Used for long examples (an AudioAnalysis of a whole song has hundreds of beat timestamps),
    in the schema sources and on the reference pages.

    Args:
        value: The JSON value.
        indent: The indentation of the line the value starts on.
        width: The line width to keep to.
        key_width: The width of the ``"key": `` in front of the value on its first line.
    """
    one_line = json.dumps(value, ensure_ascii=False)
    if _scalar(value) or indent + key_width + len(one_line) <= width:
        return one_line
    pad = " " * (indent + 2)
    close = " " * indent
    if isinstance(value, list) and all(_scalar(item) for item in value):
        lines: list[str] = []
        current = ""
        for item in value:
            text = json.dumps(item, ensure_ascii=False)
            if current and len(pad) + len(current) + len(text) + 3 > width:
                lines.append(current + ",")
                current = text
            else:
                current = f"{current}, {text}" if current else text
        lines.append(current)
        return "[\n" + "\n".join(pad + line for line in lines) + f"\n{close}]"
    if isinstance(value, list):
        items = [pad + compact_json(item, indent + 2, width) for item in value]
        return "[\n" + ",\n".join(items) + f"\n{close}]"
    members = []
    for key, item in value.items():
        head = f"{json.dumps(key, ensure_ascii=False)}: "
        members.append(pad + head + compact_json(item, indent + 2, width, key_width=len(head)))
    return "{\n" + ",\n".join(members) + f"\n{close}}}"


def generate_bundles(schemas: SchemaSet) -> dict[str, str]:
    """Return ``{"ts/schemas/<Contract>.schema.json": bundle}`` for every top-level contract."""
    outputs: dict[str, str] = {}
    for doc in schemas.docs:
        for contract, _ in doc.contracts():
            bundle = bundle_contract(schemas, doc, contract)
            outputs[f"{BUNDLE_DIR}/{contract}.schema.json"] = dumps(bundle)
    return outputs
